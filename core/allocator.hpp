// Allocator settings for long runs. The trainer and the simulator allocate the same activation buffers
// (megabytes each) every step; glibc's defaults hand such blocks back to the kernel when they are freed
// (munmap, heap trimming) and fault them in, zeroed, on the next step. keep_freed_memory() keeps them (no
// effect off glibc). Until 2026-12-03 its glibc test ran before any header had defined __GLIBC__ and it did
// nothing; taking effect, it made bench_train on the D 256 config 1.10x faster on one thread (489 -> 537
// tokens/s), and the earlier note here that credited it with 60 % kernel time saved had measured something else.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace wtasim {

void keep_freed_memory();

// This thread's scratch buffer number `slot`, at least n floats, kept from call to call (grown, never
// shrunk or cleared: every user writes the part it reads). For values that pass from one layer to the next
// within a forward or a backward, so that a training step allocates and zeroes nothing once warm. Slots:
// 0-15 the spiking block, 16-23 a spiking linear's backward.
float* thread_scratch(std::size_t slot, std::size_t n);

// An allocator whose value-less construct default-initialises: a std::vector using it leaves the elements
// that resize() adds uninitialised (for trivial types), for buffers that are written before they are read
// (the simulator's event lists: sized for every neuron, then filled by vector stores and cut to the events).
template <class T>
struct default_init_allocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = default_init_allocator<U>;
    };
    default_init_allocator() noexcept = default;
    template <class U>
    default_init_allocator(const default_init_allocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

// An allocator whose blocks start on an Align-byte boundary (a cache line for 64): a vector load that starts
// at a multiple of its width then never straddles two lines (glibc's malloc aligns to 16 bytes only, and a
// 32-byte load from a 16-byte offset splits every other line).
template <class T, std::size_t Align>
struct aligned_allocator {
    static_assert(Align >= alignof(T) && (Align & (Align - 1)) == 0, "a power of two, at least T's alignment");
    using value_type = T;
    template <class U>
    struct rebind {
        using other = aligned_allocator<U, Align>;
    };
    aligned_allocator() noexcept = default;
    template <class U>
    aligned_allocator(const aligned_allocator<U, Align>&) noexcept {}
    T* allocate(std::size_t n) {
        if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{Align}));
    }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete (p, std::align_val_t{Align}); }
    template <class U>
    bool operator==(const aligned_allocator<U, Align>&) const noexcept {
        return true;
    }
};

}  // namespace wtasim
