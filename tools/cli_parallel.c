/* cli_parallel.c - a parallel for over image slots (cli_parallel.h). */
#include "cli_parallel.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

unsigned cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

typedef struct work {
    size_t count, next; /* next: the first index nobody has taken (atomic) */
    void (*fn)(void *user, size_t k);
    void *user;
} work;

static void *worker(void *arg)
{
    work *w = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
        if (k >= w->count)
            return NULL;
        w->fn(w->user, k);
    }
}

void cli_parallel_for(size_t count, unsigned threads, void (*fn)(void *user, size_t k), void *user)
{
    work w = {.count = count, .next = 0, .fn = fn, .user = user};
    pthread_t t[MAX_THREADS];
    unsigned started = 0;
    /* Threads are made per call: a batch of images takes milliseconds,
     * a thread tens of microseconds. */
    for (unsigned i = 1; i < threads && i < count && started < MAX_THREADS; i++)
        if (pthread_create(&t[started], NULL, worker, &w) == 0)
            started++;
    worker(&w);
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}
