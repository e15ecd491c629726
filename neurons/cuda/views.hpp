// Internal to neurons/cuda/: the size check every device entry point makes on its views.
#pragma once

#include <string>

#include "core/array_view.hpp"
#include "core/error.hpp"

namespace wtasim::cuda_detail {
template <class T>
void require_size(device_view<T> v, std::size_t size, const char* op, const char* what) {
    if (v.size() != size)
        throw internal_error(std::string(op) + ": device view " + what + " holds " + std::to_string(v.size()) +
                             " elements, expected T * n = " + std::to_string(size));
}
}  // namespace wtasim::cuda_detail
