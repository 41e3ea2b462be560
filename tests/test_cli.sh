#!/usr/bin/env bash
# test_cli.sh MMBENCH - end-to-end tests of the command line and the harness.
# Each check prints "ok"/"FAIL" and the script ends with "N passed, N failed".
set -u
MMB=${1:?usage: test_cli.sh path/to/mmbench}
T=$(mktemp -d /tmp/mmb-cli.XXXXXX)
trap 'umount "$T/tiny" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok()   { echo "ok   $1"; pass=$((pass+1)); }
bad()  { echo "FAIL $1"; fail=$((fail+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
q() { sqlite3 "$1" "$2"; }
asan=0; "$MMB" list | grep -q 'sanitizer builds' && asan=1

# --- help and list ------------------------------------------------------------
for c in list run show export serve; do
  check "help_$c" bash -c "'$MMB' $c --help | grep -qi usage"
done
for c in list run show export serve; do
  check "help_${c}_lists_help" bash -c "'$MMB' $c --help | grep -qE '^  --help +print this help'"
done
check "top_help" bash -c "'$MMB' --help | grep -q serve"
# --version: the commit, then the build and the machine as runs record them
"$MMB" --version >"$T/ver"
check "version_commit_line" grep -qE '^mmbench [0-9.]+ \((unknown|[0-9a-f]{12}(-dirty)?)\)$' "$T/ver"
check "version_build_line" grep -qE '^build: .*(gcc|clang)' "$T/ver"
check "version_machine_line" grep -qE '^machine: .*CPUs.*Linux' "$T/ver"
"$MMB" --version extra >/dev/null 2>"$T/err"
check "version_with_an_argument_exit_2" test $? -eq 2
check "version_with_an_argument_says" grep -q "takes no arguments, not 'extra'" "$T/err"
for c in list run show export serve; do
  check "help_command_$c" bash -c "'$MMB' help $c | grep -q 'usage: mmbench $c'"
done
"$MMB" help run extra >"$T/out" 2>"$T/err"
check "help_with_two_words_exit_2" test $? -eq 2
check "help_with_two_words_says" grep -q "help takes one command at most (mmbench help COMMAND), not 'extra'" "$T/err"
check "run_help_sizes_default_per_workload" bash -c "'$MMB' run --help | grep -q 'default per workload; random: uniform:16:512'"
check "run_help_lists_pareto" bash -c "'$MMB' run --help | grep -q 'pareto:MIN:MAX:ALPHA'"
check "export_help_names_every_loop" bash -c "'$MMB' export --help | tr -s ' \n' ' ' | grep -q 'loop says which loop served it: harness, or bare for MMBENCH_BARE_LOOP.s, with +verify and +debug-heap'"
"$MMB" frobnicate 2>"$T/err"; check "unknown_command_exit_2" test $? -eq 2
out=$("$MMB" list)
for a in firstfit bestfit nextfit segregated glibc jemalloc mimalloc tcmalloc bump cuda cuda-async buffer; do
  check "list_has_$a" grep -qE "^  $a(\[:NAME\])? " <<<"$out"
done
for w in random ramp every-other powerlaw small-objects realloc-grow larson prodcons buffers trace; do
  check "list_has_workload_$w" grep -qE "^  $w(:FILE)? " <<<"$out"
done
# every description starts in one column, a long version (jemalloc's) or not
check "list_descriptions_aligned" python3 -c "
import sys
bad = [l for l in sys.stdin.read().splitlines()
       if ' available ' in l and len(l.split()) > 3 and not (l[54] == ' ' and l[55] != ' ')]
sys.exit(1 if bad else 0)" <<<"$out"
"$MMB" list extra 2>"$T/err"; check "list_positional_exit_2" test $? -eq 2
check "list_positional_says_unexpected" grep -q "unexpected argument 'extra'" "$T/err"
# a usable GPU (the device checks below run), or the reason there is none
gpu=0; grep -qE '^  cuda +available ' <<<"$out" && gpu=1
if [[ $gpu -eq 0 ]]; then
  check "cuda_unavailable_no_device" bash -c "grep -E '^  cuda ' <<<\"\$0\" | grep -qE 'unavailable.*(no CUDA driver or device|no usable CUDA device|older than the CUDA runtime|without the CUDA)'" "$out"
fi
# no GPU here (no nvidia-smi, and the build has the toolkit): the reason says
# so plainly, whatever the runtime's own text (cudaErrorInsufficientDriver
# when libcuda is missing), which follows in parentheses
nogpu=0
if ! command -v nvidia-smi >/dev/null 2>&1 && ! grep -E '^  cuda ' <<<"$out" | grep -q 'without the CUDA toolkit'; then nogpu=1; fi
if [[ $nogpu -eq 1 ]]; then
  for a in cuda cuda-async; do
    check "list_${a}_no_driver_or_device" bash -c "grep -E '^  $a ' <<<\"\$0\" | grep -qE 'unavailable .*\(no CUDA driver or device \([^)]+\)\)\$'" "$out"
  done
fi

# --- bad input: exit 2, one sentence, nothing written ------------------------
DB="$T/bad.db"
expect2() { # name, args...
  local name=$1; shift
  "$MMB" run --db="$DB" "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [[ $rc -eq 2 && ! -e "$DB" && $(wc -l <"$T/err") -eq 1 ]]; then ok "bad_$name"
  else bad "bad_$name (rc=$rc, db exists: $([[ -e $DB ]] && echo yes || echo no), stderr: $(head -c 300 "$T/err"))"; fi
}
expect2 no_alloc
expect2 unknown_alloc --alloc=nosuch
check "unknown_alloc_lists_names" grep -q bestfit "$T/err"
expect2 unknown_workload --alloc=glibc --workload=nosuch
check "unknown_workload_lists_names" grep -q every-other "$T/err"
expect2 ops_word --alloc=glibc --ops=abc
expect2 ops_zero --alloc=glibc --ops=0
expect2 ops_negative --alloc=glibc --ops=-5
expect2 sizes_bad --alloc=glibc --sizes=uniform:512:16
expect2 sizes_unknown --alloc=glibc --sizes=zipf:3
expect2 lifetime_bad --alloc=glibc --lifetime=forever
expect2 touch_bad --alloc=glibc --touch=some
expect2 threads_zero --alloc=glibc --threads=0
expect2 reps_zero --alloc=glibc --reps=0
expect2 samples_zero --alloc=glibc --samples=0
# a count starts with a digit: a leading blank or sign is refused, as --ops refuses it
expect2 reps_leading_blank --alloc=glibc "--reps= 5"
check "reps_leading_blank_says_not_a_count" grep -q "^mmbench run: --reps: ' 5' is not a count; expected an integer from 1 to 10000$" "$T/err"
expect2 samples_leading_blank --alloc=glibc "--samples= 5"
expect2 timeout_leading_sign --alloc=glibc "--timeout=+5"
# a number out of range is called so, not "not a count"; T is a suffix as --help says
"$MMB" run --alloc=glibc --reps=20k --db="$T/never.db" >/dev/null 2>"$T/err"
check "reps_out_of_range_says_so" grep -q "^mmbench run: --reps: 20k is out of range; expected an integer from 1 to 10000$" "$T/err"
"$MMB" run --alloc=glibc --timeout=1T --db="$T/never.db" >/dev/null 2>"$T/err"
check "timeout_t_suffix_out_of_range" grep -q "^mmbench run: --timeout: 1T seconds is out of range" "$T/err"
"$MMB" run --alloc=glibc --samples=x --db="$T/never.db" >/dev/null 2>"$T/err"
check "samples_not_a_count_says_so" grep -q "^mmbench run: --samples: 'x' is not a count" "$T/err"
check "out_of_range_makes_no_db" test ! -e "$T/never.db"
expect2 unknown_option --alloc=glibc --frobnicate=1
expect2 trace_missing --alloc=glibc --workload=trace:$T/nosuch.trace
# an option without its value says so (it is not an unknown option)
for o in reps samples timeout ops live sizes workload; do
  expect2 "${o}_no_value" --alloc=glibc --$o
  check "${o}_no_value_says_so" grep -q -- "--$o needs a value" "$T/err"
done
expect2 positional_argument --alloc=glibc extra
check "positional_argument_says_unexpected" grep -q "unexpected argument 'extra'" "$T/err"
# a value-taking option never swallows the next option as its value
(cd "$T" && "$MMB" run --alloc=glibc --ops=1000 --db --quiet >"$T/out" 2>"$T/err"); rc=$?
check "db_then_option_exit_2" test $rc -eq 2
check "db_then_option_says_needs_value" grep -q -- "--db needs a value" "$T/err"
check "db_then_option_no_file" test ! -e "$T/--quiet"
# an option given twice is refused, not taken as its last value (run
# --alloc=glibc --alloc=jemalloc ran jemalloc alone)
expect2 alloc_given_twice --alloc=glibc --alloc=jemalloc --ops=1000
check "alloc_given_twice_says_so" grep -q "^mmbench run: --alloc is given twice ('glibc' and 'jemalloc'); give it once, with the values separated by commas$" "$T/err"
expect2 ops_given_twice --alloc=glibc --ops=1000 --ops 2000
check "ops_given_twice_says_so" grep -q "^mmbench run: --ops is given twice ('1000' and '2000'); give it once$" "$T/err"
for o in workload:random reps:2 samples:10 timeout:5 sizes:set:64 touch:none; do
  expect2 "${o%%:*}_given_twice" --alloc=glibc --ops=1000 "--${o%%:*}=${o#*:}" "--${o%%:*}=${o#*:}"
done
"$MMB" run --alloc=glibc --ops=1000 --db="$T/twice1.db" --db="$T/twice2.db" >"$T/out" 2>"$T/err"
check "db_given_twice_exit_2" test $? -eq 2
check "db_given_twice_writes_nothing" test ! -e "$T/twice1.db" -a ! -e "$T/twice2.db"
# (the database named, missing, so that none is read whatever happens)
for c in "export -o $T/tw1.csv --output=$T/tw2.csv" "export --runs=1 --runs=2" "export --format=csv --format=json" \
         "export --summary --metrics=wall_ns --metrics=holes" "export --summary --baseline=a --baseline=b" \
         "show 1 --db=$T/tw1.db --db=$T/tw2.db" "serve --port=0 --bind=127.0.0.1 --bind=::1" "serve --port=0 --port=1"; do
  name=$(echo "$c" | awk '{print $1"_"$NF}' | sed "s|$T/||" | tr -c 'a-z0-9_\n' '_')
  extra=(--db="$T/tw1.db"); [[ $c == show* ]] && extra=()
  timeout 10 "$MMB" $c "${extra[@]}" >"$T/out" 2>"$T/err"; rc=$?
  check "twice_${name}_exit_2" test $rc -eq 2
  check "twice_${name}_one_sentence" bash -c "test \$(wc -l <'$T/err') -eq 1 && grep -q 'is given twice' '$T/err' && test ! -s '$T/out'"
done
"$MMB" show 99999999999999999999 --db="$T/tw1.db" >"$T/out" 2>"$T/err"
check "show_huge_id_exit_2" test $? -eq 2
check "show_huge_id_says_out_of_range" grep -q "^mmbench show: RUN_ID 99999999999999999999 is out of range; run ids go from 1 to 9223372036854775807$" "$T/err"
check "twice_export_writes_nothing" test ! -e "$T/tw1.csv" -a ! -e "$T/tw2.csv" -a ! -e "$T/tw1.db"
# -o and --output are one option: the sentence names both, whichever was typed
"$MMB" export --output="$T/tw1.csv" --output="$T/tw2.csv" --db="$T/tw1.db" >"$T/out" 2>"$T/err"
check "twice_output_names_the_option" grep -q "^mmbench export: --output (-o) is given twice ('$T/tw1.csv' and '$T/tw2.csv'); give it once$" "$T/err"
# a --db refused after run created its missing directories removes them again
# (here SQLite finds that 'plain' is a file only once new/a is made)
touch "$T/plain"
"$MMB" run --alloc=glibc --ops=1000 --db="$T/new/a/../../plain/x.db" >"$T/out" 2>"$T/err"
check "db_refused_exit_2" test $? -eq 2
check "db_refused_leaves_no_directory" test ! -e "$T/new"
# bump faults in every byte its stream requests before the run: a stream of
# more than the memory is refused before anything runs (it was killed by the
# OOM killer minutes later, the machine short of memory meanwhile)
expect2 bump_stream_too_big --alloc=glibc,bump --sizes=set:1T --ops=10 --live=1 --touch=first
check "bump_stream_too_big_says_why" grep -q "^mmbench run: allocator bump faults in every byte that workload random requests before its run (it never reuses memory), about 5120.0 GiB, and [0-9.]* GiB are available; use fewer requests (--ops) or smaller --sizes, or leave bump out$" "$T/err"
# the live blocks at a single-threaded stream's peak, written to page by page, are all
# in memory at once: more than the memory is refused (the run was killed by the OOM
# killer, or failed); with --touch=first they need not be
expect2 live_blocks_too_big --alloc=glibc --sizes=set:1T --ops=8 --live=4
check "live_blocks_too_big_says_why" grep -q "^mmbench run: workload random holds about 4096.0 GiB of live blocks at its peak, all written to (--touch=page), and [0-9.]* GiB are available; use smaller --sizes, a smaller --live or --touch=first$" "$T/err"
expect2 live_blocks_too_big_all --alloc=glibc --sizes=set:1T --ops=8 --live=4 --touch=all
rm -f "$DB" "$DB"-* # a bad case that ran (old code) does not fail the checks after it
printf 'a 1 100\nf 2\n' >"$T/bad.trace"
expect2 trace_malformed --alloc=glibc --workload=trace:$T/bad.trace
check "trace_error_names_line" grep -q ':2' "$T/err"
if [[ $gpu -eq 0 ]]; then
  expect2 cuda_no_device --alloc=cuda
  check "cuda_says_why" grep -qiE 'no CUDA driver or device|no usable CUDA device|older than the CUDA runtime|without the CUDA' "$T/err"
fi
# --verify reads every block, which a device allocator's are not to the CPU: refused,
# GPU or not, before anything runs (the run's process turned it off silently)
expect2 cuda_verify --alloc=glibc,cuda --verify --ops=1000
check "cuda_verify_says_why" grep -q "^mmbench run: --verify fills every block and checks its contents, and allocator cuda's memory is on the device, which the CPU cannot read or write; run it without --verify$" "$T/err"
if [[ $nogpu -eq 1 ]]; then
  # a sweep naming CUDA allocators among others: refused before anything runs
  expect2 cuda_among_others --alloc=cuda,glibc,cuda-async,firstfit --ops=1e5
  check "cuda_among_others_says_no_driver_or_device" grep -qE '^mmbench run: allocator cuda is unavailable: no CUDA driver or device \([^)]+\)$' "$T/err"
fi
"$MMB" run --alloc=glibc --ops=1000 --db=/proc/version/x.db >"$T/out" 2>"$T/err"
check "bad_db_path_exit_2" test $? -eq 2
# a --db that is a FIFO or a device is no database: refused at once (reading a
# FIFO's header waited for a writer forever; SQLite on /dev/null wrote
# /dev/null-journal beside it)
mkfifo "$T/db.fifo"
for c in run show export; do
  case $c in run) args=(--alloc=glibc --ops=1000) ;; show) args=(1) ;; export) args=() ;; esac
  timeout 20 "$MMB" $c "${args[@]}" --db="$T/db.fifo" >"$T/out" 2>"$T/err"
  check "fifo_db_${c}_exit_2" test $? -eq 2
  check "fifo_db_${c}_says_so" grep -q "^mmbench $c: $T/db.fifo is a FIFO, not a database file$" "$T/err"
