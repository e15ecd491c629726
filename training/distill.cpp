// Distillation (training/distill.hpp, docs/model.md §10):
//   KL term  tau^2 mean_r KL(p_t || p_s),  p = softmax(z / tau),  d/dz_s = tau (p_s - p_t) / count
//   MSE term sum_l mean_{real, c} (mean_t X_s^l - X_t^l)^2,        d/dX_s^l[t] = 2 (mean_t X_s^l - X_t^l) / (count D T)
#include "training/distill.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"

namespace wtasim {

namespace {
// p = softmax(z / tau) and log p, in double (max subtracted first).
void softened(double* p, double* logp, const float* z, std::size_t V, double tau) {
    double mx = z[0];
    for (std::size_t v = 1; v < V; ++v) mx = std::max(mx, double(z[v]));
    double sum = 0;
    for (std::size_t v = 0; v < V; ++v) sum += p[v] = std::exp((double(z[v]) - mx) / tau);
    const double lse = std::log(sum);
    for (std::size_t v = 0; v < V; ++v) {
        logp[v] = (double(z[v]) - mx) / tau - lse;
        p[v] /= sum;
    }
}
}  // namespace

double distill_kl(float* dlogits, double scale, const float* student, const float* teacher, const std::int32_t* targets,
                  std::size_t rows, std::size_t V, double tau) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < rows; ++i) count += targets[i] >= 0 ? 1 : 0;
    if (count == 0) return 0.0;
    const double coef = scale * tau / double(count);
    const double total = deterministic_reduce<double>(
        rows, 8, 0.0,
        [&](std::size_t b, std::size_t e) {
            double kl = 0;
            std::vector<double> ps(V), pt(V), ls(V), lt(V);  // softmax and log-softmax at temperature tau
            for (std::size_t i = b; i < e; ++i) {
                if (targets[i] < 0) continue;
                softened(ps.data(), ls.data(), student + i * V, V, tau);
                softened(pt.data(), lt.data(), teacher + i * V, V, tau);
                float* d = dlogits + i * V;
                for (std::size_t v = 0; v < V; ++v) {
                    kl += pt[v] * (lt[v] - ls[v]);
                    d[v] = static_cast<float>(double(d[v]) + coef * (ps[v] - pt[v]));
                }
            }
            return kl;
        },
        [](double a, double b) { return a + b; });
    return tau * tau * total / double(count);
}

std::vector<std::vector<float>> residual_means(const language_model& m) {
    const model_config& c = m.config();
    std::vector<std::vector<float>> out(c.L);
    for (std::size_t l = 0; l < c.L; ++l) {
        const std::vector<float>& x = m.residual(l);
        const std::size_t n = x.size() / c.T;
        out[l].assign(x.begin(), x.begin() + std::ptrdiff_t(n));
        for (std::size_t t = 1; t < c.T; ++t)
            for (std::size_t i = 0; i < n; ++i) out[l][i] += x[t * n + i];
        for (float& v : out[l]) v /= static_cast<float>(c.T);
    }
    return out;
}

void distill_projection::init(std::size_t blocks, std::size_t teacher_d, std::size_t student_d, std::uint64_t seed) {
    weight.clear();
    dweight.clear();
    const counter_rng rng(seed);
    const float bound = 1.0f / std::sqrt(static_cast<float>(student_d));
    for (std::size_t l = 0; l < blocks; ++l) {
        weight.emplace_back(tensor<float>({teacher_d, student_d}));
        dweight.emplace_back(tensor<float>({teacher_d, student_d}, 0.0f));
        rng.fill_uniform(weight.back().data(), weight.back().size(), 0x70726f6aULL + l, 0, -bound, bound);
    }
}

std::vector<param_ref> distill_projection::parameters() {
    std::vector<param_ref> out;
    for (std::size_t l = 0; l < weight.size(); ++l)
        out.push_back({"distill.proj." + std::to_string(l) + ".weight", &weight[l], &dweight[l]});
    return out;
}

void distill_projection::zero_grad() {
    for (auto& d : dweight) d.fill(0.0f);
}

