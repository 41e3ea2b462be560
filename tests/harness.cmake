# End-to-end tests of the mmbench command line and the harness: real runs in
# child processes, bad input, crashing runs, interruption, export.
add_test(NAME cli_end_to_end
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/test_cli.sh $<TARGET_FILE:mmbench>)
set_tests_properties(cli_end_to_end PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)

# Benchmarks, not tests (scripts/bench.sh runs them; no add_test): time to
# store one run, and the bare malloc/free loop the harness's own cost is
# measured against (`scripts/bench.sh harness`).
mmb_test(bench_store SOURCES bench_store.c LIBS mmb_store)
mmb_test(bench_harness SOURCES bench_harness.c LIBS mmb_wl)