done
journal_before=$([[ -e /dev/null-journal ]] && echo yes)
"$MMB" run --alloc=glibc --ops=1000 --db=/dev/null >"$T/out" 2>"$T/err"
check "device_db_exit_2" test $? -eq 2
check "device_db_says_so" grep -q "^mmbench run: /dev/null is a device, not a database file$" "$T/err"
[[ -z $journal_before ]] && check "device_db_no_side_file" test ! -e /dev/null-journal
# a database of a newer schema is refused and left untouched
NEWER="$T/newer.db"
sqlite3 "$NEWER" "PRAGMA user_version=99; CREATE TABLE x(y);"
sum_before=$(md5sum <"$NEWER")
"$MMB" run --alloc=glibc --ops=1000 --db="$NEWER" >"$T/out" 2>"$T/err"
check "newer_schema_exit_2" test $? -eq 2
check "newer_schema_untouched" test "$sum_before" = "$(md5sum <"$NEWER")"
check "newer_schema_says_newer" grep -qi newer "$T/err"

expect2 sizes_too_large --alloc=glibc --sizes=uniform:16:1e30
expect2 set_empty --alloc=glibc --sizes=set:
# the database keeps the seed as a signed 64-bit INTEGER: 2^63 and above would be stored negative
expect2 seed_2_63 --alloc=glibc --seed=9223372036854775808
check "seed_2_63_says_the_range" grep -q -- "--seed: '9223372036854775808' is out of range; expected an integer from 0 to 9223372036854775807" "$T/err"
expect2 seed_2_64_minus_1 --alloc=glibc --seed=18446744073709551615
# a stream too big for the memory is refused before it is generated (generating it got
# the sweep killed by the out-of-memory killer): 2^32 requests, 2^32 live blocks of 4 KiB
# or more, 16 TiB at least.  ulimit -v only keeps a broken check from taking the machine's
# memory (ASan reserves more address space than that)
( [[ $asan -eq 1 ]] || ulimit -v 8388608
  exec "$MMB" run --db="$DB" --alloc=glibc --ops=4294967296 --live=4294967296 --sizes=uniform:4096:8192 ) >"$T/out" 2>"$T/err"
rc=$?
check "ops_beyond_memory_exit_2_nothing_written" test $rc -eq 2 -a ! -e "$DB" -a "$(wc -l <"$T/err")" -eq 1
check "ops_beyond_memory_says_what_it_needs" grep -qE "^mmbench run: workload random with --ops=4294967296 and --live=4294967296 needs about [0-9.]+ GiB of memory .* and [0-9.]+ GiB are available; use fewer requests \(--ops\)$" "$T/err"

# a database the user may not write or read (needs root to switch to nobody)
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
  RO="$T/ro"; mkdir -p "$RO"; chmod 755 "$RO" "$T"
  "$MMB" run --alloc=glibc --ops=2000 --db="$RO/r.db" --quiet
  sqlite3 "$RO/r.db" "pragma wal_checkpoint(truncate)" >/dev/null; rm -f "$RO/r.db-wal" "$RO/r.db-shm"
  chmod 644 "$RO/r.db"
  sum_before=$(md5sum <"$RO/r.db")
  asnobody "$MMB" run --alloc=glibc --ops=1000 --db="$RO/r.db" >"$T/out" 2>"$T/err"
  check "readonly_db_exit_2" test $? -eq 2
  check "readonly_db_one_sentence" test "$(wc -l <"$T/err")" -eq 1
  check "readonly_db_untouched" test "$sum_before" = "$(md5sum <"$RO/r.db")"
  asnobody "$MMB" show 1 --db="$RO/r.db" >"$T/out" 2>"$T/err"
  check "readonly_db_show_works" test $? -eq 0
  asnobody "$MMB" export --db="$RO/r.db" >"$T/out" 2>"$T/err"
  check "readonly_db_export_works" test "$(wc -l <"$T/out")" -eq 2
  chmod 600 "$RO/r.db"
  asnobody "$MMB" run --alloc=glibc --ops=1000 --db="$RO/r.db" >"$T/out" 2>"$T/err"
  check "unreadable_db_exit_2" test $? -eq 2
  asnobody "$MMB" show 1 --db="$RO/r.db" >"$T/out" 2>"$T/err"
  check "unreadable_db_show_exit_2" test $? -eq 2
  check "unreadable_db_untouched" test "$sum_before" = "$(md5sum <"$RO/r.db")"
  chmod 755 "$T"; chmod 700 "$T"
fi

# a full file system (a small tmpfs; needs root): refused before any run, in one
# sentence, the database untouched and nothing created; one that fills up
# mid-sweep stops the sweep with one sentence, the runs before it kept
if [[ $(id -u) -eq 0 ]] && mkdir -p "$T/tiny" && mount -t tmpfs -o size=256k tmpfs "$T/tiny" 2>/dev/null; then
  "$MMB" run --alloc=bump --ops=1000 --samples=10 --db="$T/tiny/f.db" --quiet
  dd if=/dev/zero of="$T/tiny/fill" bs=4k 2>/dev/null
  sum_before=$(md5sum <"$T/tiny/f.db")
  "$MMB" run --alloc=bump --ops=1000 --db="$T/tiny/f.db" >"$T/out" 2>"$T/err"
  check "full_disk_exit_2" test $? -eq 2
  check "full_disk_one_sentence" test "$(wc -l <"$T/err")" -eq 1
  check "full_disk_says_full" grep -q "the file system holding $T/tiny is full" "$T/err"
  check "full_disk_untouched" test "$sum_before" = "$(md5sum <"$T/tiny/f.db")"
  check "full_disk_no_side_files" test ! -e "$T/tiny/f.db-wal" -a ! -e "$T/tiny/f.db-shm"
  "$MMB" run --alloc=bump --ops=1000 --db="$T/tiny/new/n.db" >"$T/out" 2>"$T/err"
  check "full_disk_new_db_exit_2" test $? -eq 2
  check "full_disk_new_db_nothing_created" test ! -e "$T/tiny/new"
  rm -f "$T/tiny/fill" "$T/tiny/f.db"
  "$MMB" run --alloc=bump,glibc --reps=50 --ops=20000 --samples=2000 --db="$T/tiny/s.db" --quiet 2>"$T/err"
  check "disk_fills_exit_1" test $? -eq 1
  # one sentence, then the run that could not be stored as one JSON line (not lost)
  check "disk_fills_one_sentence" test "$(wc -l <"$T/err")" -eq 2
  check "disk_fills_says_so" grep -qE "^mmbench run: cannot store the run \((bump|glibc) on random\) in $T/tiny/s.db: database or disk is full; the sweep stopped \([0-9]+ finished runs? kept\), and this run's result follows, not stored, as one JSON line:$" "$T/err"
  check "disk_fills_prints_the_run" python3 -c "
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[1])
sys.exit(0 if r['run_id'] is None and r['status'] == 'ok' and r['peak_live_bytes'] > 0 else 1)" "$T/err"
  check "disk_fills_db_sound" test "$(q "$T/tiny/s.db" "pragma integrity_check")" = ok
  umount "$T/tiny"
fi

# --- a good sweep ----------------------------------------------------------------
DB="$T/good.db"
"$MMB" run --alloc=bump,glibc --ops=20000 --live=1000 --reps=2 --samples=50 --json --db="$DB" >"$T/runs.jsonl" 2>"$T/err"
check "sweep_exit_0" test $? -eq 0
check "sweep_4_json_lines" test "$(wc -l <"$T/runs.jsonl")" -eq 4
check "sweep_all_ok" test "$(grep -c '"status":"ok"' "$T/runs.jsonl")" -eq 4
for k in run_id allocator allocator_version workload status wall_ns ns_per_op ops_per_sec steady_ns_per_op lat_p50_ns \
         lat_p99_ns lat_p999_ns lat_max_ns peak_live_bytes peak_heap_bytes rss_baseline_bytes \
         peak_rss_bytes final_rss_bytes frag_jw1 frag_jw2 frag_jw3 frag_jw4 rss_overhead \
         frag_internal frag_external free_largest_ratio holes live_blocks holes_per_live; do
  check "json_has_$k" grep -q "\"$k\":" <(head -1 "$T/runs.jsonl")
