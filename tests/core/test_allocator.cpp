// keep_freed_memory and thread_scratch (core/allocator.hpp).
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace wtasim;

#if defined(__GLIBC__)
TEST_CASE("allocator: keep_freed_memory serves multi-megabyte blocks from the heap, not from mmap") {
    // glibc's default hands a 4 MiB block to mmap (a fresh, zeroed mapping on every allocation); once the
    // setting holds, the block comes from the heap and mallinfo2 counts no mapped block for it
    keep_freed_memory();
    const std::size_t mapped_before = mallinfo2().hblks;
    void* p = std::malloc(4u << 20);
    REQUIRE(p != nullptr);
    std::memset(p, 1, 4u << 20);
    CHECK(mallinfo2().hblks == mapped_before);
    std::free(p);
}
#endif

TEST_CASE("allocator: thread_scratch keeps a slot's buffer and contents, grows it, and is per thread") {
    float* a = thread_scratch(3, 100);
    for (int i = 0; i < 100; ++i) a[i] = static_cast<float>(i);
    float* again = thread_scratch(3, 50);  // a smaller request: the same buffer, contents kept
    CHECK(again == a);
    CHECK(again[99] == 99.0f);
    float* other = thread_scratch(4, 100);
    CHECK(other != a);
    float* grown = thread_scratch(3, 1000);
    CHECK(grown[50] == 50.0f);  // grown by a copy: the old contents come along
    CHECK(grown[99] == 99.0f);
    float* theirs = nullptr;
    std::thread t([&] { theirs = thread_scratch(3, 100); });
    t.join();
    CHECK(theirs != grown);
}
