# Tests of the system allocators (allocators/system/).  Each preloaded one
# runs with LD_PRELOAD=<its library>, as a benchmark run's child would; the
# *_not_preloaded variants check that init refuses when the library does not
# serve malloc.  Sanitizer builds register no preloaded variant: ASan must be
# first in the library list, and those allocators are unavailable there.
mmb_test(test_system SOURCES test_system.c LIBS mmb_alloc)

add_test(NAME system_glibc COMMAND test_system glibc)
set(mmb_system_tests system_glibc)
foreach(lib jemalloc mimalloc tcmalloc)
  string(TOUPPER ${lib} LIB)
  add_test(NAME system_${lib}_not_preloaded COMMAND test_system ${lib} --not-served)
  list(APPEND mmb_system_tests system_${lib}_not_preloaded)
  if(NOT MMBENCH_SANITIZE)
    add_test(NAME system_${lib} COMMAND test_system ${lib})
    list(APPEND mmb_system_tests system_${lib})
    if(${LIB}_FOUND)
      set_tests_properties(system_${lib} PROPERTIES ENVIRONMENT "LD_PRELOAD=${${LIB}_PATH}")
    endif()
  endif()
endforeach()
if(JEMALLOC_FOUND AND NOT MMBENCH_SANITIZE)
  # glibc must refuse too when another malloc is preloaded in front of it.
  add_test(NAME system_glibc_under_jemalloc COMMAND test_system glibc --not-served)
  set_tests_properties(system_glibc_under_jemalloc PROPERTIES
                       ENVIRONMENT "LD_PRELOAD=${JEMALLOC_PATH}")
  list(APPEND mmb_system_tests system_glibc_under_jemalloc)
endif()
set_tests_properties(${mmb_system_tests} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
