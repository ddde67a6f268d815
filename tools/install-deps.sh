#!/bin/sh
# Installs what vitvk needs to build and test on Debian 12 (run as root).
# Only missing packages are installed, so a second run costs nothing.
#   sh tools/install-deps.sh          build and test
#   sh tools/install-deps.sh --fuzz   also clang and libFuzzer (tools/fuzz.sh)
set -eu
pkgs="build-essential cmake pkg-config glslang-tools libvulkan-dev libpng-dev libjpeg62-turbo-dev
      libcjson-dev check mesa-vulkan-drivers vulkan-validationlayers vulkan-tools"
if [ "${1:-}" = "--fuzz" ]; then
    pkgs="$pkgs clang libclang-rt-14-dev"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages:$missing (run as root, or apt-get install them)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
