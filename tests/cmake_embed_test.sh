#!/bin/sh
# vitvk as a game would take it: a five-line parent project that does
# add_subdirectory(vitvk) (tests and tools off by default there), and an
# installed copy found with find_package(vitvk CONFIG) and with pkg-config.
# Each consumer is a small C program that lists the Vulkan devices through
# the public header only, built and run.
#   sh tests/cmake_embed_test.sh SOURCE_DIR WORK_DIR
set -u
src=$1
work=$2
. "$(dirname "$0")/harness.sh"
rm -rf "$work"
mkdir -p "$work/game"
jobs=$(nproc 2>/dev/null || echo 2)
cat >"$work/game/main.c" <<'C'
#include <stdio.h>
#include <vitvk.h>
int main(void)
{
    uint32_t n = 0;
    char err[256];
    if (vitvk_enumerate_devices(NULL, &n, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "game: %s\n", err);
        return 1;
    }
    printf("game: %u Vulkan device(s)\n", n);
    return n > 0 ? 0 : 1;
}
C
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
run "add_subdirectory: the game runs" "$work/game-build/game"

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
run "find_package: the game runs" "$work/found-build/game"
pc=$(dirname "$(find "$work/prefix" -name vitvk.pc)")
run "pkg-config: compile and link" sh -c "cc -o '$work/pc-game' '$work/game/main.c' \
    \$(PKG_CONFIG_PATH='$pc' pkg-config --cflags --libs --static vitvk)"
# -lvitvk finds the shared library first, as a user's link would.
run "pkg-config: the game runs (shared library)" env LD_LIBRARY_PATH="$(dirname "$pc")" "$work/pc-game"
check "pkg-config: the game uses libvitvk.so" sh -c "ldd '$work/pc-game' | grep -q libvitvk.so"
run "pkg-config --static: the game links the static library and runs" sh -c "cc -o '$work/pc-game-static' \
    '$work/game/main.c' -I'$work/prefix/include' '$(dirname "$pc")/libvitvk.a' \
    \$(PKG_CONFIG_PATH='$pc' pkg-config --libs --static vitvk | sed 's/-lvitvk//') && '$work/pc-game-static'"
finish
