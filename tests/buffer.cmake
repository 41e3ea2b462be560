# Buffer manager tests (allocators/buffer).
mmb_test(test_buffer SOURCES test_buffer.c LIBS mmb_alloc)
add_test(NAME buffer COMMAND test_buffer)
