#!/bin/sh
# Prepares what the GPU check (tools/device_check.sh) needs on a machine
# that has no compilers or -dev packages: the release binaries and the
# shared libraries they use from this Debian 12 machine (.devpack/), and
# the Vulkan loader packages (.gl/). Both folders are ignored by git and
# travel with the `device` tool's `carry`:
#   sh tools/device_pack.sh
#   device run, carry [".gl", ".devpack"], command "sh tools/device_check.sh"
set -eu
cd "$(dirname "$0")/.."
# VITVK_PACK_CMAKE_ARGS: more configure arguments, e.g. the glslang that
# builds the KHR cooperative-matrix kernels (sh tools/trixie.sh glslang).
# shellcheck disable=SC2086
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${VITVK_PACK_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
rm -rf .devpack
mkdir -p .devpack/bin .devpack/lib
cp build/vit-vk-cli build/embed_host build/tests/test_e2e build/tests/test_kernels build/tests/test_host \
    build/tests/test_record build/tests/compare_tensors .devpack/bin/
command -v vulkaninfo >/dev/null && cp "$(command -v vulkaninfo)" .devpack/bin/
strip .devpack/bin/*
git describe --always --dirty >.devpack/commit
# Everything but the C library and the Vulkan loader (which .gl brings).
for lib in $(ldd .devpack/bin/* | awk '/=> \// {print $3}' | sort -u); do
    case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libvulkan.so.*) ;;
    # the machine's own, newer C++ runtime: the NVIDIA driver loads it too
    libstdc++.so.*|libgcc_s.so.*) ;;
    *) cp -L "$lib" .devpack/lib/ ;;
    esac
done
grep -qx '/.devpack/' .git/info/exclude 2>/dev/null || echo /.devpack/ >>.git/info/exclude
# The loader set the device README names: the Vulkan loader and the GL
# dispatch libraries NVIDIA's ICD loads beside it.
gl_pkgs="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
if [ "$(ls .gl/*.deb 2>/dev/null | wc -l)" -lt 7 ]; then
    grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
    mkdir -p .gl /tmp/amd64/partial
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    apt-get $o update >/dev/null
    # shellcheck disable=SC2086
    (cd .gl && apt-get $o download $gl_pkgs >/dev/null)
fi
du -sh .devpack .gl