done
check "interleaved_order" test "$(q "$DB" "select group_concat(allocator) from (select allocator from runs order by id)")" = "bump,glibc,bump,glibc"
check "same_stream_for_all" test "$(q "$DB" "select count(distinct stream_hash) from runs")" -eq 1
check "same_peak_live_for_all" test "$(q "$DB" "select count(distinct peak_live_bytes) from runs")" -eq 1
check "samples_stored" test "$(q "$DB" "select min(c) >= 50 and max(c) <= 52 from (select count(*) c from samples group by run_id)")" -eq 1
# the ramp-up of --live=1000 ends after request 1000: a sample there, and the
# time per request after it, which excludes the ramp-up's time
check "sample_at_ramp_end" test "$(q "$DB" "select count(*) from samples where op_index = 1000")" -eq 4
check "steady_ns_per_op_after_ramp" test "$(q "$DB" "select count(*) from runs r where steady_ns_per_op > 0 and abs(steady_ns_per_op * (20000 - 1000) - (wall_ns - (select elapsed_ns from samples where run_id = r.id and op_index = 1000))) < 2")" -eq 4
check "sample_series_monotonic" test "$(q "$DB" "select count(*) from samples a join samples b on a.run_id=b.run_id and b.idx=a.idx+1 where b.op_index <= a.op_index")" -eq 0
# (under ASan, ASan serves malloc and glibc's statistics are unknown)
[[ $asan -eq 0 ]] && check "glibc_heap_known" test "$(q "$DB" "select count(*) from runs where allocator='glibc' and peak_heap_bytes > 0")" -eq 2
check "glibc_holes_null_not_zero" test "$(q "$DB" "select count(*) from runs where allocator='glibc' and holes is null")" -eq 2
check "host_and_version_kept" test "$(q "$DB" "select count(*) from runs where host <> '' and mmbench_version <> '' and git_rev <> ''")" -eq 4
# where the figures come from: the machine and the build, for every run
check "machine_recorded" test "$(q "$DB" "select count(*) from runs where machine like '%CPUs%' and machine like '%Linux%'")" -eq 4
check "build_recorded" test "$(q "$DB" "select count(*) from runs where build like '%gcc%' or build like '%clang%'")" -eq 4
# the compiler and the sanitizer mark before the flags, which are what a long
# string loses
check "build_flags_last" python3 -c "
import re, sys
b = sys.argv[1]
sys.exit(0 if re.match(r'^[^,;]+, (gcc|clang) [^;]*(; flags .*)?$', b) else 1)" "$(q "$DB" "select build from runs limit 1")"
if [[ $asan -eq 1 ]]; then
  check "build_says_sanitizers" test "$(q "$DB" "select count(*) from runs where build like '%ASan+UBSan%'")" -eq 4
else
  check "build_says_no_sanitizers" test "$(q "$DB" "select count(*) from runs where build like '%ASan%'")" -eq 0
fi
# git_rev is the commit the binary was built from, taken at build time (a
# configure-time hash went stale with every later commit)
SRC=$(cd "$(dirname "$0")/.." && pwd)
if head=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null); then
  got=$(q "$DB" "select distinct git_rev from runs")
  check "git_rev_is_the_built_commit" test "${got%-dirty}" = "$head"
fi
# cmake/gitrev.cmake itself: a clean tree, a modified one, no repository
if command -v git >/dev/null && command -v cmake >/dev/null; then
  G="$T/gitrev"; mkdir -p "$G/repo"
  git -C "$G/repo" init -q && echo a >"$G/repo/f" && git -C "$G/repo" add f &&
    git -C "$G/repo" -c user.name=t -c user.email=t@example.org commit -qm one
  gitrev() { cmake -DSRC="$1" -DGIT="$(command -v git)" -DOUT="$G/h" -P "$SRC/cmake/gitrev.cmake" && sed -n 's/.*REV "\(.*\)"/\1/p' "$G/h"; }
  h1=$(git -C "$G/repo" rev-parse --short=12 HEAD)
  check "gitrev_clean" test "$(gitrev "$G/repo")" = "$h1"
  echo b >"$G/repo/f"
  check "gitrev_modified_is_dirty" test "$(gitrev "$G/repo")" = "$h1-dirty"
  git -C "$G/repo" -c user.name=t -c user.email=t@example.org commit -qam two
  h2=$(git -C "$G/repo" rev-parse --short=12 HEAD)
  check "gitrev_follows_new_commit" test "$(gitrev "$G/repo")" = "$h2"
  mkdir -p "$G/plain"
  check "gitrev_no_repository_unknown" test "$(gitrev "$G/plain")" = unknown
fi
check "wal_mode" test "$(q "$DB" "pragma journal_mode")" = wal

# show and export
id=$(q "$DB" "select min(id) from runs")
check "show_ok" bash -c "'$MMB' show $id --db='$DB' | grep -q 'ns per request'"
"$MMB" show 99999 --db="$DB" >/dev/null 2>"$T/err"; check "show_unknown_exit_2" test $? -eq 2
"$MMB" show abc --db="$DB" >/dev/null 2>"$T/err"; check "show_bad_id_exit_2" test $? -eq 2
"$MMB" export --db="$DB" -o "$T/runs.csv"; check "export_csv_exit_0" test $? -eq 0
check "export_csv_rows" test "$(wc -l <"$T/runs.csv")" -eq 5
check "export_csv_rectangular" python3 -c "
import csv,sys
rows=list(csv.reader(open('$T/runs.csv')))
sys.exit(0 if len({len(r) for r in rows})==1 and 'frag_jw4' in rows[0] else 1)"
"$MMB" export --db="$DB" --samples -o "$T/samples.csv"; check "export_samples_exit_0" test $? -eq 0
check "export_samples_rows" test "$(wc -l <"$T/samples.csv")" -gt 200
"$MMB" export --db="$DB" --format=json >"$T/runs.json"; check "export_json_valid" python3 -c "import json; d=json.load(open('$T/runs.json')); assert len(d)==4"
"$MMB" export --db="$DB" --runs=1,99999 >/dev/null 2>"$T/err"; check "export_unknown_run_exit_2" test $? -eq 2
# a run listed twice would be counted twice in the summary (and its rows repeated)
"$MMB" export --db="$DB" --runs=1,1,1,2 --summary -o "$T/dup.csv" >"$T/out" 2>"$T/err"
check "export_run_twice_exit_2" test $? -eq 2
check "export_run_twice_one_sentence" test "$(wc -l <"$T/err")" -eq 1
check "export_run_twice_says_which" grep -q -- "--runs lists run 1 more than once" "$T/err"
check "export_run_twice_writes_nothing" test ! -e "$T/dup.csv" -a ! -s "$T/out"
"$MMB" export --db="$DB" --runs=2,3,02 >"$T/out" 2>"$T/err"
check "export_run_twice_plain_exit_2" test $? -eq 2
# a metric named twice likewise (it was dropped silently)
"$MMB" export --db="$DB" --summary --metrics=ns_per_op,holes,ns_per_op -o "$T/dupm.csv" >"$T/out" 2>"$T/err"
check "export_metric_twice_exit_2" test $? -eq 2
check "export_metric_twice_says_which" grep -q "^mmbench export: --metrics names ns_per_op more than once; name each metric once$" "$T/err"
check "export_metric_twice_writes_nothing" test ! -e "$T/dupm.csv" -a ! -s "$T/out"
# the summary of the sweep above (bump and glibc, two reps): the baseline's
# own ratio is 1, the peak live bytes (a fact of the stream) the same for both
"$MMB" export --db="$DB" --summary --baseline=glibc --metrics=peak_live_bytes,ns_per_op -o "$T/sum.csv"
check "export_summary_exit_0" test $? -eq 0
check "export_summary_rows" python3 -c "
import csv
rows = list(csv.DictReader(open('$T/sum.csv')))
assert len(rows) == 4, rows
assert [r['allocator'] for r in rows] == ['glibc', 'glibc', 'bump', 'bump'], rows
assert all(r['runs'] == '2' and r['n'] == '2' and r['ratio_n'] == '2' for r in rows), rows
assert all(r['ratio_median'] == '1' for r in rows if r['allocator'] == 'glibc' or r['metric'] == 'peak_live_bytes'), rows
assert len({r['median'] for r in rows if r['metric'] == 'peak_live_bytes'}) == 1, rows
"
# one distribution spelled two ways is one stream (the same hash): one row per
# allocator, its runs together, --sizes written one way (binary suffixes)
ZDB="$T/spell.db"
"$MMB" run --alloc=glibc,bump --sizes=uniform:1k:2k --ops=2000 --live=100 --db="$ZDB" --quiet
"$MMB" run --alloc=glibc,bump --sizes=uniform:1024:2048 --ops=2000 --live=100 --db="$ZDB" --quiet
"$MMB" run --alloc=glibc --sizes=set:16,4096,3e3 --ops=2000 --live=100 --db="$ZDB" --quiet
"$MMB" run --alloc=glibc --sizes=set:16,4k,3000 --ops=2000 --live=100 --db="$ZDB" --quiet
# the same stream, too: pow2 by the powers it draws, one size however given,
# a MU of -0 (each pair has one stream hash)
for z in pow2:100:1000 pow2:128:512 uniform:64:64 set:64,64 lognormal:-0:1 lognormal:0:1; do
  "$MMB" run --alloc=glibc --sizes=$z --ops=2000 --live=100 --db="$ZDB" --quiet
done
"$MMB" export --db="$ZDB" --summary --baseline=glibc --metrics=ns_per_op -o "$T/spell.csv"
check "export_summary_sizes_spelled_two_ways_one_stream" python3 -c "
import csv, sys
rows = [(r['sizes'], r['allocator'], r['runs'], r['ratio_n']) for r in csv.DictReader(open(sys.argv[1]))]
want = [('set:16,4k,3000', 'glibc', '2', '2'), ('uniform:1k:2k', 'glibc', '2', '2'), ('uniform:1k:2k', 'bump', '2', '2'),
        ('pow2:128:512', 'glibc', '2', '2'), ('set:64', 'glibc', '2', '2'), ('lognormal:0:1', 'glibc', '2', '2')]
sys.exit(0 if sorted(rows) == sorted(want) else print(rows) or 1)" "$T/spell.csv"
"$MMB" export --db="$DB" --summary --baseline=nosuch >"$T/out" 2>"$T/err"
check "export_summary_unknown_baseline_exit_2" test $? -eq 2
check "export_summary_unknown_baseline_says" grep -q "no run of allocator 'nosuch'" "$T/err"
# -o onto something that is not a regular file writes through it, never replaces it
ln -s "$T/target.csv" "$T/link.csv"
"$MMB" export --db="$DB" -o "$T/link.csv"; check "export_symlink_exit_0" test $? -eq 0
check "export_symlink_kept" test -L "$T/link.csv"
check "export_symlink_target_written" test "$(wc -l <"$T/target.csv")" -eq 5
ln -s /dev/null "$T/null.csv"
"$MMB" export --db="$DB" -o "$T/null.csv"; check "export_devnull_exit_0" test $? -eq 0
check "export_devnull_link_kept" test -L "$T/null.csv"
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/fifo.out" & reader=$!
timeout 10 "$MMB" export --db="$DB" -o "$T/fifo"; check "export_fifo_exit_0" test $? -eq 0
wait "$reader"
check "export_fifo_kept" test -p "$T/fifo"
check "export_fifo_rows" test "$(wc -l <"$T/fifo.out")" -eq 5
(cd "$T" && "$MMB" export --db="$DB" -o --samples >/dev/null 2>"$T/err"); check "export_o_then_option_exit_2" test $? -eq 2
check "export_o_then_option_no_file" test ! -e "$T/--samples"
# serve: a port is plain digits; an option without its value says so
timeout 5 "$MMB" serve --port=8k --db="$DB" >/dev/null 2>"$T/err"; check "serve_port_suffix_exit_2" test $? -eq 2
timeout 5 "$MMB" serve --port=1e3 --db="$DB" >/dev/null 2>"$T/err"; check "serve_port_exponent_exit_2" test $? -eq 2
timeout 5 "$MMB" serve --port=99999 --db="$DB" >/dev/null 2>"$T/err"; check "serve_port_range_exit_2" test $? -eq 2
timeout 5 "$MMB" serve --db >/dev/null 2>"$T/err"; check "serve_db_no_value_exit_2" test $? -eq 2
check "serve_db_no_value_says_so" grep -q -- "--db needs a value" "$T/err"
timeout 5 "$MMB" serve extra --db="$DB" >/dev/null 2>"$T/err"; check "serve_positional_exit_2" test $? -eq 2
check "serve_positional_says_unexpected" grep -q "unexpected argument 'extra'" "$T/err"

