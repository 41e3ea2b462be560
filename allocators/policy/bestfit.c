/*
 * bestfit.c - the bestfit allocator table: best fit: the smallest free block that fits, ties to the lowest address (exact classes over a granule bitmap tree, treap above 1 KiB)
 * The heap, placement and checks are shared (heap.c); see README.md.
 */
#include "allocators/policy/policy.h"

/* Referenced by -u in CMakeLists.txt so that this object is linked even while
 * weak placeholder tables (allocators/stubs_tmp.c) exist in the archive. */
const int pol_link_bestfit = 1;

static int bestfit_init(void **heap, const alloc_config_t *cfg) { return pol_init(heap, cfg, POL_BESTFIT); }

const alloc_methods_t alloc_bestfit_methods = {
    .name = "bestfit",
    .description = "best fit: the smallest free block that fits, ties to the lowest address (exact classes over a granule bitmap tree, treap above 1 KiB)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_POLICY,
    .heap_figure = POL_HEAP_FIGURE,
    .version = pol_version,
    .init = bestfit_init,
    .fini = pol_fini,
    .malloc = pol_malloc_bestfit,
    .free = pol_free_bestfit,
    .realloc = pol_realloc,
    .aligned = pol_aligned,
    .usable_size = pol_usable_size,
    .stats = pol_stats,
    .walk = pol_walk,
    .check = pol_check,
};
