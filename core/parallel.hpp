// Parallel loops whose results do not depend on the number of threads.
// - parallel_for visits every index of [0, n) exactly once, in chunks of at least `grain`; a body that
//   writes only to its own indices is deterministic by construction.
// - deterministic_reduce cuts [0, n) into fixed chunks of `chunk` indices (independent of the thread
//   count), reduces each chunk serially, then folds the partials in chunk order on the calling thread.
//   Floating-point sums therefore come out bit-identical for 1, 2 or 64 threads.
// TBB stays out of this header; the loops are dispatched through a non-allocating function reference.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace wtasim {

// A non-owning reference to a callable `void(std::size_t begin, std::size_t end)`.
class range_fn {
public:
    template <class F>
    range_fn(F& f)
        : obj_(static_cast<void*>(&f)),
          call_([](void* o, std::size_t b, std::size_t e) { (*static_cast<F*>(o))(b, e); }) {}
    void operator()(std::size_t b, std::size_t e) const { call_(obj_, b, e); }

private:
    void* obj_;
    void (*call_)(void*, std::size_t, std::size_t);
};

void parallel_for_range(std::size_t n, std::size_t grain, range_fn body);

template <class F>
void parallel_for(std::size_t n, std::size_t grain, F&& body) {
    auto& ref = body;
    parallel_for_range(n, grain, range_fn(ref));
}

// chunk_fn(begin, end) -> T reduces one chunk; combine(T, T) -> T folds partials left to right.
template <class T, class ChunkFn, class Combine>
T deterministic_reduce(std::size_t n, std::size_t chunk, T init, ChunkFn&& chunk_fn, Combine&& combine) {
    if (n == 0) return init;
    if (chunk == 0) chunk = 1;
    const std::size_t n_chunks = (n + chunk - 1) / chunk;
    std::vector<T> partial(n_chunks, init);
    parallel_for(n_chunks, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t c = b; c < e; ++c) partial[c] = chunk_fn(c * chunk, std::min(n, (c + 1) * chunk));
    });
    T acc = init;
    for (const T& p : partial) acc = combine(acc, p);
    return acc;
}

// Caps the threads wtasim's loops may use while it lives (RAII over TBB's global control).
// n = 0 means "all hardware threads".
class thread_limit {
public:
    explicit thread_limit(std::size_t n);
    ~thread_limit();
    thread_limit(const thread_limit&) = delete;
    thread_limit& operator=(const thread_limit&) = delete;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The number of threads a parallel loop may use right now.
std::size_t max_threads();

}  // namespace wtasim
