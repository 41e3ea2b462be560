/*
 * segregated.c - the segregated allocator table: segregated fit: exact classes 32..1024 B with LIFO lists, best-fit treap above
 * The heap, placement and checks are shared (heap.c); see README.md.
 */
#include "allocators/policy/policy.h"

/* Referenced by -u in CMakeLists.txt so that this object is linked even while
 * weak placeholder tables (allocators/stubs_tmp.c) exist in the archive. */
const int pol_link_segregated = 1;

static int segregated_init(void **heap, const alloc_config_t *cfg) { return pol_init(heap, cfg, POL_SEGREGATED); }

const alloc_methods_t alloc_segregated_methods = {
    .name = "segregated",
    .description = "segregated fit: exact classes 32..1024 B with LIFO lists, best-fit treap above",
    .flags = ALLOC_THREAD_SAFE | ALLOC_POLICY,
    .heap_figure = POL_HEAP_FIGURE,
    .version = pol_version,
    .init = segregated_init,
    .fini = pol_fini,
    .malloc = pol_malloc_segregated,
    .free = pol_free_segregated,
    .realloc = pol_realloc,
    .aligned = pol_aligned,
    .usable_size = pol_usable_size,
    .stats = pol_stats,
    .walk = pol_walk,
    .check = pol_check,
};
