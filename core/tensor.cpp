// Out-of-line helpers of core/tensor.hpp.
#include "core/tensor.hpp"

namespace wtasim {

std::string shape_string(const shape_t& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

}  // namespace wtasim