# --- policy allocators: heap map and composition ---------------------------------
"$MMB" run --alloc=bestfit,firstfit,nextfit,segregated --workload=random --ops=30000 --live=2000 --db="$DB" --quiet
check "policy_runs_ok" test $? -eq 0
check "policy_heap_blocks" test "$(q "$DB" "select count(distinct run_id) from heap_blocks")" -eq 4
check "policy_composition" test "$(q "$DB" "select count(distinct r.id) from composition c join runs r on r.id=c.run_id where r.allocator in ('bestfit','firstfit','nextfit','segregated') and c.category='payload'")" -eq 4
check "policy_holes_known" test "$(q "$DB" "select count(*) from runs where allocator='bestfit' and holes is not null and frag_external is not null")" -eq 1
check "policy_heap_matches_payload" test "$(q "$DB" "select count(*) from runs r where allocator='bestfit' and (select sum(size) from heap_blocks where run_id=r.id and used=1) > 0")" -eq 1

# --- metrics by hand, on traces small enough to follow block by block ---------------
# firstfit (allocators/policy/README.md): a block for n bytes is max(32, round_up(n + 8, 16)),
# blocks start at offset 8, the first 1 MiB chunk gives a top of 1048560 bytes.
MDB="$T/metrics.db"
near() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(a - b) <= 1e-9 * max(1, abs(b)) else 1)" "$1" "$2"; }
# blocks 1008 used, 1008 free (a hole), 300016 used, top 746528 at the peak (request 4)
printf 'a 1 1000\na 2 1000\nf 1\na 3 300000\nf 3\n' >"$T/hole.trace"
"$MMB" run --alloc=firstfit --workload=trace:$T/hole.trace --samples=4 --db="$MDB" --quiet
id=$(q "$MDB" "select max(id) from runs")
check "metrics_hole_peak_live" test "$(q "$MDB" "select peak_live_bytes from runs where id=$id")" -eq 301000
# a trace file whose name holds a comma, in a list with a named workload
cp "$T/hole.trace" "$T/ho,le.trace"
"$MMB" run --alloc=firstfit --workload="trace:$T/ho,le.trace,random" --ops=2000 --live=100 --db="$MDB" --quiet
check "trace_name_with_comma_runs" test $? -eq 0
check "trace_name_with_comma_recorded" test "$(q "$MDB" "select count(*) from runs where trace = '$T/ho,le.trace'")" -eq 1
# a figure a run could not measure prints as n/a, as in show (a 5-request
# trace has no latency sample)
"$MMB" run --alloc=firstfit --workload=trace:$T/hole.trace --db="$MDB" >"$T/out" 2>&1
check "run_prints_na_not_nan" bash -c "grep -q 'p99 n/a' '$T/out' && ! grep -qi 'nan' '$T/out'"
# a trace replays its own sizes and frees: --sizes (for random here), the seed
# and the lifetime are not recorded as the trace's
check "trace_records_no_seed_sizes_lifetime" test "$(q "$MDB" "select count(*) from runs where trace = '$T/ho,le.trace' and seed is null and sizes is null and lifetime is null and params like '%\"sizes\":null%'")" -eq 1
check "random_beside_trace_keeps_its_own" test "$(q "$MDB" "select count(*) from runs where workload = 'random' and seed = 42 and sizes is not null")" -ge 1
"$MMB" run --alloc=firstfit --workload="trace:$T/no,such.trace" --db="$MDB" --quiet 2>"$T/err"
check "trace_missing_with_comma_exit_2" test $? -eq 2
check "trace_missing_with_comma_names_first_part" grep -q "$T/no: cannot open the trace" "$T/err"
# a trace run records the trace's length and live count, not the defaults of --ops and --live
check "trace_records_its_ops_and_live" test "$(q "$MDB" "select ops||' '||live from runs where id=$id")" = "5 2"
# a trace is named by its canonical path: trace:x and trace:./x are one
# workload (refused as listed twice), and a relative name is stored absolute
(cd "$T" && "$MMB" run --alloc=firstfit --workload=trace:hole.trace,trace:./hole.trace --db="$MDB" --quiet) 2>"$T/err"
check "trace_two_spellings_exit_2" test $? -eq 2
check "trace_two_spellings_listed_twice" grep -q "trace:$(realpath "$T/hole.trace") is listed twice" "$T/err"
(cd "$T" && "$MMB" run --alloc=firstfit --workload=trace:./hole.trace --db="$MDB" --quiet)
check "trace_relative_stored_absolute" test "$(q "$MDB" "select trace from runs where id=(select max(id) from runs)")" = "$(realpath "$T/hole.trace")"
# a short name whose canonical path is longer than a run records (1023
# characters) stays as typed: it used to be refused as too long
deep="$T"; for i in 1 2 3 4 5 6 7 8 9 10 11; do deep="$deep/$(printf 'd%.0s' {1..95})"; done
mkdir -p "$deep" && cp "$T/hole.trace" "$deep/hole.trace"
(cd "$deep" && "$MMB" run --alloc=firstfit --workload=trace:hole.trace --db="$MDB" --quiet)
check "trace_deep_short_name_runs" test $? -eq 0
check "trace_deep_short_name_stored_as_typed" test "$(q "$MDB" "select trace from runs where id=(select max(id) from runs)")" = hole.trace
check "metrics_hole_heap_map" test "$(q "$MDB" "select group_concat(offset||':'||size||':'||used, ' ') from (select * from heap_blocks where run_id=$id order by seq)")" = "8:1008:0.0 1016:1008:1.0 2024:300016:1.0 302040:746528:0.0"
# the parts of the composition add up to H: the 16 bytes outside every block
# (the pad below the first block, the end marker) are a part of their own
check "metrics_hole_composition_adds_up_to_h" test "$(q "$MDB" "select (select sum(bytes) from composition where run_id=$id and category<>'retained') = peak_heap_bytes from runs where id=$id")" = 1
check "metrics_hole_composition_outside_blocks" test "$(q "$MDB" "select cast(bytes as int) from composition where run_id=$id and label like 'outside the blocks%'")" = 16
check "metrics_hole_holes_live_blocks" test "$(q "$MDB" "select holes||' '||live_blocks from runs where id=$id")" = "1 2"
check "metrics_hole_frag_internal" near "$(q "$MDB" "select frag_internal from runs where id=$id")" "$(python3 -c 'print(24/301024)')"
check "metrics_hole_free_largest_ratio" near "$(q "$MDB" "select free_largest_ratio from runs where id=$id")" "$(python3 -c 'print(1 - 746528/747536)')"
check "metrics_hole_frag_external" near "$(q "$MDB" "select frag_external * peak_heap_bytes from runs where id=$id")" 747536
check "metrics_hole_jw2_jw3_jw4" test "$(q "$MDB" "select count(*) from runs where id=$id and abs(frag_jw2 - (peak_heap_bytes / 301000.0 - 1)) < 1e-9 and frag_jw3 = frag_jw2 and frag_jw4 = frag_jw2")" -eq 1
# samples=4 of 5 requests: after 1, 2, 3, 5 requests, and at the peak (4), which is not
# evenly spaced: JW #1 is the mean over the other four
check "metrics_hole_sample_points" test "$(q "$MDB" "select group_concat(op_index) from (select op_index from samples where run_id=$id order by idx)")" = "1,2,3,4,5"
check "metrics_hole_jw1_evenly_spaced" near "$(q "$MDB" "select frag_jw1 from runs where id=$id")" "$(q "$MDB" "select avg(frag) from samples where run_id=$id and op_index <> 4")"
# bump's H, like the policy allocators', counts its metadata: one 1 MiB chunk carved and
# its side bitmap of block starts (8 bytes per KiB)
"$MMB" run --alloc=bump --workload=trace:$T/hole.trace --samples=4 --db="$MDB" --quiet
check "metrics_bump_heap_counts_metadata" test "$(q "$MDB" "select peak_heap_bytes from runs where id=(select max(id) from runs)")" -eq 1056768
# the heap grows to 2 MiB after L peaked: JW #2 at the peak (1000000 live), JW #3 at the
# largest heap (800000 live), JW #4 from the two maxima
printf 'a 1 300000\na 2 300000\na 3 400000\nf 1\nf 3\na 4 500000\n' >"$T/grow.trace"
"$MMB" run --alloc=firstfit --workload=trace:$T/grow.trace --samples=4 --db="$MDB" --quiet
id=$(q "$MDB" "select max(id) from runs")
h1=$(q "$MDB" "select heap_bytes from samples where run_id=$id and op_index=3")
check "metrics_grow_heap_grew" test "$(q "$MDB" "select peak_heap_bytes - $h1 >= 1048576 from runs where id=$id")" -eq 1
check "metrics_grow_jw2" near "$(q "$MDB" "select frag_jw2 from runs where id=$id")" "$(python3 -c "print($h1 / 1000000 - 1)")"
check "metrics_grow_jw3" near "$(q "$MDB" "select frag_jw3 + 1 - peak_heap_bytes / 800000.0 from runs where id=$id")" 0
check "metrics_grow_jw4" near "$(q "$MDB" "select frag_jw4 + 1 - peak_heap_bytes / 1000000.0 from runs where id=$id")" 0
check "metrics_grow_frag_internal" near "$(q "$MDB" "select frag_internal from runs where id=$id")" "$(python3 -c 'print(48/1000048)')"
check "metrics_grow_frag_external" near "$(q "$MDB" "select frag_external from runs where id=$id")" "$(python3 -c "print(48512 / $h1)")"
check "metrics_grow_no_holes_at_peak" test "$(q "$MDB" "select holes||' '||live_blocks||' '||free_largest_ratio from runs where id=$id")" = "0 3 0.0"
# holes_per_live: samples=4 of 8 requests, after 2, 4, 6, 8 requests, and the peak after 3
# (not evenly spaced). Holes/live: 1/2 after 4, 2/2 after 6, 1/2 after 8; the second half
# of the run is after 6 and 8: (1 + 1/2) / 2 (the same for the three policies here)
printf 'a 1 100\na 2 100\na 3 100\nf 2\na 4 16\nf 1\na 5 16\nf 3\n' >"$T/holes.trace"
"$MMB" run --alloc=firstfit,bestfit,segregated --workload=trace:$T/holes.trace --samples=4 --db="$MDB" --quiet
check "metrics_holes_samples" test "$(q "$MDB" "select group_concat(op_index||':'||holes||'/'||live_blocks) from (select * from samples where run_id=(select max(id) from runs) order by idx)")" = "2:0/2,3:0/3,4:1/2,6:2/2,8:1/2"
check "metrics_holes_per_live_second_half" test "$(q "$MDB" "select count(*) from runs where workload='trace' and trace like '%holes.trace' and holes_per_live = 0.75")" -eq 3
# 300 mallocs of 16 bytes, then 300 frees in order: after 300 + i frees there is one hole
# below 300 - i live blocks; the second half's samples (every 3 requests) average
# 1/3, 1/6, ..., 1/297 (the last, with no live block, is left out)
python3 -c "
for i in range(300): print('a', i, 16)
for i in range(300): print('f', i)" >"$T/drain.trace"
"$MMB" run --alloc=firstfit,bump --workload=trace:$T/drain.trace --db="$MDB" --quiet
check "metrics_drain_holes_per_live" near "$(q "$MDB" "select holes_per_live from runs where allocator='firstfit' and trace like '%drain.trace'")" "$(python3 -c 'print(sum(1 / (3 * m) for m in range(1, 100)) / 99)')"
check "metrics_drain_bump_holes_null" test "$(q "$MDB" "select count(*) from runs where allocator='bump' and trace like '%drain.trace' and holes is null and holes_per_live is null and frag_internal is null and live_blocks = 300")" -eq 1
# every 256th request is timed (255 and 511): p50 is the faster; two requests
# are too few for a p99 or a p99.9 (nearest rank: each would be the slower,
# the maximum under another name), so those are NULL
check "metrics_drain_latency_samples" test "$(q "$MDB" "select count(*) from run_info i join runs r on r.id=i.run_id where r.trace like '%drain.trace' and key='latency_samples' and value=2")" -eq 2
check "metrics_drain_percentiles" test "$(q "$MDB" "select count(*) from runs where trace like '%drain.trace' and lat_p50_ns <= lat_max_ns and lat_p99_ns is null and lat_p999_ns is null")" -eq 2
# a percentile needs 1 / (1 - q) timed requests: p99 100, p99.9 1000; the
# requests of all threads count (2 x 50000 / 256 = 390; 256000 / 256 = 1000)
"$MMB" run --alloc=glibc,firstfit --ops=25600 --db="$T/pct.db" --quiet
"$MMB" run --alloc=glibc,firstfit --ops=1e5 --threads=2 --db="$T/pct.db" --quiet
"$MMB" run --alloc=firstfit --ops=256000 --db="$T/pct.db" --quiet
check "latency_percentiles_null_with_too_few" test "$(q "$T/pct.db" "select group_concat(n || ':' || (lat_p50_ns is not null) || (lat_p99_ns is not null) || (lat_p999_ns is not null) || (lat_max_ns is not null), ' ') from (select r.*, cast(i.value as integer) as n from runs r join run_info i on i.run_id = r.id and i.key = 'latency_samples' order by r.id)")" = "100:1101 100:1101 390:1101 390:1101 1000:1111"
# the timer's own share of every latency is kept with each run (fenced reads)
check "latency_timer_kept" test "$(q "$T/pct.db" "select count(*) from run_info i join runs r on r.id = i.run_id where i.key = 'latency_timer_ns' and i.value > 0 and i.value <= r.lat_max_ns")" -eq 5
check "latency_percentiles_ordered" test "$(q "$T/pct.db" "select count(*) from runs where lat_p50_ns <= coalesce(lat_p99_ns, lat_max_ns) and coalesce(lat_p99_ns, 0) <= coalesce(lat_p999_ns, lat_max_ns) and coalesce(lat_p999_ns, 0) <= lat_max_ns")" -eq 5
# the run's own JSON, the database, CSV and JSON export agree on every metric
"$MMB" run --alloc=firstfit,bump --workload=trace:$T/hole.trace --db="$MDB" --json >"$T/hole.jsonl"
"$MMB" export --db="$MDB" -o "$T/metrics.csv"
"$MMB" export --db="$MDB" --format=json >"$T/metrics.json"
check "metrics_outputs_agree" python3 -c "
import csv, json, sqlite3, sys
db = sqlite3.connect('$MDB'); db.row_factory = sqlite3.Row
exp = {r['run_id']: r for r in json.load(open('$T/metrics.json'))}
rows = {int(r['run_id']): r for r in csv.DictReader(open('$T/metrics.csv'))}
keys = [r[1] for r in db.execute('pragma table_info(runs)')]
keys = keys[keys.index('wall_ns'):]
n = lambda v: None if v in (None, '') else float(v)
for line in open('$T/hole.jsonl'):
    j = json.loads(line); i = j['run_id']
    d = db.execute('select * from runs where id=?', (i,)).fetchone()
    for k in keys:
        if len({n(j[k]), n(d[k]), n(exp[i][k]), n(rows[i][k])}) != 1:
            sys.exit('%s %s differs' % (j['allocator'], k))"
