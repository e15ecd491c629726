// Surrogate gradients of the Heaviside spike function (SPEC §2.1): the backward pass replaces
// dS/dH = delta(H - v_th) by g(H - v_th).
//   sigmoid (alpha = 4): g(x) = alpha * s(alpha x) * (1 - s(alpha x)),  primitive s(alpha x)
//   atan    (alpha = 2): g(x) = (alpha/2) / (1 + (pi/2 * alpha * x)^2), primitive atan(pi/2 alpha x)/pi + 1/2
// The primitives are the "relaxed" spike functions whose exact derivative the surrogate is; the tests
// use them to check BPTT against finite differences.
#pragma once

#include <cmath>
#include <numbers>
#include <string>

namespace wtasim {

enum class surrogate_kind { sigmoid, atan };

struct surrogate {
    surrogate_kind kind = surrogate_kind::sigmoid;
    float alpha = 4.0f;

    static surrogate sigmoid(float alpha = 4.0f) { return {surrogate_kind::sigmoid, alpha}; }
    static surrogate atan(float alpha = 2.0f) { return {surrogate_kind::atan, alpha}; }
};

// g(x): the surrogate derivative at x = H - v_th.
inline float surrogate_grad(const surrogate& sg, float x) {
    if (sg.kind == surrogate_kind::sigmoid) {
        const float s = 1.0f / (1.0f + std::exp(-sg.alpha * x));
        return sg.alpha * s * (1.0f - s);
    }
    const float u = std::numbers::pi_v<float> / 2.0f * sg.alpha * x;
    return sg.alpha / 2.0f / (1.0f + u * u);
}

// The smooth primitive of g, in double (used for finite-difference checks of the backward pass).
inline double surrogate_primitive(const surrogate& sg, double x) {
    if (sg.kind == surrogate_kind::sigmoid) return 1.0 / (1.0 + std::exp(-double(sg.alpha) * x));
    return std::atan(std::numbers::pi / 2.0 * double(sg.alpha) * x) / std::numbers::pi + 0.5;
}

// "sigmoid" or "atan"; throws config_error otherwise.
surrogate_kind surrogate_kind_from_name(const std::string& name);
const char* surrogate_kind_name(surrogate_kind k);

}  // namespace wtasim
