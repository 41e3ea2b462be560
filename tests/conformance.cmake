# The conformance suite, once per allocator of the table (tests/test_conformance.c).
# Preloaded system allocators run with LD_PRELOAD=<library>; allocators
# unavailable here report skipped (77): cuda and cuda-async without a GPU (with
# one, their blocks are filled and checked through copies to the host).
# conformance_covers_every_allocator fails when an allocator of the table has
# no entry in MMB_CONFORMANCE_NAMES: add new allocators here.
mmb_test(test_conformance SOURCES test_conformance.c LIBS mmb_alloc)

set(MMB_CONFORMANCE_NAMES
    firstfit bestfit nextfit segregated glibc jemalloc mimalloc tcmalloc bump
    cuda cuda-async buffer:glibc)
set(mmb_conformance_tests)
foreach(name ${MMB_CONFORMANCE_NAMES})
  string(REPLACE ":" "_" tname "conformance_${name}")
  add_test(NAME ${tname} COMMAND test_conformance ${name})
  list(APPEND mmb_conformance_tests ${tname})
  set(env)
  string(TOUPPER "${name}" LIB)
  if(name MATCHES "^(jemalloc|mimalloc|tcmalloc)$" AND ${LIB}_FOUND AND NOT MMBENCH_SANITIZE)
    list(APPEND env "LD_PRELOAD=${${LIB}_PATH}")
  endif()
  if(MMBENCH_SANITIZE)
    # The suite asks for SIZE_MAX bytes and bad alignments on purpose.
    list(APPEND env "ASAN_OPTIONS=allocator_may_return_null=1")
  endif()
  if(env)
    set_tests_properties(${tname} PROPERTIES ENVIRONMENT "${env}")
  endif()
endforeach()
string(REPLACE ";" "," mmb_conformance_list "${MMB_CONFORMANCE_NAMES}")
add_test(NAME conformance_covers_every_allocator
         COMMAND test_conformance --covers ${mmb_conformance_list})
set_tests_properties(${mmb_conformance_tests} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 90)
