// TBB implementation of core/parallel.hpp.
#include "core/parallel.hpp"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <thread>

namespace wtasim {

void parallel_for_range(std::size_t n, std::size_t grain, range_fn body) {
    if (n == 0) return;
    if (grain == 0) grain = 1;
    if (n <= grain) {
        body(0, n);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); });
}

struct thread_limit::impl {
    tbb::global_control control;
};

thread_limit::thread_limit(std::size_t n)
    : impl_(new impl{tbb::global_control(tbb::global_control::max_allowed_parallelism,
                                         n == 0 ? std::max<std::size_t>(1, std::thread::hardware_concurrency()) : n)}) {
}

thread_limit::~thread_limit() = default;

std::size_t max_threads() {
    return std::min<std::size_t>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism),
                                 static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()));
}

}  // namespace wtasim
