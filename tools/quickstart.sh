#!/bin/sh
# Installs what is missing, builds, and classifies the bundled sample digits
# with the bundled model. Run from the repository root:  sh tools/quickstart.sh
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/vit-vk-cli classify --model models/digits-vit --top-k 1 models/digits-vit/samples/*.png
