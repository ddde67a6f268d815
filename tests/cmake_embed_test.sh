#!/bin/sh
# vitvk as a game would take it: a five-line parent project that does
# add_subdirectory(vitvk) (tests and tools off by default there), the same
# without image decoding, and an installed copy found with
# find_package(vitvk CONFIG) and with pkg-config.
# Each consumer is a small C program that classifies one digit through the
# public header only (without image decoding: lists the devices, and checks
# that a PNG file is refused), built and run.
#   sh tests/cmake_embed_test.sh SOURCE_DIR WORK_DIR
set -u
src=$1
work=$2
. "$(dirname "$0")/harness.sh"
rm -rf "$work"
mkdir -p "$work/game"
jobs=$(nproc 2>/dev/null || echo 2)
# The game: classify one image through vitvk.h alone, and check the label.
cat >"$work/game/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitvk.h>
/* game MODEL_DIR IMAGE LABEL */
int main(int argc, char **argv)
{
    vitvk_context *ctx;
    vitvk_model *model;
    vitvk_plan *plan;
    char err[512];
    if (argc != 4)
        return 2;
    if (vitvk_context_create(NULL, &ctx, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "game: %s\n", err);
        return 1;
    }
    vitvk_model_desc md = {0};
    vitvk_plan_desc pd = {.batch = 1};
    if (vitvk_model_load(ctx, argv[1], &md, &model) != VITVK_OK || vitvk_plan_create(model, &pd, &plan) != VITVK_OK) {
        fprintf(stderr, "game: %s\n", vitvk_context_last_error(ctx));
        return 1;
    }
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    float *px = malloc(sizeof(float) * info.channels * info.image_height * info.image_width);
    float *logits = malloc(sizeof(float) * info.num_labels);
    if (vitvk_model_preprocess_file(model, argv[2], px) != VITVK_OK ||
        vitvk_plan_run(plan, px, 1, logits, NULL) != VITVK_OK) {
        fprintf(stderr, "game: %s\n", vitvk_context_last_error(ctx));
        return 1;
    }
    uint32_t best = 0;
    for (uint32_t i = 1; i < info.num_labels; i++)
        if (logits[i] > logits[best])
            best = i;
    const char *label = vitvk_model_label(model, best);
    printf("game: %s\n", label);
    int ok = strcmp(label, argv[3]) == 0;
    free(px), free(logits);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);
    return ok ? 0 : 1;
}
C
cat >"$work/devices.c" <<'C'
#include <stdio.h>
#include <vitvk.h>
int main(void)
{
    uint32_t n = 0;
    char err[256];
    if (vitvk_enumerate_devices(NULL, &n, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "devices: %s\n", err);
        return 1;
    }
    printf("devices: %u\n", n);
    return n > 0 ? 0 : 1;
}
C
model="$src/models/digits-vit"
image="$model/samples/7-seven.png"
cat >"$work/game/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(game C)
add_subdirectory($src vitvk)
add_executable(game main.c)
target_link_libraries(game PRIVATE vitvk::vitvk)
CM
run "add_subdirectory: configure (no tests, no tools)" cmake -S "$work/game" -B "$work/game-build"
check "add_subdirectory: no vitvk tests or tools configured" \
    sh -c "! grep -q 'vit-vk-cli\|test_kernels' '$work/game-build/Makefile' '$work/game-build/vitvk/Makefile'"
run "add_subdirectory: build" cmake --build "$work/game-build" -j"$jobs"
run "add_subdirectory: the game classifies a digit" "$work/game-build/game" "$model" "$image" seven

