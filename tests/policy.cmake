# Tests of the policy allocators (firstfit, bestfit, nextfit, segregated).
mmb_test(test_policy SOURCES test_policy.c LIBS mmb_alloc)
mmb_test(test_policy_diff SOURCES test_policy_diff.c policy_ref.c LIBS mmb_alloc m)
add_test(NAME policy_unit COMMAND test_policy)
add_test(NAME policy_diff COMMAND test_policy_diff)
add_test(NAME policy_diff_debug COMMAND test_policy_diff debug)
set_tests_properties(policy_unit policy_diff policy_diff_debug PROPERTIES
  LABELS policy TIMEOUT 300 SKIP_RETURN_CODE 77)
