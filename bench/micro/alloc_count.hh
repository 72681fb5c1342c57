#pragma once
// Heap allocations counted for the micro benchmarks' `allocs_per_frame`: alloc_count.cc replaces
// glibc's malloc, calloc and realloc (and so operator new) with wrappers that count each call and
// forward to glibc's own entry points. Link it into a benchmark binary, read the count around
// the timed loop.
#include <cstdint>

namespace vnet::bench {
uint64_t allocations();  // calls to malloc/calloc/realloc since the process started
}
