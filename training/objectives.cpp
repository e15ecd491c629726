// Objectives and AdamW (training/objectives.hpp).
#include "training/objectives.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim {
namespace {
// sum over i < n of term(i), in double, in four interleaved partial sums (lane i % 4) added pairwise at the
// end: a fixed order that vectorises, where one running sum is a chain of dependent adds.
template <class Term>
double lane_sum(std::size_t n, Term&& term) {
    double part[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (std::size_t l = 0; l < 4; ++l) part[l] += term(i + l);
    for (std::size_t l = 0; i < n; ++i, ++l) part[l] += term(i);
    return (part[0] + part[1]) + (part[2] + part[3]);
}
}  // namespace

loss_result cross_entropy(float* dlogits, const float* logits, const std::int32_t* targets, std::size_t rows,
                          std::size_t V) {
    loss_result r;
    for (std::size_t i = 0; i < rows; ++i) r.count += targets[i] >= 0 ? 1 : 0;
    struct partial {
        double loss = 0;
        std::size_t correct = 0;
    };
    const partial total = deterministic_reduce<partial>(
        rows, 8, partial{},
        [&](std::size_t b, std::size_t e) {
            partial p;
            for (std::size_t i = b; i < e; ++i) {
                float* d = dlogits + i * V;
                const float* z = logits + i * V;
                if (targets[i] < 0) {
                    std::fill(d, d + V, 0.0f);
                    continue;
                }
                const auto target = static_cast<std::size_t>(targets[i]);
                double mx = z[0];
                std::size_t arg = 0;
                for (std::size_t v = 1; v < V; ++v)
                    if (z[v] > mx) mx = z[v], arg = v;
                // e^(z - max) once per logit (float, the branch-free exp: the loop vectorises), summed in
                // double; softmax = e / sum
                const float mxf = static_cast<float>(mx);
                for (std::size_t v = 0; v < V; ++v) d[v] = portable_exp(z[v] - mxf);
                const double sum = lane_sum(V, [&](std::size_t v) { return double(d[v]); });
                const double lse = mx + std::log(sum);
                p.loss += lse - z[target];
                p.correct += arg == target ? 1 : 0;
                const double scale = 1.0 / double(r.count), inv = 1.0 / sum;
                for (std::size_t v = 0; v < V; ++v)
                    d[v] = static_cast<float>((double(d[v]) * inv - (v == target ? 1.0 : 0.0)) * scale);
            }
            return p;
        },
        [](partial a, partial b) {
            return partial{a.loss + b.loss, a.correct + b.correct};
        });
    r.loss = r.count ? total.loss / double(r.count) : 0.0;
    r.correct = total.correct;
    return r;
}

std::vector<std::int32_t> clm_targets(const std::vector<std::int32_t>& tokens, const std::vector<std::uint8_t>& mask,
                                      std::size_t B, std::size_t N) {
    std::vector<std::int32_t> t(B * N, -1);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t n = 0; n + 1 < N; ++n) {
            const std::size_t i = b * N + n;
            const bool real = mask.empty() || (mask[i] && mask[i + 1]);
            if (real) t[i] = tokens[i + 1];
        }
    return t;
}

mlm_batch mlm_mask(const std::vector<std::int32_t>& tokens, const std::vector<std::uint8_t>& mask, std::size_t V,
                   std::int32_t mask_id, const std::vector<std::int32_t>& special, const counter_rng& rng,
                   std::uint64_t step, double rate) {
    mlm_batch out{tokens, std::vector<std::int32_t>(tokens.size(), -1)};
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (!mask.empty() && !mask[i]) continue;
        if (std::find(special.begin(), special.end(), tokens[i]) != special.end()) continue;
        const philox_block bits = rng.bits(step, i);
        const double u = double(bits[0]) / 4294967296.0;
        if (u >= rate) continue;
        out.targets[i] = tokens[i];
        const double how = double(bits[1]) / 4294967296.0;
        if (how < 0.8)
            out.inputs[i] = mask_id;
        else if (how < 0.9)
            out.inputs[i] = static_cast<std::int32_t>((std::uint64_t{bits[2]} * V) >> 32);
    }
    return out;
}

