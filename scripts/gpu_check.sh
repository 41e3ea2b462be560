#!/usr/bin/env bash
# gpu_check.sh [BUILD_DIR] - every CUDA path of mmbench on a machine with a
# GPU, in a few minutes: build with the toolkit (no dashboard: it needs npm),
# run the device tests (tests/test_device.c: none may be skipped), the
# conformance suite of cuda and cuda-async (their blocks checked through
# copies), a small sweep of both into a temporary database with its figures
# printed and checked, and the refusals (CUDA_VISIBLE_DEVICES="", --verify).
# Exits non-zero at the first failure, saying which.
#
# BUILD_DIR: a build to use as it is (one carried to the machine: it must hold
# mmbench, test_device and test_conformance); default: configure and build
# build-gpu/ here.  Needs cmake, a C compiler, libsqlite3-dev, the CUDA
# toolkit (/usr/local/cuda) and python3 (to read the JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "gpu_check: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }

step "the GPU"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.used,memory.total,driver_version --format=csv,noheader ||
    fail "nvidia-smi cannot read the GPU"
else
  echo "(no nvidia-smi; mmbench list says below whether the runtime sees a device)"
fi
command -v python3 >/dev/null 2>&1 || fail "python3 is needed to read mmbench's JSON"

build=${1:-build-gpu}
if [[ $# -ge 1 ]]; then
  step "using the build in $build"
  for f in mmbench test_device test_conformance; do
    [[ -x "$build/$f" ]] || fail "$build/$f is missing: build it, or run without an argument to build here"
  done
else
  step "build ($build/: RelWithDebInfo, -Werror, CUDA on, dashboard off)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMBENCH_WERROR=ON -DMMBENCH_WITH_CUDA=ON \
    -DMMBENCH_WITH_WEB=OFF >"$build.cmake.log" 2>&1 || { tail -20 "$build.cmake.log"; fail "cmake failed"; }
  cmake --build "$build" -j"$(nproc)" --target mmbench test_device test_conformance >"$build.make.log" 2>&1 ||
    { tail -30 "$build.make.log"; fail "the build failed"; }
fi
grep -q '^#define MMBENCH_HAVE_CUDA 1' "$build/mmb_config.h" ||
  fail "built without the CUDA toolkit (is it at /usr/local/cuda?)"
MMB=$(cd "$build" && pwd)/mmbench

step "mmbench list (both device allocators must be available)"
"$MMB" list | grep -A1 -E '^  cuda' || true
for a in cuda cuda-async; do
  "$MMB" list | grep -qE "^  $a +available " || fail "$a is not available: $("$MMB" list | grep -E "^  $a ")"
done

step "device tests (tests/test_device.c)"
rc=0; out=$(timeout 120 "$build/test_device" 2>&1) || rc=$?
[[ $rc -eq 0 ]] || { echo "$out"; fail "test_device failed (exit $rc; 77: everything skipped)"; }
echo "$out"
if grep -q '^skip gpu_' <<<"$out"; then fail "a GPU test was skipped with a GPU present"; fi

for a in cuda cuda-async; do
  step "conformance suite of $a"
  rc=0; out=$(timeout 120 "$build/test_conformance" "$a" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || { echo "$out"; fail "conformance of $a failed (exit $rc; 77: skipped)"; }
  echo "$out"
done

T=$(mktemp -d /tmp/mmb-gpu.XXXXXX)
trap 'rm -rf "$T"' EXIT
DB="$T/gpu.db"
step "a small sweep of cuda and cuda-async into $DB"
# random: steady state; realloc-grow: device realloc (malloc, copy, free);
# buffers: slices and consumed memory; larson: two threads and the watcher
"$MMB" run --alloc=cuda,cuda-async --workload=random,realloc-grow,buffers --ops=50000 --live=2000 \
  --samples=50 --db="$DB" --json >"$T/runs.json" || fail "the single-threaded sweep failed (exit $?)"
"$MMB" run --alloc=cuda,cuda-async --workload=larson --threads=2 --ops=50000 --live=2000 --samples=50 \
  --db="$DB" --json >>"$T/runs.json" || fail "the multi-threaded sweep failed (exit $?)"
ids=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["run_id"]) for l in open(sys.argv[1])))' \
  "$T/runs.json")
for id in $ids; do "$MMB" show "$id" --db="$DB" --json; echo; done >"$T/show.json"
python3 - "$T/show.json" <<'EOF' || fail "the sweep's figures (above)"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = []
keys = ["ns_per_op", "lat_p50_ns", "peak_live_bytes", "peak_heap_bytes", "frag_jw4", "frag_internal",
        "rss_overhead", "live_blocks", "peak_rss_bytes"]
print("%-10s %-12s %-6s " % ("allocator", "workload", "status") + " ".join("%15s" % k for k in keys))
for r in runs:
    print("%-10s %-12s %-6s " % (r["allocator"], r["workload"], r["status"]) +
          " ".join("%15s" % ("NULL" if r.get(k) is None else "%.6g" % r[k]) for k in keys))
    info = {k: v for k, v in (r.get("run_info") or {}).items() if k.startswith("cuda.")}
    print("    run_info: %s" % info)
    who = "%s on %s" % (r["allocator"], r["workload"])
    if r["status"] != "ok":
        bad.append("%s: %s" % (who, r.get("failure")))
        continue
    if r["params"]["touch"] != "none":
        bad.append("%s: stored with touch %s, but nothing was touched" % (who, r["params"]["touch"]))
    if r.get("rss_overhead") is not None:
        bad.append("%s: rss_overhead %s (R is host memory, H the device's)" % (who, r["rss_overhead"]))
    if not (r.get("peak_heap_bytes") or 0) > 0:
        bad.append("%s: peak_heap_bytes %s, not measured" % (who, r.get("peak_heap_bytes")))
    # one thread: H is read at the moment L peaks, and holds every live block
    if r["params"]["threads"] == 1 and r.get("peak_heap_bytes") and r["peak_heap_bytes"] < r["peak_live_bytes"]:
        bad.append("%s: the device holds less (%s) than is live (%s)" % (who, r["peak_heap_bytes"],
                                                                         r["peak_live_bytes"]))
    if any(v < 0 for v in info.values()):
        bad.append("%s: a negative cuda.* figure in run_info: %s" % (who, info))
    if r["allocator"] == "cuda-async" and "cuda.pool.used_high" not in info:
        bad.append("%s: no cuda.pool.* figures in run_info" % who)
    if r["allocator"] == "cuda" and "cuda.device_used_at_init" not in info:
        bad.append("%s: no cuda.device_used_at_init in run_info" % who)
if len(runs) != 8:
    bad.append("%d runs stored, 8 expected" % len(runs))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF

step "refusals: no visible device, --verify"
set +e
CUDA_VISIBLE_DEVICES= "$MMB" run --alloc=cuda --ops=1000 --db="$T/hidden.db" 2>"$T/err"; rc=$?
set -e
cat "$T/err"
[[ $rc -eq 2 && ! -e "$T/hidden.db" ]] || fail "CUDA_VISIBLE_DEVICES='': exit $rc, expected 2 and no database"
grep -q "allocator cuda is unavailable: no CUDA driver or device (" "$T/err" || fail "CUDA_VISIBLE_DEVICES='': the reason"
set +e
"$MMB" run --alloc=cuda-async --verify --ops=1000 --db="$T/verify.db" 2>"$T/err"; rc=$?
set -e
cat "$T/err"
[[ $rc -eq 2 && ! -e "$T/verify.db" ]] || fail "--verify with cuda-async: exit $rc, expected 2 and no database"

echo
echo "gpu_check: every device path passed"
