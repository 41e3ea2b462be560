# Tests of the workloads module (wl.h).
mmb_test(test_workloads SOURCES test_workloads.c LIBS mmb_wl)
target_compile_definitions(test_workloads PRIVATE MMB_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
add_test(NAME workloads COMMAND test_workloads)
