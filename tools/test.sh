#!/bin/sh
# Installs what is missing, builds, and runs the whole test suite twice:
# a release build, then an AddressSanitizer + UndefinedBehaviorSanitizer
# build (every test but the GPU-kernel fixtures on lavapipe and the CMake
# embedding check, which the release build covers: their host code is the
# same; the cli test runs in both, since interpolation and attention
# rollout run only there).
# Every Vulkan test runs under VK_LAYER_KHRONOS_validation.
#   sh tools/test.sh
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVITVK_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -E '^(e2e_gpu_kernels|cmake_embed)$'