# the heap map at max L is made inside the run: it must not show in the RSS (40000 blocks
# of 32 bytes; the peak is at the last request, which is sampled).  A map kept at 24 bytes
# a block would add 940 KiB; the kernel and libc add some 20-60 KiB of their own.
python3 -c "
for i in range(40000): print('a', i, 16)" >"$T/rss.trace"
"$MMB" run --alloc=firstfit --workload=trace:$T/rss.trace --db="$MDB" --quiet
check "metrics_rss_peak_is_the_heap" test "$(q "$MDB" "select peak_rss_bytes - rss_baseline_bytes - (select max(rss_bytes) from samples where run_id=r.id) < 262144 from runs r where id=(select max(id) from runs)")" -eq 1
# nor do the worker threads' stacks: 64 threads that malloc 16 bytes each
printf 'a 1 16\n' >"$T/one.trace"
"$MMB" run --alloc=bestfit --workload=trace:$T/one.trace --threads=64 --db="$MDB" --quiet
# (not under ASan: its per-thread state, made at a thread's first malloc inside
# the workload, took 0.2-0.84 MiB of the 1 MiB here, the release build 0.2)
if [[ $asan -eq 0 ]]; then
  check "metrics_rss_threads_not_counted" test "$(q "$MDB" "select peak_rss_bytes - rss_baseline_bytes < 1048576 from runs where id=(select max(id) from runs)")" -eq 1
fi

# --- system allocators really serve ------------------------------------------------
if [[ $asan -eq 0 ]]; then
  for a in jemalloc mimalloc tcmalloc; do
    if grep -qE "^  $a +available" <<<"$out"; then
      "$MMB" run --alloc=$a --ops=20000 --live=1000 --db="$DB" --quiet
      check "system_${a}_ok" test "$(q "$DB" "select count(*) from runs where allocator='$a' and status='ok' and allocator_version <> '' and peak_heap_bytes > 0")" -ge 1
    fi
  done
  # mimalloc reports no allocated bytes: the rest of H is shown whole, not as payload
  if grep -qE "^  mimalloc +available" <<<"$out"; then
    check "system_mimalloc_composition_rest_of_h" test "$(q "$DB" "select count(*) from composition where category='other' and bytes > 0 and run_id=(select max(id) from runs where allocator='mimalloc')")" -eq 1
    # its statistics table: no row that says nothing (all 0 in a build without
    # MI_STAT, which never counts it) or nonsense (pages: current -1 below peak 0)
    mid="(select max(id) from runs where allocator='mimalloc')"
    check "system_mimalloc_info_no_uncounted_rows" test "$(q "$DB" "select count(*) from run_info where run_id=$mid and key like 'mi.%' and (key like '%.current' and (value < 0 or value > (select value from run_info p where p.run_id=$mid and p.key = substr(run_info.key, 1, length(run_info.key) - 7) || 'peak')) or (not exists (select 1 from run_info n where n.run_id=$mid and n.key like 'mi.normal%') and key in ('mi.mmaps', 'mi.commits') and value = 0))")" -eq 0
    check "system_mimalloc_info_keeps_the_counted_rows" test "$(q "$DB" "select count(*) from run_info where run_id=$mid and key in ('mi.committed.current', 'mi.reserved.current', 'mi.segments.current')")" -eq 3
  fi
  # where the allocator counts its free bytes, the treemap's free part is that
  # figure (the one frag_external divides by H), and the parts add up to H
  for a in glibc jemalloc tcmalloc; do
    if grep -qE "^  $a +available" <<<"$out"; then
      "$MMB" run --alloc=$a --ops=40000 --live=2000 --db="$DB" --quiet
      id=$(q "$DB" "select max(id) from runs where allocator='$a'")
      check "system_${a}_composition_free_is_frag_external" test "$(q "$DB" "select abs((select bytes from composition where run_id=$id and category='free') - frag_external * peak_heap_bytes) < 1 from runs where id=$id")" = 1
      check "system_${a}_composition_adds_up_to_h" test "$(q "$DB" "select abs((select sum(bytes) from composition where run_id=$id and category<>'retained') - peak_heap_bytes) < 1 from runs where id=$id")" = 1
    fi
  done
fi

# --- the buffer manager over its default pool: recorded as the pool that served ------
PDB="$T/pool.db"
MMBENCH_DEFAULT_POOL=firstfit "$MMB" run --alloc=buffer --ops=5000 --db="$PDB" --quiet
MMBENCH_DEFAULT_POOL=bestfit "$MMB" run --alloc=buffer --ops=5000 --db="$PDB" --quiet
env -u MMBENCH_DEFAULT_POOL "$MMB" run --alloc=buffer --ops=5000 --db="$PDB" --quiet
check "buffer_default_pool_stored_as_its_allocator" test "$(q "$PDB" "select group_concat(allocator, ' ') from (select allocator from runs order by id)")" = "buffer:firstfit buffer:bestfit buffer:glibc"
"$MMB" export --summary --metrics=ns_per_op --db="$PDB" >"$T/pools.csv"
check "buffer_default_pools_apart_in_the_summary" python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sys.exit(0 if sorted((r['allocator'], r['runs']) for r in rows) ==
         [('buffer:bestfit', '1'), ('buffer:firstfit', '1'), ('buffer:glibc', '1')] else 1)" "$T/pools.csv"
# JW #3 of a buffer run over a policy allocator is H/L - 1 with the workload's L,
# not the inner heap's payload (the buffers' capacities and headers, about twice
# L: it read 0.28 where JW #2 and #4 read 1.6). At the moment H is largest L is
# at most max L, so JW #3 >= JW #4; the figure is the samples' (H never shrinks)
"$MMB" run --alloc=buffer:firstfit,buffer:segregated --ops=20000 --live=1000 --db="$T/bjw3.db" --quiet
check "buffer_policy_jw3_of_the_workloads_bytes" test "$(q "$T/bjw3.db" "select count(*) from runs r where frag_jw3 >= frag_jw4 - 1e-12 and abs(frag_jw3 - (select max(heap_bytes) * 1.0 / max(live_bytes) - 1 from samples where run_id = r.id and heap_bytes = (select max(heap_bytes) from samples where run_id = r.id))) < 1e-9")" -eq 2
# a name that cannot serve the pool is refused before anything runs (the library
# itself would fall back to glibc with a warning, and the run be glibc's)
n_pool=$(q "$PDB" "select count(*) from runs")
for e in cuda nosuch buffer; do
  MMBENCH_DEFAULT_POOL=$e "$MMB" run --alloc=buffer --ops=5000 --db="$PDB" --quiet 2>"$T/err"
  check "buffer_default_pool_${e}_exit_2" test $? -eq 2
  check "buffer_default_pool_${e}_says_why" grep -q "^mmbench run: MMBENCH_DEFAULT_POOL=$e: --alloc=buffer draws its default pool from the allocator this names, and .*; name one of \`mmbench list\` other than a device allocator and buffer, or unset it (glibc)$" "$T/err"
done
check "buffer_default_pool_refused_wrote_nothing" test "$(q "$PDB" "select count(*) from runs")" -eq "$n_pool"
if [[ $asan -eq 0 ]] && grep -qE "^  jemalloc +available" <<<"$out"; then
  # jemalloc as the default pool is preloaded into the run, as for buffer:jemalloc,
  # and serves it (it was refused there, and glibc served)
  MMBENCH_DEFAULT_POOL=jemalloc "$MMB" run --alloc=buffer --ops=5000 --db="$PDB" --quiet 2>"$T/err"
  check "buffer_default_pool_jemalloc_no_warning" test ! -s "$T/err"
  je_ver0=$(grep -E '^  jemalloc +available' <<<"$out" | awk '{print $3}')
  check "buffer_default_pool_jemalloc_served_by_jemalloc" test "$(q "$PDB" "select allocator || ' ' || allocator_version from runs order by id desc limit 1")" = "buffer:jemalloc mmbench-buffer/$je_ver0"
  # the version is stored whole: jemalloc's has 49 characters
  "$MMB" run --alloc=jemalloc,buffer:jemalloc --ops=5000 --db="$PDB" --quiet
  je_ver=$(q "$PDB" "select allocator_version from runs where allocator='jemalloc' order by id desc limit 1")
  check "buffer_jemalloc_version_whole" test "$(q "$PDB" "select allocator_version from runs where allocator='buffer:jemalloc' order by id desc limit 1")" = "mmbench-buffer/$je_ver"
  check "buffer_jemalloc_version_is_long" test "${#je_ver}" -ge 49
  "$MMB" export --format=json --db="$PDB" -o "$T/pool.json"
  check "buffer_jemalloc_version_whole_in_export" grep -qF "\"mmbench-buffer/$je_ver\"" "$T/pool.json"
fi

