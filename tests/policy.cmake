# Tests of the policy allocators (firstfit, bestfit, nextfit, segregated).
mmb_test(test_policy SOURCES test_policy.c LIBS mmb_alloc)
mmb_test(test_policy_diff SOURCES test_policy_diff.c policy_ref.c LIBS mmb_alloc m)
add_test(NAME policy_unit COMMAND test_policy)
add_test(NAME policy_diff COMMAND test_policy_diff)
add_test(NAME policy_diff_debug COMMAND test_policy_diff debug)
set_tests_properties(policy_unit policy_diff policy_diff_debug PROPERTIES
  LABELS policy TIMEOUT 300 SKIP_RETURN_CODE 77)
# The developers' A/B benchmark of the policy code (scripts/policy_ab.sh)
# still builds and runs: one rep of a small stream, this commit against
# itself.  Release builds only (it compiles the policy code itself and
# links build/'s workloads library).
if(NOT MMBENCH_SANITIZE AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  add_test(NAME policy_ab_smoke
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/policy_ab.sh HEAD segregated firstfit -- 1 --ops=20000 --live=1000)
  set_tests_properties(policy_ab_smoke PROPERTIES LABELS policy TIMEOUT 300
    ENVIRONMENT "POLICY_AB_WL_LIB=${CMAKE_BINARY_DIR}/workloads/libmmb_wl.a"
    PASS_REGULAR_EXPRESSION "firstfit reps 1: ns/request")
endif()