# A game that decodes its own textures: no libpng or libjpeg anywhere.
mkdir -p "$work/noimg"
cp "$work/devices.c" "$work/noimg/main.c"
cat >"$work/noimg/decode.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vitvk.h>
/* decode MODEL_DIR PNG: preprocessing a file must fail, saying why. */
int main(int argc, char **argv)
{
    vitvk_context *ctx;
    vitvk_model *model;
    char err[256];
    if (argc != 3 || vitvk_context_create(NULL, &ctx, err, sizeof err) != VITVK_OK)
        return 2;
    vitvk_model_desc md = {0};
    if (vitvk_model_load(ctx, argv[1], &md, &model) != VITVK_OK)
        return 2;
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    float *px = malloc(sizeof(float) * info.channels * info.image_height * info.image_width);
    vitvk_status st = vitvk_model_preprocess_file(model, argv[2], px);
    printf("decode: %s\n", vitvk_context_last_error(ctx));
    int ok = st == VITVK_ERR_UNSUPPORTED && strstr(vitvk_context_last_error(ctx), "VITVK_IMAGE_IO=OFF") != NULL;
    free(px);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);
    return ok ? 0 : 1;
}
C
cat >"$work/noimg/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(noimg C)
set(VITVK_IMAGE_IO OFF)
add_subdirectory($src vitvk)
add_executable(game main.c)
target_link_libraries(game PRIVATE vitvk::vitvk)
add_executable(decode decode.c)
target_link_libraries(decode PRIVATE vitvk::vitvk)
CM
run "VITVK_IMAGE_IO=OFF: configure and build" sh -c "cmake -S '$work/noimg' -B '$work/noimg-build' &&
    cmake --build '$work/noimg-build' -j$jobs"
run "VITVK_IMAGE_IO=OFF: the game lists the devices" "$work/noimg-build/game"
run "VITVK_IMAGE_IO=OFF: preprocessing a PNG file fails, naming the option" "$work/noimg-build/decode" \
    "$model" "$image"
check "VITVK_IMAGE_IO=OFF: neither libpng nor libjpeg is linked or referenced" sh -c \
    "! ldd '$work/noimg-build/game' | grep -q 'libpng\|libjpeg' &&
     ! nm -u '$work/noimg-build/vitvk/libvitvk.a' | grep -q ' png_\| jpeg_'"

run "install: configure vitvk alone, library only" \
    cmake -S "$src" -B "$work/lib-build" -DVITVK_TESTS=OFF -DVITVK_TOOLS=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix"
run "install: build and install" sh -c "cmake --build '$work/lib-build' -j$jobs && cmake --install '$work/lib-build'"
check "install: header, library, CMake package and pkg-config file" \
    test -f "$work/prefix/include/vitvk.h" -a -n "$(find "$work/prefix" -name libvitvk.a)" \
    -a -n "$(find "$work/prefix" -name vitvkConfig.cmake)" -a -n "$(find "$work/prefix" -name vitvk.pc)" \
    -a -n "$(find "$work/prefix" -name 'libvitvk.so.*')"
mkdir -p "$work/found"
cp "$work/game/main.c" "$work/found/"
cat >"$work/found/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(found C)
find_package(vitvk 0.1 CONFIG REQUIRED)
add_executable(game main.c)
target_link_libraries(game PRIVATE vitvk::vitvk)
CM
run "find_package: configure and build" sh -c "cmake -S '$work/found' -B '$work/found-build' \
    -DCMAKE_PREFIX_PATH='$work/prefix' && cmake --build '$work/found-build'"
run "find_package: the game classifies a digit" "$work/found-build/game" "$model" "$image" seven
pc=$(dirname "$(find "$work/prefix" -name vitvk.pc)")
run "pkg-config: compile and link" sh -c "cc -o '$work/pc-game' '$work/game/main.c' \
    \$(PKG_CONFIG_PATH='$pc' pkg-config --cflags --libs --static vitvk)"
# -lvitvk finds the shared library first, as a user's link would.
run "pkg-config: the game classifies a digit (shared library)" env LD_LIBRARY_PATH="$(dirname "$pc")" \
    "$work/pc-game" "$model" "$image" seven
check "pkg-config: the game uses libvitvk.so" sh -c "ldd '$work/pc-game' | grep -q libvitvk.so"
run "pkg-config --static: the game links the static library and runs" sh -c "cc -o '$work/pc-game-static' \
    '$work/game/main.c' -I'$work/prefix/include' '$(dirname "$pc")/libvitvk.a' \
    \$(PKG_CONFIG_PATH='$pc' pkg-config --libs --static vitvk | sed 's/-lvitvk//') &&
    '$work/pc-game-static' '$model' '$image' seven"
finish