# --- threads -----------------------------------------------------------------------
"$MMB" run --alloc=glibc,bestfit --workload=larson,prodcons --ops=20000 --db="$DB" --quiet
check "multithreaded_ok" test $? -eq 0
"$MMB" run --alloc=glibc --threads=2 --ops=20000 --db="$DB" --quiet
check "threads_flag_ok" test $? -eq 0
check "multithreaded_runs_stored" test "$(q "$DB" "select count(*) from runs where threads > 1")" -ge 5
check "steady_ns_per_op_null_with_threads" test "$(q "$DB" "select count(*) from runs where threads > 1 and steady_ns_per_op is not null")" -eq 0
"$MMB" run --alloc=glibc --ops=1000 --live=1000 --db="$DB" --quiet
check "steady_ns_per_op_null_without_requests_after_the_ramp" test "$(q "$DB" "select steady_ns_per_op is null from runs order by id desc limit 1")" -eq 1
# a live count that first peaks near the end leaves too few requests to time:
# 1000 live in 1500 requests (at most 500 after the ramp-up: under 1000); in
# 5000, about 4000 follow it (timed)
"$MMB" run --alloc=glibc --ops=1500 --live=1000 --db="$DB" --quiet
check "steady_ns_per_op_null_with_few_requests_after_the_ramp" test "$(q "$DB" "select steady_ns_per_op is null from runs order by id desc limit 1")" -eq 1
"$MMB" run --alloc=glibc --ops=5000 --live=1000 --db="$DB" --quiet
check "steady_ns_per_op_with_enough_requests_after_the_ramp" test "$(q "$DB" "select steady_ns_per_op > 0 from runs order by id desc limit 1")" -eq 1
# bump's heap is faulted in before the RSS baseline: no rss_overhead (it read about -1)
check "bump_rss_overhead_null" test "$(q "$DB" "select count(*) from runs where allocator = 'bump' and rss_overhead is not null")" -eq 0
check "bump_runs_exist" test "$(q "$DB" "select count(*) from runs where allocator = 'bump'")" -gt 0
"$MMB" run --alloc=bestfit --verify --ops=20000 --live=500 --touch=all --db="$DB" --quiet
check "verify_ok" test $? -eq 0

# --- the loop's own count of L -------------------------------------------------------
# The measured loop counts L from the requests (a FREE carries its size; the
# sizes per slot are kept only for REALLOC, SLICE and CONSUME): at the sample
# taken exactly where L peaks it must equal the peak computed from the stream.
LDB="$T/live.db"
printf 'a 7 100\na 9 32\nr 7 300\nf 9\na 9 64\nr 9 8\nf 7\na 1 4000\n' >"$T/realloc.trace"
"$MMB" run --alloc=bump,glibc --workload=random,realloc-grow,buffers --verify --ops=20000 --live=500 --db="$LDB" --quiet
check "verify_every_op_kind_ok" test $? -eq 0
"$MMB" run --alloc=bump,glibc --workload=trace:$T/realloc.trace --verify --db="$LDB" --quiet
check "verify_trace_ok" test $? -eq 0
check "loop_live_bytes_match_the_stream" test "$(q "$LDB" "select count(*) from runs r where status='ok' and peak_live_bytes = (select max(live_bytes) from samples where run_id=r.id)")" -eq 8

# --- MMBENCH_BARE_LOOP: the benchmark instrument for the harness's own cost -----------
BDB="$T/bare.db"
MMBENCH_BARE_LOOP=1 "$MMB" run --alloc=glibc --ops=20000 --db="$BDB" --quiet
check "bare_loop_glibc_ok" test $? -eq 0
check "bare_loop_marked_in_run_info" test "$(q "$BDB" "select count(*) from run_info where key='bare_loop' and value=1")" -eq 1
check "bare_loop_same_live_bytes" test "$(q "$BDB" "select count(*) from runs r where status='ok' and peak_live_bytes = (select max(live_bytes) from samples where run_id=r.id)")" -eq 1
MMBENCH_BARE_LOOP=1 "$MMB" run --alloc=glibc,firstfit --ops=20000 --db="$BDB" --quiet 2>"$T/err"
check "bare_loop_refused_for_policy_allocators" test $? -eq 2
check "bare_loop_refusal_says_why" grep -q "allocator firstfit is not one of glibc" "$T/err"
MMBENCH_BARE_LOOP=1 "$MMB" run --alloc=glibc --workload=realloc-grow --ops=20000 --db="$BDB" --quiet 2>"$T/err"
check "bare_loop_refused_for_realloc_streams" test $? -eq 2
MMBENCH_BARE_LOOP=1 "$MMB" run --alloc=glibc --verify --ops=20000 --db="$BDB" --quiet 2>"$T/err"
check "bare_loop_refused_with_verify" test $? -eq 2
check "bare_loop_refusals_wrote_nothing" test "$(q "$BDB" "select count(*) from runs")" -eq 1

# --- a list with an empty item or a name given twice is refused ----------------------
for a in "glibc,,firstfit" ",glibc" "glibc,firstfit,glibc"; do
  "$MMB" run --alloc="$a" --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
  check "alloc_list_${a//,/_}_exit_2" test $? -eq 2
done
"$MMB" run --alloc=glibc,,firstfit --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
check "alloc_list_empty_says_why" grep -q "^mmbench run: --alloc: the list has an empty allocator; separate the allocators by single commas$" "$T/err"
"$MMB" run --alloc=glibc,firstfit,glibc --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
check "alloc_list_twice_says_why" grep -q "^mmbench run: --alloc: glibc is listed twice; list each allocator once" "$T/err"
"$MMB" run --alloc=glibc --workload=random,ramp,random --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
check "workload_list_twice_exit_2" test $? -eq 2
check "workload_list_twice_says_why" grep -q "random is listed twice; list each workload once" "$T/err"
"$MMB" run --alloc= --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
check "alloc_empty_exit_2" test $? -eq 2
check "alloc_empty_lists_names" grep -q "expected a comma-separated list of allocators; they are: .*firstfit" "$T/err"
"$MMB" run --alloc=buffer,buffer:glibc --ops=1000 --db="$T/lists.db" --quiet 2>"$T/err"
check "buffer_and_buffer_pool_exit_2" test $? -eq 2
check "buffer_and_buffer_pool_says_why" grep -q "buffer (the default pool, buffer:glibc: MMBENCH_DEFAULT_POOL is unset) and buffer:glibc are one allocator; list it once" "$T/err"
MMBENCH_DEFAULT_POOL=firstfit "$MMB" run --alloc=buffer,buffer:bestfit --ops=1000 --db="$T/twopools.db" --quiet 2>"$T/err"
check "buffer_and_another_pool_ok" test $? -eq 0
check "buffer_and_another_pool_stored_apart" test "$(q "$T/twopools.db" "select group_concat(allocator, ' ') from (select allocator from runs order by id)")" = "buffer:firstfit buffer:bestfit"
check "bad_lists_wrote_nothing" test ! -e "$T/lists.db"

# --- checking modes are recorded and kept apart ------------------------------------
# --verify and --debug-heap slow every request: each run says so (run_info,
# show), and the summary gives such runs rows of their own
CDB="$T/checked.db"
"$MMB" run --alloc=firstfit,glibc --ops=20000 --live=1000 --db="$CDB" --quiet
"$MMB" run --alloc=firstfit,glibc --ops=20000 --live=1000 --verify --db="$CDB" --quiet
"$MMB" run --alloc=firstfit --ops=20000 --live=1000 --debug-heap --db="$CDB" --quiet
check "checked_runs_ok" test "$(q "$CDB" "select count(*) from runs where status='ok'")" -eq 5
check "checked_runs_marked_in_run_info" test "$(q "$CDB" "select group_concat(run_id||':'||key, ' ') from (select run_id, key from run_info where key in ('verify','debug_heap','bare_loop') and value=1 order by run_id)")" = "3:verify 4:verify 5:debug_heap"
"$MMB" export --summary --metrics=ns_per_op --db="$CDB" >"$T/checked.csv"
check "checked_runs_apart_in_the_summary" python3 -c "
import csv, sys
rows = [(r['loop'], r['allocator'], r['runs']) for r in csv.DictReader(open(sys.argv[1]))]
want = [('harness', 'firstfit', '1'), ('harness', 'glibc', '1'), ('harness+verify', 'firstfit', '1'),
        ('harness+verify', 'glibc', '1'), ('harness+debug-heap', 'firstfit', '1')]
sys.exit(0 if rows == want else print(rows) or 1)" "$T/checked.csv"
check "show_names_a_plain_loop" bash -c "'$MMB' show 1 --db='$CDB' | grep -q '^  loop  *harness$'"
check "show_names_a_checked_loop" bash -c "'$MMB' show 5 --db='$CDB' | grep -q '^  loop  *harness, --debug-heap (checked: times are not comparable'"
check "run_help_has_debug_heap" bash -c "'$MMB' run --help | grep -q -- '--debug-heap'"

# --- multi-threaded runs: max L from the workers, not from the watcher's luck ---------
# ramp ends empty; with --samples=1 the watcher keeps only the end (L = 0), so
# a max L read from the samples would be 0. Each worker adds up every thread's
# live bytes every 64 requests: the max is at least one thread's ramp peak.
TDB="$T/threads.db"
"$MMB" run --alloc=glibc,firstfit --workload=ramp --threads=2 --ops=2e5 --live=2000 --samples=1 --db="$TDB" --quiet
check "mt_runs_ok" test "$(q "$TDB" "select count(*) from runs where status='ok'")" -eq 2
check "mt_peak_live_from_the_workers" test "$(q "$TDB" "select count(*) from runs where peak_live_bytes > 1000 * 16 and peak_live_bytes > (select max(live_bytes) from samples where run_id = runs.id)")" -eq 2
# (glibc has no heap figure under ASan, whose allocator bypasses glibc's heap)
check "mt_jw4_measured" test "$(q "$TDB" "select count(*) from runs where frag_jw4 is not null")" -eq $((2 - asan))
# L (the workers' counters) and the used bytes (the allocator's statistics)
# are not read at one moment: no frag_internal rather than a negative one
check "mt_frag_internal_null" test "$(q "$TDB" "select count(*) from runs where frag_internal is null")" -eq 2
# nor is the moment L is largest observed: no frag_jw2 (it could exceed jw4),
# and the composition splits only what one moment knows
check "mt_frag_jw2_null" test "$(q "$TDB" "select count(*) from runs where frag_jw2 is null")" -eq 2
check "mt_composition_not_split" test "$(q "$TDB" "select count(*) from composition where category in ('overhead', 'free')")" -eq 0
# a policy allocator's payload when its heap peaked is L at one real moment, so
# max L is at least that: JW #3 (H over that payload) is never below JW #4 (it
# was, in most prodcons runs, when max L was the workers' sums alone)
"$MMB" run --alloc=firstfit,bestfit,segregated --workload=prodcons --threads=2 --ops=5e4 --db="$T/mtjw3.db" --quiet
check "mt_policy_jw3_not_below_jw4" test "$(q "$T/mtjw3.db" "select count(*) from runs where status='ok' and frag_jw3 >= frag_jw4 - 1e-12")" -eq 3
# the run's wall time ends at the last worker's last request, and no sample the
# watcher took is later than that (its time is read before the workers' counters)
check "mt_samples_not_after_the_wall_time" test "$(q "$T/mtjw3.db" "select count(*) from samples s join runs r on r.id = s.run_id where s.elapsed_ns > r.wall_ns")" -eq 0
# a moving realloc places the new block before it frees the old one: the
# payload a heap peak records there is L after the realloc, not both blocks,
# so JW #3 is not below JW #4 in a single thread either
"$MMB" run --alloc=firstfit,bestfit,nextfit,segregated --workload=realloc-grow,buffers --ops=2e4 --db="$T/rjw3.db" --quiet
check "realloc_policy_jw3_not_below_jw4" test "$(q "$T/rjw3.db" "select count(*) from runs where status='ok' and frag_jw3 >= frag_jw4 - 1e-12")" -eq 8

# --- failures are recorded, the sweep goes on ----------------------------------------
FDB="$T/fail.db"
for f in segv abort kill exit; do
  MMBENCH_FAULT=$f:1000 "$MMB" run --alloc=glibc,bump --ops=5000 --db="$FDB" --quiet 2>"$T/err"
  check "fault_${f}_exit_1" test $? -eq 1
done
check "fault_runs_recorded" test "$(q "$FDB" "select count(*) from runs where status='failed'")" -eq 8
if [[ $asan -eq 0 ]]; then # ASan catches SIGSEGV itself and exits 1
  check "fault_segv_signal" test "$(q "$FDB" "select count(*) from runs where signal=11")" -eq 2
