#!/usr/bin/env bash
# bench.sh - the benchmarks quoted in BENCHMARKS.md.  Rerun them with
#   scripts/bench.sh [alloc|buffer|harness|all] [--reps=R]
# Results go to results/bench.db, or $BENCH_DB (a normal mmbench database:
# browse it with `build/mmbench serve --db=results/bench.db`); the tables
# printed are medians over the repetitions and ratios to glibc measured in the
# same sweep.  The binaries are taken from build/, or $BENCH_BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
reps=5
for a in "$@"; do case "$a" in --reps=*) reps=${a#--reps=} ;; esac; done
BUILD=${BENCH_BUILD:-build}
MMB=$BUILD/mmbench
DB=${BENCH_DB:-results/bench.db}
[[ -x $MMB ]] || { echo "bench.sh: build first (cmake -S . -B $BUILD && cmake --build $BUILD)"; exit 2; }
avail=$($MMB list | awk '/^allocators:/{a=1;next} /^$/{a=0} a && $2=="available" {print $1}')
machine() { # what the ratios depend on (BENCHMARKS.md): the CPU, its caches, the code
  local m c
  m=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
  c=$(lscpu 2>/dev/null | awk -F: '/^L[123][di]? cache/ {gsub(/^ +/, "", $2); printf "%s%s %s", sep, $1, $2; sep = ", "}')
  # some VMs hide the cache sizes from lscpu (no sysfs cache directory): ask glibc, which reads CPUID
  [[ -n $c ]] || c=$(getconf -a 2>/dev/null | awk '$1 ~ /^LEVEL[123]_(D)?CACHE_SIZE$/ && $2 > 0 {
      n = $1; sub(/^LEVEL/, "L", n); sub(/_DCACHE_SIZE/, "d", n); sub(/_CACHE_SIZE/, "", n)
      printf "%s%s %s", sep, n, ($2 >= 1048576 ? $2 / 1048576 " MiB" : $2 / 1024 " KiB"); sep = ", "} END { if (sep) printf " (getconf)" }')
  echo "machine: ${m:-unknown CPU}, $(nproc) CPUs; ${c:-caches unknown}; code $($MMB --version | head -1 | sed -n 's/.*(\(.*\)).*/\1/p') (the commit the binary was built from)"
}
pick() { # the available ones of the names given (buffer:NAME when buffer and NAME are)
  local out=() x
  for x in "$@"; do
    if [[ $x == buffer:* ]]; then
      grep -qx 'buffer\[:NAME\]' <<<"$avail" && grep -qx "${x#buffer:}" <<<"$avail" && out+=("$x")
    else
      grep -qx "$x" <<<"$avail" && out+=("$x")
    fi
  done
  (IFS=,; echo "${out[*]}")
}

if [[ $what == alloc || $what == all ]]; then
  allocs=$(pick glibc jemalloc mimalloc tcmalloc firstfit bestfit nextfit segregated)
  for live in 10000 100000 1000000; do
    ops=$(( live * 4 > 4000000 ? live * 4 : 4000000 ))
    echo "bench: random, uniform:16:512, live=$live, ops=$ops, reps=$reps: $allocs" >&2
    $MMB run --alloc="$allocs" --workload=random --sizes=uniform:16:512 --live=$live --ops=$ops \
         --reps="$reps" --db="$DB" --quiet
  done
  # The three sweeps above: take the newest runs of each live count.
  python3 - "$DB" "$reps" <<'PY'
import sqlite3, statistics, sys
db, reps = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
sweeps = [r[0] for r in c.execute("select sweep from runs where workload='random' and sizes='uniform:16:512' group by sweep order by max(id) desc limit 3")]
cols = {r[1] for r in c.execute("pragma table_info(runs)")}
def table(col, title):
    if col not in cols:  # a database from before the metric existed
        return
    rows = c.execute(f"select allocator, live, rep, {col} from runs where status='ok' and {col} is not null and sweep in ({','.join('?'*len(sweeps))})", sweeps).fetchall()
    by, rep = {}, {}
    for a, live, r, v in rows:
        by.setdefault((a, live), []).append(v)
        rep[(a, live, r)] = v
    if not by:
        return
    lives = sorted({l for _, l in by})
    allocs = sorted({a for a, _ in by}, key=lambda a: (a != 'glibc', a))
    med = lambda a, l: statistics.median(by[(a, l)]) if (a, l) in by else float('nan')
    def ratio(a, l):
        """median over the reps of (a's ns/op / glibc's ns/op in the same rep):
        the runs of one rep are adjacent in time, so the machine's drift between
        reps cancels; also the spread of those ratios (lowest .. highest)"""
        r = sorted(rep[(a, l, k)] / rep[('glibc', l, k)] for (x, y, k) in rep if x == a and y == l and ('glibc', l, k) in rep)
        return (statistics.median(r), r[0], r[-1]) if r else (float('nan'),) * 3
    print(f"\n{title} ({col}), random, sizes uniform:16:512: median of {reps} reps; in brackets the")
    print("median over the reps of the ratio to glibc's run in the same rep, and its lowest .. highest\n")
    print("| allocator | " + " | ".join(f"{l:,} live" for l in lives) + " | growth 1e4→1e6 | glibc's growth |")
    print("|---|" + "---|" * (len(lives) + 2))
    g_growth = med('glibc', lives[-1]) / med('glibc', lives[0])
    for a in allocs:
        cells = []
        for l in lives:
            m, lo, hi = ratio(a, l)
            cells.append(f"{med(a,l):.1f} ({m:.2f}×, {lo:.2f}–{hi:.2f})" if a != 'glibc' else f"{med(a,l):.1f}")
        print(f"| {a} | " + " | ".join(cells) + f" | {med(a,lives[-1])/med(a,lives[0]):.2f}× | {g_growth:.2f}× |")
table('steady_ns_per_op', 'ns per request in the steady state, after the ramp-up')
table('ns_per_op', 'ns per request over the whole stream, the ramp-up included')
PY
  echo
  machine
fi

if [[ $what == buffer || $what == all ]]; then
  echo "bench: buffer manager overhead on random" >&2
  $MMB run --alloc="$(pick glibc buffer:glibc jemalloc buffer:jemalloc)" --workload=random --ops=1000000 \
       --live=10000 --reps="$reps" --db="$DB" --quiet
  sb=$(sqlite3 "$DB" "select sweep from runs order by id desc limit 1")
  python3 - "$DB" "$sb" <<'PY'
import sqlite3, statistics, sys
db, sweep = sys.argv[1:3]
c = sqlite3.connect(db)
def med(a, col='ns_per_op'):
    v = [x for (x,) in c.execute(f"select {col} from runs where sweep=? and allocator=? and status='ok'", (sweep, a))]
    return statistics.median(v) if v else float('nan')
print("\nbuffer manager overhead (random, live 1e4, 1e6 requests; median ns/op, peak heap MiB)\n")
print("| allocator | ns/op | over the bare allocator | peak heap |")
print("|---|---|---|---|")
for inner in ("glibc", "jemalloc"):
    for a in (inner, "buffer:" + inner):
        print(f"| {a} | {med(a):.1f} | {med(a)/med(inner):.2f}× | {med(a,'peak_heap_bytes')/2**20:.2f} MiB |")
PY
fi

if [[ $what == harness || $what == all ]]; then
  echo "bench: bump against glibc (not the harness's cost: BENCHMARKS.md section 3) and sampling cost" >&2
  $MMB run --alloc=bump,glibc --workload=random --ops=2000000 --live=10000 --reps="$reps" --db="$DB" --quiet
  s1=$(sqlite3 "$DB" "select sweep from runs order by id desc limit 1")
  $MMB run --alloc=glibc --workload=random --ops=2000000 --live=10000 --reps="$reps" --samples=1 --db="$DB" --quiet
  s2=$(sqlite3 "$DB" "select sweep from runs order by id desc limit 1")
  $MMB run --alloc=glibc --workload=random --ops=2000000 --live=10000 --reps="$reps" --samples=200 --db="$DB" --quiet
  s3=$(sqlite3 "$DB" "select sweep from runs order by id desc limit 1")
  python3 - "$DB" "$s1" "$s2" "$s3" <<'PY'
import sqlite3, statistics, sys
db, s1, s2, s3 = sys.argv[1:5]
c = sqlite3.connect(db)
def med(sweep, alloc, col='ns_per_op'):
    return statistics.median(v for (v,) in c.execute(f"select {col} from runs where sweep=? and allocator=? and status='ok'", (sweep, alloc)))
b, g = med(s1, 'bump'), med(s1, 'glibc')
print(f"\nbump {b:.2f} ns/op, glibc {g:.2f} ns/op → bump takes {100*b/g:.1f}% of glibc's time (not the harness's cost: the bare-loop pairs below measure that)")
one, two = med(s2, 'glibc'), med(s3, 'glibc')
print(f"sampling cost: glibc {one:.2f} ns/op with --samples=1, {two:.2f} ns/op with --samples=200 → {100*(two-one)/one:+.1f}%")
# The sampling pauses themselves are excluded from wall_ns; their length is
# kept per run in run_info.sample_pause_ns.
pause = statistics.median(p / w for p, w in c.execute(
    "select i.value, r.wall_ns from runs r join run_info i on i.run_id = r.id and i.key = 'sample_pause_ns' where r.sweep = ?", (s3,)))
print(f"sampling pauses at --samples=200: {100*pause:.2f}% of the measured time (excluded from wall_ns)")
PY
  # The harness's distortion: what mmbench adds to glibc's ns/op over a bare
  # loop (bench_harness: the same stream, direct malloc/free, a plain pointer
  # array, the same touches, ns/op defined as the harness's), run
  # alternately, one process each, so that both see the same machine.  The
  # bare loop also runs with --prefetch (its pointer array prefetched ahead
  # as the harness prefetches its slot table): against that, the difference
  # is the harness's bookkeeping alone, without the benefit of the prefetch.
  echo "bench: harness distortion (mmbench glibc vs the bare loop, interleaved, $reps times)" >&2
  [[ -x $BUILD/bench_harness ]] || { echo "bench.sh: $BUILD/bench_harness is missing: build it (cmake --build $BUILD)"; exit 2; }
  # 1e7 requests (about 0.1 s measured per run): shorter runs are at the
  # mercy of the machine's noise (single pairs of 2e6-request runs differed by
  # -37% .. +82% on our VM).
  hp=(--workload=random --ops=10000000 --live=10000)
  mm=() bare=() barepf=()
  for ((r = 0; r < reps; r++)); do
    $MMB run --alloc=glibc "${hp[@]}" --db="$DB" --quiet
    IFS='|' read -r v hash status <<<"$(sqlite3 "$DB" "select ns_per_op, stream_hash, status from runs order by id desc limit 1")"
    [[ $status == ok ]] || { echo "bench.sh: the mmbench glibc run failed ($status)"; exit 1; }
    out=$("$BUILD"/bench_harness "${hp[@]}")
    [[ $(awk '$1=="stream_hash"{print $2}' <<<"$out") == "$hash" ]] ||
      { echo "bench.sh: bench_harness generated a different stream than mmbench"; exit 1; }
    mm+=("$v")
    bare+=("$(awk '$1=="ns_per_op"{print $2}' <<<"$out")")
    barepf+=("$("$BUILD"/bench_harness --prefetch "${hp[@]}" | awk '$1=="ns_per_op"{print $2}')")
  done
  python3 - "${mm[*]}" "${bare[*]}" "${barepf[*]}" <<'PY'
import statistics, sys
mm, bare, barepf = ([float(x) for x in a.split()] for a in sys.argv[1:4])
m = statistics.median(mm)
for what, ref in (("bare loop", bare), ("bare loop with --prefetch", barepf)):
    b = statistics.median(ref)
    pairs = sorted((x - y) / y for x, y in zip(mm, ref))
    print(f"harness distortion: mmbench glibc {m:.2f} ns/op, {what} {b:.2f} ns/op (medians of {len(mm)}, interleaved) "
          f"→ {100*(m-b)/b:+.1f}% of glibc's ns per request (target ≤ 5%); median of the per-pair differences "
          f"{100*statistics.median(pairs):+.1f}% (range {100*pairs[0]:+.1f}% .. {100*pairs[-1]:+.1f}%)")
PY
  # The harness loop's own cost, in the same child process: the same runs
  # with MMBENCH_BARE_LOOP=1 are served by a bare malloc/free loop instead
  # (same stream, prefetch, touches and clock; no table, no latency timing).
  # Alternated in both orders (A B, B A) so that neither always runs first.
  echo "bench: the harness loop against the bare loop in the same child (MMBENCH_BARE_LOOP=1), $reps pairs" >&2
  hl=() bl=()
  for ((r = 0; r < reps; r++)); do
    if ((r % 2)); then order="bare harness"; else order="harness bare"; fi
    for w in $order; do
      if [[ $w == bare ]]; then
        MMBENCH_BARE_LOOP=1 $MMB run --alloc=glibc "${hp[@]}" --db="$DB" --quiet
      else
        $MMB run --alloc=glibc "${hp[@]}" --db="$DB" --quiet
      fi
      v=$(sqlite3 "$DB" "select ns_per_op from runs order by id desc limit 1")
      if [[ $w == bare ]]; then bl+=("$v"); else hl+=("$v"); fi
    done
  done
  python3 - "${hl[*]}" "${bl[*]}" <<'PY'
import statistics, sys
hl, bl = ([float(x) for x in a.split()] for a in sys.argv[1:3])
d = sorted((x - y) / y for x, y in zip(hl, bl))
m, b = statistics.median(hl), statistics.median(bl)
print(f"harness loop's own cost: glibc {m:.2f} ns/op through the harness, {b:.2f} through the bare loop in the same child "
      f"(medians of {len(hl)}) → {100*(m-b)/b:+.1f}%; median of the per-pair differences {100*statistics.median(d):+.1f}% "
      f"(range {100*d[0]:+.1f}% .. {100*d[-1]:+.1f}%; target ≤ 5%)")
PY
  "$BUILD"/bench_store 50 1000
fi
