/*
 * firstfit.c - the firstfit allocator table: first fit: the lowest-addressed free block that fits (granule index: max tree + free-start bitmap)
 * The heap, placement and checks are shared (heap.c); see README.md.
 */
#include "allocators/policy/policy.h"

/* Referenced by -u in CMakeLists.txt so that this object is linked even while
 * weak placeholder tables (allocators/stubs_tmp.c) exist in the archive. */
const int pol_link_firstfit = 1;

static int firstfit_init(void **heap, const alloc_config_t *cfg) { return pol_init(heap, cfg, POL_FIRSTFIT); }

const alloc_methods_t alloc_firstfit_methods = {
    .name = "firstfit",
    .description = "first fit: the lowest-addressed free block that fits (granule index: max tree + free-start bitmap)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_POLICY,
    .heap_figure = POL_HEAP_FIGURE,
    .version = pol_version,
    .init = firstfit_init,
    .fini = pol_fini,
    .malloc = pol_malloc_firstfit,
    .free = pol_free_firstfit,
    .realloc = pol_realloc,
    .aligned = pol_aligned,
    .usable_size = pol_usable_size,
    .stats = pol_stats,
    .walk = pol_walk,
    .check = pol_check,
};
