/*
 * tables.c - the four policy allocators' tables.  They share the heap,
 * placement and checks (heap.c); each has its own malloc/free compiled for
 * its policy.  See README.md.
 */
#include "allocators/policy/policy.h"

#define POL_TABLE(NAME, KIND, DESCRIPTION)                                     \
    static int NAME##_init(void **heap, const alloc_config_t *cfg) {           \
        return pol_init(heap, cfg, KIND);                                      \
    }                                                                          \
    const alloc_methods_t alloc_##NAME##_methods = {                           \
        .name = #NAME,                                                         \
        .description = DESCRIPTION,                                            \
        .flags = ALLOC_THREAD_SAFE | ALLOC_POLICY,                             \
        .heap_figure = POL_HEAP_FIGURE,                                        \
        .version = pol_version,                                                \
        .init = NAME##_init,                                                   \
        .fini = pol_fini,                                                      \
        .malloc = pol_malloc_##NAME,                                           \
        .free = pol_free_##NAME,                                               \
        .realloc = pol_realloc,                                                \
        .aligned = pol_aligned,                                                \
        .usable_size = pol_usable_size,                                        \
        .stats = pol_stats,                                                    \
        .walk = pol_walk,                                                      \
        .check = pol_check,                                                    \
    };

POL_TABLE(firstfit, POL_FIRSTFIT,
          "first fit: the lowest-addressed free block that fits (granule index: max tree + free-start bitmap)")
POL_TABLE(bestfit, POL_BESTFIT,
          "best fit: the smallest free block that fits, ties to the lowest address (exact classes over a granule bitmap tree, treap above 1 KiB)")
POL_TABLE(nextfit, POL_NEXTFIT,
          "next fit: the first block that fits at or after the rover, wrapping once (granule index: max tree + free-start bitmap)")
POL_TABLE(segregated, POL_SEGREGATED,
          "segregated fit: exact classes 32..1024 B with LIFO lists, best-fit treap above")
