#!/usr/bin/env bash
# test.sh - the test command: set up the machine, build the release
# configuration and the sanitizer configuration (ASan + UBSan), and run every
# test of both with ctest; also compile the -O3 (Release) configuration, whose
# optimiser warns about things -O2's does not.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-browser
jobs=$(nproc)

echo "== release build (build/)"
# -Wall -Wextra are on in every build; the tests make them errors.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMBENCH_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600)

echo "== -O3 build (build-o3/: compiled only, for the warnings that only -O3 finds)"
cmake -S . -B build-o3 -DCMAKE_BUILD_TYPE=Release -DMMBENCH_WERROR=ON >/dev/null
cmake --build build-o3 -j"$jobs"

echo "== sanitizer build (build-asan/: ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMMBENCH_SANITIZE=ON -DMMBENCH_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs" --timeout 900 -LE browser)
