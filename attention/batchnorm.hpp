// BatchNorm1d over the channel axis of a [rows, C] matrix (docs/model.md §4: PyTorch semantics, eps 1e-5,
// momentum 0.1, running variance updated with the unbiased batch variance), with statistics over the
// rows of real tokens only. Every row — padding too — is normalised with those statistics:
//   training:  y = (x - mean) rstd gamma + beta,  rstd = 1 / sqrt(var + eps),  mean/var over valid rows
//   eval:      the same with the running statistics
//   backward (exact for any dy, padding rows included):
//     dx_i = gamma dy_i rstd + [i valid] (dmean + 2 dvar (x_i - mean)) / n
//     dvar = -1/2 rstd^3 sum_i gamma dy_i (x_i - mean),  dmean = -rstd sum_i gamma dy_i
//   folding for inference: W' = W * s, bias = beta - running_mean * s, s = gamma / sqrt(running_var + eps)
// The other normalisations (docs/model.md §10) are the eval form with other statistics, so they fold the same way:
//   running-rms: mean 0 and var r, the running mean square of the valid rows (momentum as BN, no Bessel factor);
//                training uses r as it was BEFORE this batch (then updates it): y depends on x only through the
//                affine map, and dx = gamma dy rstd, dgamma = sum dy x rstd, dbeta = sum dy
//   none:        mean 0 and var 1 for ever (y = gamma x / sqrt(1 + eps) + beta), the same backward
// Sums run per channel over rows in ascending order, in double; channels are split over threads, so the
// result does not depend on the thread count and there is one implementation, not a reference and a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wtasim {

struct bn_config {
    float eps = 1e-5f;
    float momentum = 0.1f;
};

// What normalises a spiking linear's output: batch statistics (BN), a running mean square, or nothing.
enum class norm_kind { batch, running_rms, none };
norm_kind norm_kind_from_name(const std::string& name);  // "batch", "running-rms", "none"
const char* norm_kind_name(norm_kind k);

// Training forward. Writes y [rows, C], the batch mean and rstd [C] (saved for backward) and updates the
// running statistics in place. `valid` [rows] marks real-token rows (null: all valid).
void batchnorm_forward_train(float* y, float* mean, float* rstd, float* running_mean, float* running_var,
                             const float* x, const float* gamma, const float* beta, const std::uint8_t* valid,
                             std::size_t rows, std::size_t C, const bn_config& cfg = {});
// Evaluation forward with the running statistics.
void batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, std::size_t rows, std::size_t C, const bn_config& cfg = {});
// Training backward: dx [rows, C]; dgamma, dbeta [C] are accumulated (+=).
void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                        const float* rstd, const float* gamma, const std::uint8_t* valid, std::size_t rows,
                        std::size_t C);
// running-rms training forward: y = x rstd gamma + beta with rstd [C] = 1 / sqrt(running_ms + eps) of the running
// mean square as given (written out for backward); then running_ms = (1 - momentum) running_ms + momentum
// mean_valid(x^2).
void rmsnorm_forward_train(float* y, float* rstd, float* running_ms, const float* x, const float* gamma,
                           const float* beta, const std::uint8_t* valid, std::size_t rows, std::size_t C,
                           const bn_config& cfg = {});
// rstd [C] = 1 / sqrt(running_var + eps), computed in double as the eval forward and the fold do.
void running_rstd(float* rstd, const float* running_var, std::size_t C, const bn_config& cfg = {});
// Backward of the eval form (statistics held fixed: running-rms, none): dx = gamma dy rstd; dgamma += sum dy
// (x - mean) rstd; dbeta += sum dy, over every row. `mean` null: zero.
void batchnorm_backward_frozen(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* mean, const float* rstd, const float* gamma, std::size_t rows,
                               std::size_t C);
// Folds an eval-mode BN into the preceding bias-free weight [out, in]: w_folded [out, in], bias [out].
void batchnorm_fold(float* w_folded, float* bias, const float* w, const float* gamma, const float* beta,
                    const float* running_mean, const float* running_var, std::size_t out, std::size_t in,
                    const bn_config& cfg = {});

}  // namespace wtasim