double distill_hidden(language_model& student, const std::vector<std::vector<float>>& teacher,
                      const std::vector<std::uint8_t>& mask, double scale, distill_projection* proj) {
    const model_config& c = student.config();
    const std::size_t D = c.D, T = c.T;
    const auto mean = residual_means(student);
    if (teacher.size() != c.L) throw internal_error("distill_hidden: teacher residual streams of another depth");
    const bool projected = proj != nullptr && !proj->empty();
    const std::size_t tokens = mean.empty() ? 0 : mean[0].size() / D;
    const std::size_t Dt = projected ? proj->weight[0].shape()[0] : D;
    std::size_t real = 0;
    for (std::size_t i = 0; i < tokens; ++i) real += (mask.empty() || mask[i]) ? 1 : 0;
    if (real == 0) return 0.0;
    const double norm = 1.0 / (double(real) * double(Dt));
    double loss = 0;
    std::vector<float> grad(T * tokens * D);
    std::vector<double> u(Dt), dmean(D);
    for (std::size_t l = 0; l < c.L; ++l) {
        if (teacher[l].size() != tokens * Dt)
            throw internal_error("distill_hidden: teacher residual stream of block " + std::to_string(l) +
                                 " has another shape");
        std::fill(grad.begin(), grad.end(), 0.0f);
        const float* P = projected ? proj->weight[l].data() : nullptr;
        float* dP = projected ? proj->dweight[l].data() : nullptr;
        for (std::size_t i = 0; i < tokens; ++i) {
            if (!mask.empty() && !mask[i]) continue;
            const float* m = &mean[l][i * D];
            for (std::size_t o = 0; o < Dt; ++o) {  // u = P m (or m), in double
                if (!projected) {
                    u[o] = m[o];
                    continue;
                }
                double acc = 0;
                for (std::size_t j = 0; j < D; ++j) acc += double(P[o * D + j]) * double(m[j]);
                u[o] = acc;
            }
            std::fill(dmean.begin(), dmean.end(), 0.0);
            for (std::size_t o = 0; o < Dt; ++o) {
                const double diff = u[o] - double(teacher[l][i * Dt + o]);
                loss += diff * diff * norm;
                const double g = scale * 2 * diff * norm;  // d/du[o]
                if (!projected) {
                    dmean[o] = g;
                    continue;
                }
                for (std::size_t j = 0; j < D; ++j) {
                    dmean[j] += g * double(P[o * D + j]);
                    dP[o * D + j] += static_cast<float>(g * double(m[j]));
                }
            }
            for (std::size_t ch = 0; ch < D; ++ch) {
                const auto g = static_cast<float>(dmean[ch] / double(T));
                for (std::size_t t = 0; t < T; ++t) grad[(t * tokens + i) * D + ch] = g;
            }
        }
        student.add_residual_grad(l, grad.data());
    }
    return loss;
}

std::string teacher_mismatch(const model_config& t, const model_config& s, double hidden_weight) {
    const auto str = [](std::size_t v) { return std::to_string(v); };
    if (t.vocab != s.vocab)
        return "the teacher's vocabulary has " + str(t.vocab) + " pieces, the student's " + str(s.vocab);
    if (t.max_len < s.max_len)
        return "the teacher's max_len is " + str(t.max_len) + ", shorter than the student's " + str(s.max_len);
    if (t.causal != s.causal)
        return std::string("the teacher is ") + (t.causal ? "causal" : "bidirectional") + ", the student " +
               (s.causal ? "causal" : "bidirectional");
    if (!s.task.empty() && (t.task_outputs != s.task_outputs || t.task_readout != s.task_readout))
        return "the teacher's task head has " + str(t.task_outputs) + " outputs (" + t.task_readout +
               " readout), the student's " + str(s.task_outputs) + " (" + s.task_readout + ")";
    if (hidden_weight > 0 && t.L != s.L)
        return "hidden_weight > 0 compares the residual streams after each block: the teacher has " + str(t.L) +
               " blocks, the student " + str(s.L) + " (use hidden_weight 0)";
    return "";
}

distiller::distiller(const distill_config& cfg, language_model& teacher, const model_config& student,
                     std::uint64_t seed)
    : cfg_(cfg), teacher_(teacher) {
    if (cfg_.hidden_weight > 0 && teacher.config().D != student.D)
        proj_.init(student.L, teacher.config().D, student.D, seed);
}

distill_terms distiller::lm(language_model& student, float* dlogits, const float* logits, const std::int32_t* targets,
                            const std::int32_t* tokens, std::size_t B, std::size_t N,
                            const std::vector<std::uint8_t>& mask) {
    const auto t0 = std::chrono::steady_clock::now();
    teacher_out_.resize(B * N * teacher_.config().vocab);
    teacher_.forward(teacher_out_.data(), tokens, B, N, mask, false);
    teacher_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return combine(student, dlogits, logits, targets, B * N, student.config().vocab, mask);
}

distill_terms distiller::task(language_model& student, float* dout, const float* out, const std::int32_t* targets,
                              const std::int32_t* tokens, std::size_t B, std::size_t N,
                              const std::vector<std::uint8_t>& mask) {
    const auto t0 = std::chrono::steady_clock::now();
    teacher_out_.resize(teacher_.task_rows(B, N) * teacher_.config().task_outputs);
    teacher_.forward_task(teacher_out_.data(), tokens, B, N, mask, false);
    teacher_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return combine(student, dout, out, targets, student.task_rows(B, N), student.config().task_outputs, mask);
}

distill_terms distiller::combine(language_model& student, float* d, const float* z, const std::int32_t* targets,
                                 std::size_t rows, std::size_t outputs, const std::vector<std::uint8_t>& mask) {
    const double keep = 1.0 - cfg_.weight;
    for (std::size_t i = 0; i < rows * outputs; ++i) d[i] = static_cast<float>(double(d[i]) * keep);
    distill_terms terms;
    terms.kl = distill_kl(d, cfg_.weight, z, teacher_out_.data(), targets, rows, outputs, cfg_.temperature);
    if (cfg_.hidden_weight > 0)
        terms.hidden = distill_hidden(student, residual_means(teacher_), mask, cfg_.hidden_weight, &proj_);
    return terms;
}

}  // namespace wtasim
