// Central finite differences of a scalar function of many inputs, in double: the independent check of
// every backward pass (gradients are checked against finite differences).
#pragma once

#include <vector>

namespace wtasim::test {

// d loss / d x[k] ~ (loss(x + eps e_k) - loss(x - eps e_k)) / (2 eps), for every k.
template <class Loss>
std::vector<double> central_difference(const std::vector<double>& x, double eps, Loss&& loss) {
    std::vector<double> grad(x.size());
    std::vector<double> shifted = x;
    for (std::size_t k = 0; k < x.size(); ++k) {
        shifted[k] = x[k] + eps;
        const double up = loss(shifted);
        shifted[k] = x[k] - eps;
        const double down = loss(shifted);
        shifted[k] = x[k];
        grad[k] = (up - down) / (2 * eps);
    }
    return grad;
}

}  // namespace wtasim::test
