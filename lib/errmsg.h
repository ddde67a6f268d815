/* errmsg.h - the one-line error messages that every parser and loader
 * writes into a caller's buffer. */
#ifndef VITVK_ERRMSG_H
#define VITVK_ERRMSG_H
#include <stddef.h>

/* printf into err (NULL or err_size 0: nothing). Newlines that library
 * messages (libpng, libjpeg, cJSON) may carry become spaces, so that every
 * message stays one line. */
void vk_errorf(char *err, size_t err_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#endif
