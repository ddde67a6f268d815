#!/bin/sh
# lavapipe from Debian's bookworm-backports (Mesa 25, the Mesa of Debian 13)
# beside the system's Mesa 22.3, without installing anything: downloads
# mesa-vulkan-drivers and the libdrm it needs into DIR, unpacks them there
# and writes DIR/lvp_icd.json pointing at the unpacked driver. It prints the
# two variables that make vitvk (and its tests) use that driver:
#   sh tools/lavapipe_backports.sh DIR
#   env $(sh tools/lavapipe_backports.sh DIR | tail -1) ./build/vit-vk-cli bench --arch vit-b16
# Needs apt-get and dpkg (Debian 12) and Debian's package servers.
set -eu
dir=$(realpath -m "${1:?usage: lavapipe_backports.sh DIR}")
mkdir -p "$dir/sources" "$dir/state/lists/partial" "$dir/cache/archives/partial" "$dir/root"
cat >"$dir/sources/backports.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Only DIR's own lists and cache: the system's apt state is left alone.
set -- -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/sources" \
    -o "Dir::State=$dir/state" -o "Dir::Cache=$dir/cache" -o APT::Sandbox::User=root
apt-get "$@" -q update >&2
cd "$dir"
rm -f ./*.deb
apt-get "$@" -q download mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports \
    libdrm-amdgpu1/bookworm-backports >&2
for deb in ./*.deb; do dpkg -x "$deb" root; done
lib=$dir/root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$lib/libvulkan_lvp.so\"#" \
    root/usr/share/vulkan/icd.d/lvp_icd.json >lvp_icd.json
ls ./*.deb >&2
echo "VK_ICD_FILENAMES=$dir/lvp_icd.json LD_LIBRARY_PATH=$lib"