fi
check "fault_abort_signal" test "$(q "$FDB" "select count(*) from runs where signal=6")" -eq 2
check "fault_reason_text" test "$(q "$FDB" "select count(*) from runs where failure like '%killed by signal 9%'")" -eq 2
# the CSV export says how each failed run ended, as JSON and the API do
"$MMB" export --db="$FDB" -o "$T/fail.csv"
check "export_csv_signal_and_exit_code" python3 -c "
import csv, sqlite3, sys
rows = {int(r['run_id']): r for r in csv.DictReader(open(sys.argv[1]))}
db = sqlite3.connect(sys.argv[2])
want = {i: ('' if s is None else str(s), '' if e is None or s is not None else str(e)) for i, s, e in db.execute('select id, signal, exit_code from runs')}
got = {i: (r['signal'], r['exit_code']) for i, r in rows.items()}
sys.exit(0 if got == want and any(s for s, _ in got.values()) and any(e for _, e in got.values()) else print(got, want) or 1)" "$T/fail.csv" "$FDB"
check "failed_metrics_null" test "$(q "$FDB" "select count(*) from runs where status='failed' and wall_ns is not null")" -eq 0
# the same with worker threads: a crash (here the watcher's) ends the whole
# process, a worker's NULL (no terabyte to be had) ends the run; each run is
# recorded as failed and the sweep goes on to the next allocator
MTF="$T/mtfail.db"
MMBENCH_FAULT=segv:1000 "$MMB" run --alloc=glibc,firstfit --threads=4 --ops=20000 --db="$MTF" --quiet 2>/dev/null
check "mt_fault_exit_1" test $? -eq 1
"$MMB" run --alloc=glibc,firstfit --threads=2 --ops=8 --live=2 --sizes=set:1T --touch=none --db="$MTF" --quiet 2>"$T/err"
check "mt_null_exit_1" test $? -eq 1
check "mt_failures_recorded" test "$(q "$MTF" "select count(*) from runs where status='failed' and threads > 1 and wall_ns is null and lat_p50_ns is null and (select count(*) from samples where run_id = runs.id) = 0")" -eq 4
if [[ $asan -eq 0 ]]; then # ASan reports a huge malloc and aborts
  check "mt_null_reason" test "$(q "$MTF" "select count(*) from runs where failure = 'malloc(1099511627776) returned NULL (out of memory)'")" -eq 2
  check "mt_crash_signal" test "$(q "$MTF" "select count(*) from runs where signal = 11")" -eq 2
fi
MMBENCH_FAULT=hang:0 "$MMB" run --alloc=glibc --ops=5000 --timeout=1 --db="$FDB" --quiet 2>/dev/null
check "timeout_exit_1" test $? -eq 1
check "timeout_recorded" test "$(q "$FDB" "select count(*) from runs where failure like '%timed out%'")" -eq 1

# the run's process of sweep $1, once it is started (a hanging run waits there)
child_of() {
  local c
  for _ in $(seq 1 600); do
    c=$(pgrep -P "$1" | head -1); [[ -n $c ]] && { echo "$c"; return 0; }
    kill -0 "$1" 2>/dev/null || return 1; sleep 0.1
  done
  return 1
}
# whether process $1 ends (or is a zombie) within a minute; the limit only
# bounds a failing test, a passing one ends at once
ends() {
  local s
  for _ in $(seq 1 600); do
    s=$(ps -o stat= -p "$1" 2>/dev/null); [[ -z $s || $s == Z* ]] && return 0; sleep 0.1
  done
  return 1
}
# whether process $1 stops (MMBENCH_FAULT=stop: at its first sample point, having
# reported its stream's hash and its allocator's version) within a minute
stopped() {
  for _ in $(seq 1 600); do [[ $(ps -o stat= -p "$1" 2>/dev/null) == T* ]] && return 0; sleep 0.1; done
  return 1
}
# a run that dies before it reports its stream's hash is recorded under the stream the
# sweep generated (not under hash 0, a stream of its own in the summary), with no
# allocator version (NULL; null in JSON): a trace deleted mid-sweep (the second run cannot
# open it), and a run killed while generating its stream
HDB="$T/hash.db"
printf 'a 1 100\na 2 200\nf 1\na 3 50\nf 2\nf 3\n' >"$T/gone.trace"
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc,bump --workload=trace:$T/gone.trace --timeout=0 --db="$HDB" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid); stopped "$c"
rm "$T/gone.trace"; kill -9 "$c"; wait $pid
check "trace_deleted_mid_sweep_exit_1" test $? -eq 1
check "trace_deleted_mid_sweep_says_why" grep -q "bump on trace:$T/gone.trace failed: .*cannot open the trace" "$T/err"
check "trace_deleted_mid_sweep_same_stream" test "$(q "$HDB" "select count(*) || ' ' || count(distinct stream_hash) || ' ' || min(stream_hash) from runs")" = "2 1 $(q "$HDB" "select stream_hash from runs where id=1")"
check "trace_deleted_mid_sweep_hash_not_0" test "$(q "$HDB" "select count(*) from runs where stream_hash = '0000000000000000'")" -eq 0
check "trace_deleted_mid_sweep_version_null" test "$(q "$HDB" "select allocator_version is null from runs where id=2")" -eq 1
"$MMB" run --alloc=glibc --ops=5000 --db="$HDB" --quiet
for f in kill-before-hash exit-before-hash; do
  MMBENCH_FAULT=$f "$MMB" run --alloc=glibc --ops=5000 --db="$HDB" --quiet 2>/dev/null
  check "fault_${f}_exit_1" test $? -eq 1
done
check "fault_before_hash_recorded_under_the_stream" test "$(q "$HDB" "select count(*) || ' ' || count(distinct stream_hash) from runs where workload='random'")" = "3 1"
check "fault_before_hash_version_null" test "$(q "$HDB" "select count(*) from runs where workload='random' and status='failed' and allocator_version is null")" -eq 2
"$MMB" export --db="$HDB" --format=json >"$T/hash.json"
check "fault_before_hash_json_version_null" python3 -c "
import json, sys
runs = json.load(open(sys.argv[1]))
sys.exit(0 if [r['allocator_version'] is None for r in runs] == [False, True, False, True, True] else 1)" "$T/hash.json"
"$MMB" export --db="$HDB" --summary --metrics=ns_per_op >"$T/hash.csv"
check "fault_before_hash_summary_one_stream" python3 -c "
import csv, sys
rows = [(r['workload'], r['allocator'], r['runs'], r['failed']) for r in csv.DictReader(open(sys.argv[1]))]
want = [('random', 'glibc', '1', '2'), ('trace', 'bump', '0', '1'), ('trace', 'glibc', '0', '1')]
sys.exit(0 if sorted(rows) == want else print(rows) or 1)" "$T/hash.csv"
# a trace that changed between the sweep's check and a run gives another stream: that run
# failed (its figures are not the stream's), and it is recorded under the sweep's stream
printf 'a 1 100\na 2 200\nf 1\na 3 50\nf 2\nf 3\n' >"$T/changed.trace"
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc,bump --workload=trace:$T/changed.trace --timeout=0 --db="$HDB" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid); stopped "$c"
printf 'a 1 64\nf 1\n' >"$T/changed.trace"; kill -9 "$c"
c2=
for _ in $(seq 1 600); do
  c2=$(pgrep -P $pid | grep -vx "$c" | head -1); [[ -n $c2 ]] && break; sleep 0.1
done
stopped "$c2"; kill -9 "$c2"; wait $pid
check "trace_changed_mid_sweep_fails" test "$(q "$HDB" "select count(*) from runs where trace like '%changed.trace' and failure like '%generated another request stream%'")" -eq 1
check "trace_changed_mid_sweep_same_stream" test "$(q "$HDB" "select count(distinct stream_hash) from runs where trace like '%changed.trace'")" -eq 1

# a run stopped during its measured loop (a Ctrl-Z of the sweep; MMBENCH_FAULT=suspend
# stops it as one would) and continued has the stop in its times: it fails and says so,
# and the sweep goes on
SDB2="$T/suspend.db"
MMBENCH_FAULT=suspend:1000 "$MMB" run --alloc=glibc,bump --ops=5000 --timeout=0 --db="$SDB2" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid); stopped "$c"; kill -CONT "$c"
c2=
for _ in $(seq 1 600); do
  c2=$(pgrep -P $pid | grep -vx "$c" | head -1); [[ -n $c2 ]] && break; sleep 0.1
done
stopped "$c2"; kill -CONT "$c2"; wait $pid
check "suspended_run_exit_1" test $? -eq 1
check "suspended_run_fails_saying_why" test "$(q "$SDB2" "select count(*) from runs where status='failed' and failure like '%was stopped%during its measured loop%'")" -eq 2
check "suspended_run_says_why_on_stderr" grep -q "glibc on random failed: the run's process was stopped" "$T/err"
# the sweep's own process stopped for longer than --timeout (kill -STOP, or a Ctrl-Z) does
# not count that time against the run: the run (stopped at its first sample point by the
# excused stop fault, so that the sweep is surely waiting on it) ends while the sweep is
# stopped, and is stored when the sweep goes on
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc --ops=5000 --timeout=3 --db="$SDB2" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid); stopped "$c"
kill -STOP $pid; kill -CONT "$c"; sleep 4; kill -CONT $pid; wait $pid
check "sweep_stopped_past_timeout_exit_0" test $? -eq 0
check "sweep_stopped_past_timeout_run_ok" test "$(q "$SDB2" "select status from runs order by id desc limit 1")" = ok
# the same when the sweep stops while it reads the run's report, outside any wait
# (MMBENCH_FAULT=runner-stop stops it there): that stop was counted against the run
# that had finished, killed as timed out once the sweep went on
MMBENCH_FAULT=runner-stop "$MMB" run --alloc=glibc --ops=5000 --timeout=3 --db="$SDB2" --quiet 2>"$T/err" &
pid=$!; stopped $pid; sleep 4; kill -CONT $pid; wait $pid
check "sweep_stopped_reading_report_exit_0" test $? -eq 0
check "sweep_stopped_reading_report_run_ok" test "$(q "$SDB2" "select status || ' ' || coalesce(failure, '') from runs order by id desc limit 1")" = "ok "

# reading a database (show, export, serve) leaves no -wal or -shm file that was not
# there: a read-only connection cannot remove those it makes (a copied database
# gained two files); while a sweep has it open, they stay
WDIR="$T/walcopy"; mkdir -p "$WDIR"; cp "$DB" "$WDIR/c.db"
rm -f "$WDIR/c.db-wal" "$WDIR/c.db-shm"
"$MMB" show 1 --db="$WDIR/c.db" >/dev/null
"$MMB" export --db="$WDIR/c.db" >/dev/null
"$MMB" export --summary --db="$WDIR/c.db" >/dev/null
check "read_leaves_no_wal_files" test "$(ls "$WDIR")" = c.db
"$MMB" serve --port=0 --db="$WDIR/c.db" >"$T/wserve.out" 2>&1 &
spid=$!
port=
for _ in $(seq 1 100); do port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/wserve.out"); [[ -n $port ]] && break; sleep 0.1; done
curl -s "http://127.0.0.1:$port/api/runs" >/dev/null
check "serve_made_wal_files" test -e "$WDIR/c.db-shm"
kill -INT $spid; wait $spid
check "serve_leaves_no_wal_files" test "$(ls "$WDIR")" = c.db
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc --ops=2000 --db="$WDIR/c.db" --quiet &
pid=$!; c=$(child_of $pid); stopped "$c"
"$MMB" show 1 --db="$WDIR/c.db" >/dev/null
check "read_keeps_wal_files_of_a_sweep" test -e "$WDIR/c.db-wal" -a -e "$WDIR/c.db-shm"
kill -CONT "$c"; wait $pid
check "read_during_a_sweep_run_stored" test "$(q "$WDIR/c.db" "select status from runs order by id desc limit 1")" = ok

