/* TEMPORARY during development: weak placeholders so the tree links while
 * the real tables are written.  Removed before the first landing. */
#include "allocators/alloc.h"
#define STUB(sym, nm) \
    static int sym##_unavail(const char **r) { *r = "not built yet"; return 0; } \
    __attribute__((weak)) const alloc_methods_t sym = { .name = nm, .description = "placeholder", .available = sym##_unavail };
STUB(alloc_firstfit_methods, "firstfit")
STUB(alloc_bestfit_methods, "bestfit")
STUB(alloc_nextfit_methods, "nextfit")
STUB(alloc_segregated_methods, "segregated")
STUB(alloc_glibc_methods, "glibc")
STUB(alloc_jemalloc_methods, "jemalloc")
STUB(alloc_mimalloc_methods, "mimalloc")
STUB(alloc_tcmalloc_methods, "tcmalloc")
STUB(alloc_cuda_methods, "cuda")
STUB(alloc_cuda_async_methods, "cuda-async")
STUB(alloc_buffer_methods, "buffer")
