// Allocator settings (core/allocator.hpp).
#include "core/allocator.hpp"

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

}  // namespace wtasim