# storing a finished run waits (up to 120 s) for a lock another process holds on the
# database, longer than SQLite's 5 s, and says so; a run that still cannot be stored is
# printed as a JSON line, not lost.  The runs stop (MMBENCH_FAULT=stop) until the lock
# is held, then finish while it is held for 8 s.
KDB="$T/lock.db"
"$MMB" run --alloc=bump --ops=1000 --db="$KDB" --quiet
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc --ops=2000 --db="$KDB" --quiet 2>"$T/lock.err" &
pid=$!; c=$(child_of $pid)
MMBENCH_FAULT=stop:0 MMBENCH_LOCK_WAIT=1 "$MMB" run --alloc=bump --ops=2000 --db="$KDB" --quiet 2>"$T/lock1.err" &
pid1=$!; c1=$(child_of $pid1)
stopped "$c"; stopped "$c1"
(echo 'BEGIN EXCLUSIVE;'; echo 'CREATE TABLE IF NOT EXISTS lockt(x);'; sleep 8; echo 'COMMIT;') | sqlite3 "$KDB" &
holder=$!
for _ in $(seq 1 100); do sqlite3 -cmd ".timeout 0" "$KDB" "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null || break; sleep 0.05; done
kill -CONT "$c" "$c1"
wait $pid1; rc1=$?
wait $pid; rc=$?
wait $holder
check "locked_db_run_stored_exit_0" test $rc -eq 0
check "locked_db_run_stored" test "$(q "$KDB" "select count(*) from runs where status='ok' and allocator='glibc'")" -eq 1
check "locked_db_says_waiting" grep -q "^mmbench run: waiting for the lock on the database $KDB, which another process holds" "$T/lock.err"
check "locked_db_gave_up_exit_1" test $rc1 -eq 1
check "locked_db_gave_up_says_so" grep -q "database is locked; the sweep stopped (0 finished runs kept), and this run's result follows, not stored, as one JSON line" "$T/lock1.err"
check "locked_db_gave_up_prints_the_run" python3 -c "
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[1])
sys.exit(0 if r['run_id'] is None and r['allocator'] == 'bump' and r['status'] == 'ok' and r['ns_per_op'] > 0 else 1)" "$T/lock1.err"
check "locked_db_gave_up_not_stored" test "$(q "$KDB" "select count(*) from runs where allocator='bump'")" -eq 1

# a database deleted during a sweep: the next run is not stored into the
# unlinked file (lost when the sweep closed it, while the sweep said it was
# stored); the sweep stops and prints that run, as for a full disk
RDB="$T/removed.db"
MMBENCH_FAULT=stop:0 "$MMB" run --alloc=glibc --ops=2000 --db="$RDB" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid); stopped "$c"
rm -f "$RDB" "$RDB-wal" "$RDB-shm"; kill -CONT "$c"; wait $pid
check "db_deleted_mid_sweep_exit_1" test $? -eq 1
check "db_deleted_mid_sweep_says_so" grep -q "^mmbench run: cannot store the run (glibc on random) in $RDB: the file was deleted or moved during the sweep" "$T/err"
check "db_deleted_mid_sweep_prints_the_run" python3 -c "
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[1])
sys.exit(0 if r['run_id'] is None and r['allocator'] == 'glibc' and r['status'] == 'ok' else 1)" "$T/err"

# an export -o FILE ended by a signal leaves neither FILE nor FILE.tmp (the
# half-written temporary file stayed behind; it held 30 MB for a large database)
MMBENCH_FAULT=export-stop "$MMB" export --db="$MDB" -o "$T/sig.csv" 2>/dev/null &
pid=$!; stopped $pid
check "export_signalled_was_writing" test -e "$T/sig.csv.tmp"
kill -TERM $pid; kill -CONT $pid; wait $pid
check "export_signalled_exit_143" test $? -eq 143
check "export_signalled_leaves_no_tmp" test ! -e "$T/sig.csv.tmp"
check "export_signalled_makes_no_file" test ! -e "$T/sig.csv"

# SIGTERM to the sweep alone (kill, a job scheduler) ends its run at once, not
# when the run ends by itself (this one never does): nothing stored, 128 + 15
SDB="$T/term.db"
MMBENCH_FAULT=hang:0 "$MMB" run --alloc=glibc,bump --ops=5000 --timeout=0 --db="$SDB" --quiet 2>"$T/err" &
pid=$!; c=$(child_of $pid)
kill -TERM $pid
check "sigterm_to_sweep_ends_it" ends $pid
check "sigterm_to_sweep_ends_its_run" ends "$c"
kill -9 $pid "$c" 2>/dev/null; wait $pid; rc=$?
check "sigterm_to_sweep_exit_143" test $rc -eq 143
check "sigterm_to_sweep_stores_nothing" test "$(q "$SDB" "select count(*) from runs")" -eq 0
check "sigterm_to_sweep_says_interrupted" grep -q "interrupted; 0 finished runs kept" "$T/err"
# SIGTERM to the sweep's process group kills its run too: that run is not
# stored as a failure (it was, about one time in five, when the run died
# before the signal reached the sweep, which then found it pending).  Up to 20
# sweeps of short runs, each signalled at another moment; the first bad one stops.
GDB="$T/termgroup.db" tries=0 grc=143 gfailed=0
while (( tries < 20 && grc == 143 && gfailed == 0 )); do
  tries=$((tries + 1)); rm -f "$GDB" "$GDB-wal" "$GDB-shm"
  setsid "$MMB" run --alloc=glibc,bump --reps=500 --ops=1000 --db="$GDB" --quiet 2>/dev/null &
  pid=$!
  for _ in $(seq 1 200); do [[ -e $GDB-wal ]] && break; sleep 0.02; done
  sleep 0.$((tries % 3 + 1)); kill -TERM -"$pid" 2>/dev/null; wait "$pid"; grc=$?
  # (no database or no table yet: signalled before the sweep made it, which
  # under heavy load can outlast the wait above; then no run is stored either)
  gfailed=$(q "$GDB" "select count(*) from runs where status <> 'ok'" 2>/dev/null || echo 0)
done
check "sigterm_to_group_exit_143" test $grc -eq 143
check "sigterm_to_group_stores_no_failed_run" test "$gfailed" -eq 0
# a sweep killed outright takes its run with it
MMBENCH_FAULT=hang:0 "$MMB" run --alloc=glibc --ops=5000 --timeout=0 --db="$SDB" --quiet 2>/dev/null &
pid=$!; c=$(child_of $pid)
kill -9 $pid; wait $pid 2>/dev/null
check "sigkill_to_sweep_ends_its_run" ends "$c"
kill -9 "$c" 2>/dev/null
# a run that closes its report pipe early and lives on is still held to --timeout
if command -v gdb >/dev/null; then
  MMBENCH_FAULT=hang:0 "$MMB" run --alloc=glibc --ops=5000 --timeout=2 --db="$SDB" --quiet 2>/dev/null &
  pid=$!; c=$(child_of $pid)
  if timeout 60 gdb -p "$c" -batch -ex 'call (int)close(3)' 2>&1 | grep -q '^\$1 = 0'; then
    check "pipe_closed_early_still_times_out" ends $pid
    kill -9 $pid "$c" 2>/dev/null; wait $pid; rc=$?
    check "pipe_closed_early_exit_1" test $rc -eq 1
    check "pipe_closed_early_recorded" test "$(q "$SDB" "select count(*) from runs where status='failed' and failure like '%timed out%'")" -eq 1
  else
    kill -9 $pid "$c" 2>/dev/null; wait $pid 2>/dev/null
  fi
fi

# allocator settings in the user's environment would change a run's figures
# unrecorded: the run's process does not get them, and the sweep says so
EDB="$T/env.db"
MALLOC_ARENA_MAX=1 GLIBC_TUNABLES=glibc.malloc.tcache_count=0 MALLOC_CONF=narenas:1 MIMALLOC_VERBOSE=1 \
  TCMALLOC_RELEASE_RATE=0 MMBENCH_FAULT=hang:0 MMBENCH_KEEP_ME=1 \
  "$MMB" run --alloc=glibc --ops=5000 --timeout=0 --db="$EDB" 2>"$T/err" >/dev/null &
pid=$!; c=$(child_of $pid)
tr '\0' '\n' <"/proc/$c/environ" >"$T/child.env"
kill -9 "$c"; wait $pid
check "env_allocator_settings_not_passed" test "$(grep -cE '^(MALLOC_|GLIBC_TUNABLES|MIMALLOC_|TCMALLOC_)' "$T/child.env")" -eq 0
check "env_other_variables_passed" grep -q '^MMBENCH_KEEP_ME=1$' "$T/child.env"
for v in MALLOC_ARENA_MAX GLIBC_TUNABLES MALLOC_CONF MIMALLOC_VERBOSE TCMALLOC_RELEASE_RATE; do
  check "env_not_passed_says_$v" grep -qE "^mmbench run: not passing .*\b$v\b.* to the runs" "$T/err"
done
check "env_not_passed_keeps_the_rest" bash -c "! grep -q MMBENCH_ '$T/err'"

# --- a GPU: the device allocators run (skipped without one) --------------------------
if [[ $gpu -eq 1 ]]; then
  GDB="$T/gpu.db"
  # realloc-grow: a device realloc is malloc, a device copy and free (it failed as
  # "out of memory": the tables have no realloc and no usable_size); larson: threads
  "$MMB" run --alloc=cuda,cuda-async --workload=random,realloc-grow,buffers --ops=20000 --live=500 --samples=20 \
    --db="$GDB" --quiet 2>"$T/err"
  check "gpu_run_exit_0" test $? -eq 0
  "$MMB" run --alloc=cuda,cuda-async --workload=larson --threads=2 --ops=20000 --live=500 --db="$GDB" --quiet 2>>"$T/err"
  check "gpu_threads_run_exit_0" test $? -eq 0
  check "gpu_runs_ok" test "$(q "$GDB" "select count(*) from runs where status='ok'")" -eq 8
  # the CPU writes nothing: stored as touch none, whatever --touch said
  check "gpu_runs_touch_none" test "$(q "$GDB" "select count(*) from runs where touch<>'none'")" -eq 0
  # H is the device's, R the host's: no rss_overhead; H measured, not 0
  check "gpu_no_rss_overhead" test "$(q "$GDB" "select count(*) from runs where rss_overhead is not null")" -eq 0
  check "gpu_peak_heap_measured" test "$(q "$GDB" "select count(*) from runs where peak_heap_bytes > 0")" -eq 8
  check "gpu_async_pool_stats_kept" test "$(q "$GDB" "select count(distinct run_id) from run_info where key='cuda.pool.used_high' and value >= 0")" -eq 4
  check "gpu_no_negative_run_info" test "$(q "$GDB" "select count(*) from run_info i join runs r on r.id=i.run_id where r.allocator like 'cuda%' and i.key like 'cuda.%' and i.value < 0")" -eq 0
  # no GPU for the run's process: the sweep refuses it as it does without a GPU
  CUDA_VISIBLE_DEVICES= "$MMB" run --alloc=cuda --ops=1000 --db="$T/novis.db" >/dev/null 2>"$T/err"
  check "gpu_hidden_exit_2" test $? -eq 2
  check "gpu_hidden_says_no_device" grep -q "^mmbench run: allocator cuda is unavailable: no CUDA driver or device (" "$T/err"
  check "gpu_hidden_no_db" test ! -e "$T/novis.db"
fi

# --- Ctrl-C keeps every finished run --------------------------------------------------
IDB="$T/int.db"
setsid "$MMB" run --alloc=glibc,bump --reps=50 --ops=200000 --db="$IDB" --quiet &
pid=$!
for _ in $(seq 1 200); do
  n=$(q "$IDB" "select count(*) from runs" 2>/dev/null || echo 0)
  [[ "${n:-0}" -ge 2 ]] && break
  sleep 0.1
done
kill -INT -"$pid" 2>/dev/null
wait "$pid"; rc=$?
check "interrupt_exit_130" test $rc -eq 130
check "interrupt_kept_runs" test "$(q "$IDB" "select count(*) from runs where status='ok'")" -ge 2
check "interrupt_no_failed_run" test "$(q "$IDB" "select count(*) from runs where status<>'ok'")" -eq 0
check "interrupt_db_sound" test "$(q "$IDB" "pragma integrity_check")" = ok

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
