# The store, the JSON/CSV writers and the show/export commands.
mmb_test(test_store SOURCES test_store.c LIBS mmb_store PkgConfig::SQLITE3)
add_test(NAME test_store COMMAND test_store)
set_tests_properties(test_store PROPERTIES SKIP_RETURN_CODE 77)
