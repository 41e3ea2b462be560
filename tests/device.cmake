# CUDA device allocator tests: the GPU-only parts are skipped without a GPU.
mmb_test(test_device SOURCES test_device.c LIBS mmb_alloc)
add_test(NAME device COMMAND test_device)
set_tests_properties(device PROPERTIES SKIP_RETURN_CODE 77)
