#!/bin/sh
# The Vulkan implementations vitvk is tested on without a GPU, and the
# fixture suite on each.
#
#   sh tools/vehicles.sh list              the vehicles and what they are
#   sh tools/vehicles.sh swiftshader       fetch SwiftShader once (Debian 12's
#                                          chromium-common, unpacked, no browser
#                                          run) and print its ICD file
#   sh tools/vehicles.sh test [--build DIR] VEHICLE...
#                                          run the fixture suite (FIXTURE_TESTS
#                                          below) in DIR (default build/) on
#                                          each vehicle, under the validation
#                                          layer; exit 1 if any fails
#
# Vehicles:
#   lavapipe        Mesa 22.3 (Debian 12), subgroup 8
#   lavapipe-sg4    the same, LP_NATIVE_VECTOR_WIDTH=128: subgroup 4
#   lavapipe-sg16   the same, LP_NATIVE_VECTOR_WIDTH=512: subgroup 16 (the
#                   device line printed first shows the subgroup size)
#   swiftshader     SwiftShader (chromium-common): subgroup 4, 65536 texels,
#                   no 16-bit storage (fp16 checks skip, each saying why)
#   mesa26          Mesa 26.1's lavapipe in the Debian 13 root
#                   (tools/trixie.sh; its own build-trixie/, KHR cooperative
#                   matrices): the fixture suite and the coopmat tests
set -eu
cd "$(dirname "$0")/.."
FIXTURE_TESTS="test_kernels|test_e2e|e2e_gpu_kernels|test_host|test_record|embed_host|cli|digits_logits"
ss_dir=${VITVK_SWIFTSHADER_DIR:-/var/tmp/vitvk-swiftshader}
ss_icd=$ss_dir/usr/lib/chromium/vk_swiftshader_icd.json

swiftshader() {
    [ -f "$ss_icd" ] && return 0
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download chromium-common >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download chromium-common >/dev/null) || {
            rm -rf "$tmp"
            echo "vehicles.sh: cannot download chromium-common (Debian's SwiftShader)" >&2
            exit 1
        }
    }
    mkdir -p "$ss_dir"
    dpkg -x "$tmp"/chromium-common_*.deb "$ss_dir"
    rm -rf "$tmp"
    [ -f "$ss_icd" ] || { echo "vehicles.sh: no $ss_icd in chromium-common" >&2; exit 1; }
}

# The environment of a vehicle, as words for env(1).
vehicle_env() {
    case $1 in
    lavapipe) echo "LP_NATIVE_VECTOR_WIDTH=256" ;;
    lavapipe-sg4) echo "LP_NATIVE_VECTOR_WIDTH=128" ;;
    lavapipe-sg16) echo "LP_NATIVE_VECTOR_WIDTH=512" ;;
    swiftshader) swiftshader && echo "VK_DRIVER_FILES=$ss_icd" ;;
    *) echo "vehicles.sh: unknown vehicle $1 (sh tools/vehicles.sh list)" >&2; return 1 ;;
    esac
}

case "${1:-}" in
list)
    sed -n '/^# Vehicles:/,/^set -eu/p' "$0" | sed '1d;$d;s/^# \{0,3\}//'
    ;;
swiftshader)
    swiftshader
    echo "$ss_icd"
    ;;
test)
    shift
    build=build
    if [ "${1:-}" = "--build" ]; then build=$2; shift 2; fi
    [ $# -gt 0 ] || { echo "usage: sh tools/vehicles.sh test [--build DIR] VEHICLE..." >&2; exit 2; }
    rc=0
    for v in "$@"; do
        start=$(date +%s)
        if [ "$v" = mesa26 ]; then
            sh tools/trixie.sh run sh -c "set -e
                cmake -S . -B build-trixie -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITVK_KHR_COOPMAT=ON >/dev/null
                cmake --build build-trixie -j\$(nproc) >/dev/null
                ./build-trixie/vit-vk-cli devices | head -2
                ctest --test-dir build-trixie --output-on-failure -j2 \
                    -R '^($FIXTURE_TESTS|e2e_coopmat_on|e2e_coopmat_off|e2e_coopmat_fp16acc)\$' \
                    >build-trixie/vehicle.log 2>&1 || { cat build-trixie/vehicle.log; exit 1; }
                grep -E 'tests passed|Passed|Skipped' build-trixie/vehicle.log
                if grep -q 'Not Run\|Skipped' build-trixie/vehicle.log; then
                    echo 'a cooperative-matrix test skipped on Mesa 26 lavapipe, which has the feature' >&2
                    exit 1
                fi" || rc=1
            grep -h -E 'checks? skipped|[0-9]+ skipped$' build-trixie/Testing/Temporary/LastTest.log | sed 's/^/  /' || true
        else
            envs=$(vehicle_env "$v") || exit 2
            # shellcheck disable=SC2086
            env $envs "$build/vit-vk-cli" devices | head -2
            log=$build/vehicle-$v.log
            # shellcheck disable=SC2086
            if env $envs ctest --test-dir "$build" --output-on-failure -j2 -R "^($FIXTURE_TESTS)\$" >"$log" 2>&1; then
                grep -E 'tests passed|Passed' "$log"
            else
                cat "$log"
                rc=1
            fi
            # the skipped checks and why (test_skip.h, harness.sh)
            grep -h -E 'checks? skipped|[0-9]+ skipped$' "$build"/Testing/Temporary/LastTest.log | sed 's/^/  /' || true
        fi
        echo "vehicles.sh: $v: $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
    done
    exit $rc
    ;;
*)
    sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
