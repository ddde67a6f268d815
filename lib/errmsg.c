/* errmsg.c - one-line error messages into a caller's buffer. */
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>

void vk_errorf(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}
