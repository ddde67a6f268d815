#!/bin/sh
# A Debian 13 (trixie) root with Mesa 26's lavapipe from trixie-backports,
# which exposes VK_KHR_cooperative_matrix (8x8x8, fp16 -> fp16/fp32) and
# VK_NV_cooperative_matrix2, and glslang 15, which compiles
# GL_KHR_cooperative_matrix. Debian 12 has neither, so the tensor-core
# kernels are built and tested in this root, on the CPU.
#
#   sh tools/trixie.sh root            make the root (reused when it is there)
#   sh tools/trixie.sh run CMD...      run CMD in the root, in the checkout
#                                      (bind-mounted at /src), as root
#   sh tools/trixie.sh glslang         print the path of a wrapper that runs
#                                      the root's glslangValidator from this
#                                      system (for -DVITVK_GLSLANG=...)
#   sh tools/trixie.sh test            build in build-trixie/ and run the
#                                      cooperative-matrix tests there
#
# The root lives in $VITVK_TRIXIE_ROOT (default /var/tmp/vitvk-trixie),
# outside the checkout, and is about 700 MB. Making it takes a minute or
# two: debootstrap, then the packages below.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
root=${VITVK_TRIXIE_ROOT:-/var/tmp/vitvk-trixie}
mirror=${VITVK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
pkgs="build-essential cmake pkg-config glslang-tools libvulkan-dev libpng-dev libjpeg62-turbo-dev \
      libcjson-dev check vulkan-validationlayers vulkan-tools ca-certificates"

make_root() {
    if [ -f "$root/.vitvk-ready" ]; then
        return 0
    fi
    command -v debootstrap >/dev/null || {
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    rm -rf "$root"
    mkdir -p "$root"
    echo "trixie.sh: debootstrap into $root" >&2
    debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.log" 2>&1 || {
        tail -20 "$root.log" >&2
        echo "trixie.sh: debootstrap failed (log: $root.log)" >&2
        exit 1
    }
    echo "deb $mirror trixie-backports main" >"$root/etc/apt/sources.list.d/backports.list"
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    # shellcheck disable=SC2086
    chroot "$root" /bin/sh -c "export DEBIAN_FRONTEND=noninteractive;
        apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends $pkgs >/dev/null &&
        apt-get install -y -qq --no-install-recommends -t trixie-backports mesa-vulkan-drivers >/dev/null &&
        apt-get clean" >>"$root.log" 2>&1 || {
        tail -20 "$root.log" >&2
        echo "trixie.sh: installing packages in the root failed (log: $root.log)" >&2
        exit 1
    }
    touch "$root/.vitvk-ready"
}

# Mounts /proc, /dev and the checkout for the length of one command. One
# command at a time (a lock beside the root): two checkouts' commands would
# share /src otherwise; a second waits.
run_in_root() {
    make_root
    exec 9>"$root.lock"
    flock 9
    mkdir -p "$root/src"
    mounted=""
    cleanup() {
        for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
    }
    trap cleanup EXIT INT TERM
    for m in proc dev sys; do
        if ! mountpoint -q "$root/$m"; then
            mount --bind "/$m" "$root/$m"
            mounted="$root/$m $mounted"
        fi
    done
    mount --bind "$src" "$root/src"
    mounted="$root/src $mounted"
    rc=0
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM="${TERM:-dumb}" \
        ${CK_DEFAULT_TIMEOUT:+CK_DEFAULT_TIMEOUT=$CK_DEFAULT_TIMEOUT} \
        /bin/sh -c 'cd /src && "$@"' sh "$@" || rc=$?
    cleanup
    trap - EXIT INT TERM
    return $rc
}

case "${1:-}" in
root)
    make_root
    ;;
run)
    shift
    run_in_root "$@"
    ;;
glslang)
    make_root
    w="$root/glslang-host.sh"
    # The root's binary with the root's loader and libraries, so that a
    # Debian 12 build can compile the KHR shaders without a chroot.
    cat >"$w" <<EOF
#!/bin/sh
exec "$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$root/usr/bin/glslangValidator" "\$@"
EOF
    chmod +x "$w"
    echo "$w"
    ;;
test)
    # The build must have the KHR kernels (VITVK_KHR_COOPMAT=ON fails the
    # configure otherwise) and the device must run them: the coopmat
    # tests skip only where a device lacks the feature, and Mesa 26's
    # lavapipe has it, so here a skip is a failure.
    run_in_root sh -c 'set -e
        cmake -S . -B build-trixie -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITVK_KHR_COOPMAT=ON >/dev/null
        cmake --build build-trixie -j"$(nproc)" >/dev/null
        ./build-trixie/vit-vk-cli devices
        rc=0
        ctest --test-dir build-trixie --output-on-failure -L coopmat >build-trixie/coopmat.log 2>&1 || rc=$?
        cat build-trixie/coopmat.log
        [ $rc -eq 0 ]
        if grep -q "Not Run\|Skipped" build-trixie/coopmat.log; then
            echo "trixie.sh test: a cooperative-matrix test skipped on Mesa 26 lavapipe, which has the feature" >&2
            exit 1
        fi'
    ;;
*)
    echo "usage: sh tools/trixie.sh root | run CMD... | glslang | test" >&2
    exit 2
    ;;
esac