double adamw_config::learning_rate(std::uint64_t step) const {
    if (step < warmup) return lr * double(step + 1) / double(warmup);
    if (step >= total) return min_lr;
    const double progress = double(step - warmup) / double(std::max<std::uint64_t>(1, total - warmup));
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(std::numbers::pi * progress));
}

bool is_neuron_param(const std::string& name) {
    return name.ends_with(".plif_w") || name.ends_with(".v_th");
}

bool decays(const std::string& name) {
    if (name.starts_with("embed.")) return false;
    if (is_neuron_param(name)) return false;
    if (name.ends_with(".bias")) return false;
    if (name.find(".bn.") != std::string::npos || name.find("ln1.") != std::string::npos ||
        name.find("ln2.") != std::string::npos || name.starts_with("final_norm."))
        return false;
    return true;
}

double adamw::step(std::vector<param_ref>& params, double grad_scale) {
    // the squared norm, tensor by tensor
    double sq = 0;
    for (const auto& p : params) {
        const float* g = p.grad->data();
        sq += lane_sum(p.grad->size(), [&](std::size_t i) { return double(g[i]) * double(g[i]); }) * grad_scale *
              grad_scale;
    }
    const double norm = std::sqrt(sq);
    const double clip = (cfg_.clip > 0 && norm > cfg_.clip) ? cfg_.clip / norm : 1.0;
    const double lr = cfg_.learning_rate(t_);
    ++t_;
    const double c1 = 1.0 - std::pow(cfg_.beta1, double(t_)), c2 = 1.0 - std::pow(cfg_.beta2, double(t_));
    for (auto& p : params) {
        auto [mit, m_new] = m_.try_emplace(p.name, p.value->shape());
        auto [vit, v_new] = v_.try_emplace(p.name, p.value->shape());
        if (mit->second.size() != p.value->size()) throw internal_error("adamw: parameter " + p.name + " changed size");
        float* __restrict w = p.value->data();
        const float* __restrict g = p.grad->data();
        float* __restrict m = mit->second.data();
        float* __restrict v = vit->second.data();
        const double wd = decays(p.name) ? cfg_.weight_decay : 0.0;
        const double lr_p = is_neuron_param(p.name) ? lr * cfg_.neuron_lr_scale : lr;
        const double b1 = cfg_.beta1, b2 = cfg_.beta2, eps = cfg_.eps;  // locals: the loop vectorises
        const std::size_t n = p.value->size();
        for (std::size_t i = 0; i < n; ++i) {
            const double gi = double(g[i]) * grad_scale * clip;
            m[i] = static_cast<float>(b1 * m[i] + (1 - b1) * gi);
            v[i] = static_cast<float>(b2 * v[i] + (1 - b2) * gi * gi);
            const double update = (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
            w[i] = static_cast<float>(w[i] - lr_p * (update + wd * w[i]));
        }
    }
    return norm;
}

std::map<std::string, tensor<float>> adamw::state() const {
    std::map<std::string, tensor<float>> s;
    for (const auto& [name, t] : m_) s.emplace("m." + name, t);
    for (const auto& [name, t] : v_) s.emplace("v." + name, t);
    // the step count, exactly, as two 24-bit halves (float holds integers below 2^24 exactly)
    s.emplace("t", tensor<float>({2}, {static_cast<float>(t_ & 0xFFFFFF), static_cast<float>(t_ >> 24)}));
    return s;
}

void adamw::load_state(const std::map<std::string, tensor<float>>& s) {
    m_.clear();
    v_.clear();
    for (const auto& [key, t] : s) {
        if (key.starts_with("m."))
            m_.emplace(key.substr(2), t);
        else if (key.starts_with("v."))
            v_.emplace(key.substr(2), t);
        else if (key == "t" && t.size() == 2)
            t_ = static_cast<std::uint64_t>(t.data()[0]) + (static_cast<std::uint64_t>(t.data()[1]) << 24);
    }
}

}  // namespace wtasim
