#!/usr/bin/env bash
# policy_ab.sh - the policy allocators of a base commit (A) against those of
# the working tree (B), in one process, interleaved rep by rep, with glibc as
# the yardstick (tests/bench_policy_ab.c says how and why).
#
#   scripts/policy_ab.sh BASE [POLICY ...] [-- REPS [--live=N --ops=N ...]]
#
# BASE is any commit (e.g. HEAD, HEAD~1, a hash); POLICY defaults to all four;
# REPS to 21; the workload to random, 2M ops, 100,000 live, the defaults of
# `mmbench run` otherwise.  Needs build/ (for the workloads library):
#   cmake -S . -B build && cmake --build build -j
# Example: scripts/policy_ab.sh HEAD segregated -- 31 --live=10000
#
# AB_CFLAGS adds compiler flags to both sides' policy code (e.g. a smaller
# reservation for valgrind: AB_CFLAGS="-DPOL_MAX_RESERVE=((size_t)2<<30)");
# AB_KEEP=DIR copies the binary to DIR/ab, to run under callgrind afterwards:
#   valgrind --tool=callgrind DIR/ab firstfit 1 --ops=8M --live=100000
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ $# -ge 1 ] || { echo "policy_ab: usage: scripts/policy_ab.sh BASE [POLICY ...] [-- REPS [--key=value ...]]" >&2; exit 2; }
base=$1
shift
git rev-parse --verify -q "$base^{commit}" >/dev/null ||
    { echo "policy_ab: '$base' is not a commit of this repository" >&2; exit 2; }
policies=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in
    firstfit | bestfit | nextfit | segregated) policies+=("$1") ;;
    *) echo "policy_ab: unknown policy '$1'; expected firstfit, bestfit, nextfit or segregated" >&2; exit 2 ;;
    esac
    shift
done
[ ${#policies[@]} -gt 0 ] || policies=(firstfit bestfit nextfit segregated)
[ $# -gt 0 ] && shift # the --
reps=${1:-21}
[ $# -gt 0 ] && shift
wl=(--ops=2M --live=100000 "$@")
lib=${POLICY_AB_WL_LIB:-$root/build/workloads/libmmb_wl.a} # the workloads library of a build
[ -f "$lib" ] || { echo "policy_ab: $lib is missing; build first: cmake -S . -B build && cmake --build build -j" >&2; exit 2; }

work=$(mktemp -d /tmp/policy_ab.XXXXXX)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base"
cc=${CC:-cc}
read -r -a xflags <<<"${AB_CFLAGS:-}"
for v in A B; do
    src=$([ $v = A ] && echo "$work/base" || echo "$root")
    # the flags of allocators/policy/CMakeLists.txt and the release build
    $cc -O2 -g -fno-tree-slp-vectorize "${xflags[@]}" -I"$src" -c "$src/allocators/policy/heap.c" -o "$work/$v-heap.o"
    $cc -O2 -g "${xflags[@]}" -I"$src" -c "$src/allocators/policy/tree.c" -o "$work/$v-tree.o"
    $cc -O2 -g "${xflags[@]}" -I"$src" -c "$src/allocators/policy/check.c" -o "$work/$v-check.o"
    ld -r "$work/$v-heap.o" "$work/$v-tree.o" "$work/$v-check.o" -o "$work/$v-all.o"
    nm --defined-only -g "$work/$v-all.o" | awk -v p="${v}_" '{print $3 " " p $3}' >"$work/$v.syms"
    objcopy --redefine-syms="$work/$v.syms" "$work/$v-all.o" "$work/$v-pol.o"
done
$cc -O2 -g -Wall -Wextra -I"$root" "$root/tests/bench_policy_ab.c" "$work/A-pol.o" "$work/B-pol.o" "$lib" \
    -lm -lpthread -o "$work/ab"
if [ -n "${AB_KEEP:-}" ]; then
    mkdir -p "$AB_KEEP" && cp "$work/ab" "$AB_KEEP/ab" && echo "policy_ab: kept the binary as $AB_KEEP/ab"
fi
echo "policy_ab: A = $(git rev-parse --short "$base"), B = the working tree; ${wl[*]}; $reps reps"
for p in "${policies[@]}"; do
    "$work/ab" "$p" "$reps" "${wl[@]}"
done
