/* png_write.h - RGB8 PNG writing for the CLI's pictures. */
#ifndef VITVK_PNG_WRITE_H
#define VITVK_PNG_WRITE_H
#include <stddef.h>
#include <stdint.h>

/* Writes width x height RGB8 pixels; 0 on success, else -1 with a message. */
int png_write_rgb8(const char *path, const uint8_t *rgb, uint32_t width, uint32_t height, char *err,
                   size_t err_size);
#endif
