// Allocator settings (core/allocator.hpp).
#include "core/allocator.hpp"

#include <cstddef>  // defines __GLIBC__ on glibc (through <features.h>), which the test below needs
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace wtasim {

void keep_freed_memory() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);  // blocks up to 256 MiB come from the heap, not from mmap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);    // never shrink the heap for less than 1 GiB free at its top
    mallopt(M_TOP_PAD, 64 << 20);          // grow it in 64 MiB steps
#endif
}

float* thread_scratch(std::size_t slot, std::size_t n) {
    thread_local std::vector<std::vector<float>> pool;
    if (pool.size() <= slot) pool.resize(slot + 1);
    if (pool[slot].size() < n) pool[slot].resize(n);
    return pool[slot].data();
}

}  // namespace wtasim
