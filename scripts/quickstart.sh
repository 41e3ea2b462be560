#!/usr/bin/env bash
# quickstart.sh - set up a fresh machine, build mmbench, and run a first
# benchmark (every available host allocator on the `random` workload) into
# the default database, results/mmbench.db.  Then: build/mmbench serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
allocs=$(build/mmbench list | awk '/^allocators:/{a=1;next} /^$/{a=0} a && $2=="available" {print $1}' \
         | grep -v -e '^cuda' -e '^buffer' | paste -sd, -)
echo "quickstart: running --alloc=$allocs --workload=random --ops=1e6"
build/mmbench run --alloc="$allocs" --workload=random --ops=1e6 --live=10k
echo
echo "quickstart: results are in results/mmbench.db; browse them with: build/mmbench serve"
echo "quickstart: medians and ratios to glibc as CSV: build/mmbench export --summary --baseline=glibc -o results/summary.csv"
