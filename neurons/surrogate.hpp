// Surrogate gradients of the Heaviside spike function (docs/model.md §2.1): the backward pass replaces
// dS/dH = delta(H - v_th) by g(H - v_th).
//   sigmoid (alpha = 4): g(x) = alpha * s(alpha x) * (1 - s(alpha x)),  primitive s(alpha x)
//   atan    (alpha = 2): g(x) = (alpha/2) / (1 + (pi/2 * alpha * x)^2), primitive atan(pi/2 alpha x)/pi + 1/2
// g is computed from +, -, *, / and an int conversion only (exp included, see portable_exp), so the
// reference, the SIMD loop and the CUDA kernel produce bit-identical gradients, and the compiler can
// vectorise the backward loop. The primitives are the "relaxed" spike functions whose exact derivative
// the surrogate is; the tests use them to check BPTT against finite differences.
#pragma once

#include <cmath>
#include <numbers>
#include <string>

#include "core/host_device.hpp"

namespace wtasim {

enum class surrogate_kind { sigmoid, atan };

struct surrogate {
    surrogate_kind kind = surrogate_kind::sigmoid;
    float alpha = 4.0f;

    WTASIM_HOST_DEVICE static surrogate sigmoid(float alpha = 4.0f) { return {surrogate_kind::sigmoid, alpha}; }
    WTASIM_HOST_DEVICE static surrogate atan(float alpha = 2.0f) { return {surrogate_kind::atan, alpha}; }
};

// e^x within 2 ulp for x in [-87, 88] (clamped outside): x = n ln2 + r with |r| <= ln2/2 (+ 1e-4),
// e^r by its degree-7 Taylor polynomial (truncation below 1e-8 relative), 2^n put into the exponent
// bits. ln2 is split so that n * ln2_hi is exact for |n| <= 128. Branch-free: the clamp is two selects and
// n = floor(x log2e + 1/2) is a truncation of a value made positive by a bias of 128.
WTASIM_HOST_DEVICE inline float portable_exp(float x) {
    constexpr float log2e = 1.44269504088896341f, ln2_hi = 0.693145751953125f, ln2_lo = 1.42860676533018e-06f;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const std::int32_t n = static_cast<std::int32_t>(x * log2e + 128.5f) - 128;
    const float nf = static_cast<float>(n);
    const float r = (x - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * bits_to_float((n + 127) << 23);
}

// g(x): the surrogate derivative at x = H - v_th. The per-kind functions are branch-free so that a loop
// over neurons calling one of them vectorises.
WTASIM_HOST_DEVICE inline float sigmoid_surrogate_grad(float alpha, float x) {
    const float s = 1.0f / (1.0f + portable_exp(-alpha * x));
    return alpha * s * (1.0f - s);
}
WTASIM_HOST_DEVICE inline float atan_surrogate_grad(float alpha, float x) {
    const float u = 1.57079632679489662f * alpha * x;
    return alpha / 2.0f / (1.0f + u * u);
}
WTASIM_HOST_DEVICE inline float surrogate_grad(surrogate_kind kind, float alpha, float x) {
    return kind == surrogate_kind::sigmoid ? sigmoid_surrogate_grad(alpha, x) : atan_surrogate_grad(alpha, x);
}
WTASIM_HOST_DEVICE inline float surrogate_grad(const surrogate& sg, float x) {
    return surrogate_grad(sg.kind, sg.alpha, x);
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
