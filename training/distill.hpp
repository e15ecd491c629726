// Distillation from a teacher model (docs/model.md §10), for pretraining and task fine-tuning alike:
//   L = (1 - w) L_task + w tau^2 KL(softmax(z_t / tau) || softmax(z_s / tau)) + w_h sum_l MSE(X_t^l, mean_t X_s^l)
// The KL term runs over the rows the task loss counts (target >= 0) and is averaged like it; the MSE term
// compares the residual stream after each block l over real tokens and channels. A teacher of another width
// D_t is compared through a learned projection per block, MSE(X_t^l, P_l mean_t X_s^l) with P_l [D_t, D_s],
// trained with the student and kept as training state (the checkpoint's /optimizer group), not as a model part. The
// teacher runs its own forward in evaluation mode (training = false) and never receives a gradient; its forward time is
// kept apart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "training/language_model.hpp"

namespace wtasim {

struct distill_config {
    bool enabled = false;
    std::string teacher;  // the teacher checkpoint (train scenarios); empty in task scenarios (the fine-tuned twin)
    double weight = 0.5, temperature = 1.0, hidden_weight = 0.0;
};

// tau^2 x the mean, over the rows r with targets[r] >= 0, of KL(softmax(teacher_r / tau) || softmax(student_r / tau))
// (soft-maxes in double). Adds `scale` times its gradient w.r.t. the student logits, tau (p_s - p_t) / count per
// counted row, to `dlogits` [rows, V]; other rows are left as they are.
double distill_kl(float* dlogits, double scale, const float* student, const float* teacher, const std::int32_t* targets,
                  std::size_t rows, std::size_t V, double tau);

// The residual stream after every block of the model's last forward, averaged over T: [L][B * N * D].
std::vector<std::vector<float>> residual_means(const language_model& m);

// The learned maps P_l [D_t, D_s] from the student's residual width to the teacher's, one per block, named
// "distill.proj.<l>.weight"; Uniform(-1/sqrt(D_s), 1/sqrt(D_s)) at the start. Empty when the widths agree.
struct distill_projection {
    std::vector<tensor<float>> weight, dweight;
    void init(std::size_t blocks, std::size_t teacher_d, std::size_t student_d, std::uint64_t seed);
    bool empty() const { return weight.empty(); }
    std::vector<param_ref> parameters();
    void zero_grad();
};

// sum over blocks l of the mean, over real tokens (`mask` [B, N] of the last forward, empty: all) and teacher
// channels, of (P_l mean_t X_s^l - X_t^l)^2 (no P_l when `proj` is null or empty: the widths agree), with `teacher`
// [L][B * N * D_t] (residual_means of the teacher on the same batch). Queues `scale` times its gradient into the
// student's next backward (language_model::add_residual_grad; 1/T per step) and adds it to proj's dweight.
double distill_hidden(language_model& student, const std::vector<std::vector<float>>& teacher,
                      const std::vector<std::uint8_t>& mask, double scale, distill_projection* proj = nullptr);

// Why `teacher` cannot teach `student`, or "" if it can: the vocabulary must be the same, max_len at least the
// student's, both causal or both bidirectional, and with hidden_weight > 0 the same number of blocks.
std::string teacher_mismatch(const model_config& teacher, const model_config& student, double hidden_weight);

// The terms of the combined loss for one batch.
struct distill_terms {
    double kl = 0, hidden = 0;
    double objective(double task_loss, const distill_config& c) const {
        return (1 - c.weight) * task_loss + c.weight * kl + c.hidden_weight * hidden;
    }
};

// A teacher and the options: runs the teacher on the student's batch and turns the gradient of the task loss
// into the gradient of the combined loss.
class distiller {
public:
    // With hidden_weight > 0 and a teacher of another width than `student`, the projections start from `seed`.
    distiller(const distill_config& cfg, language_model& teacher, const model_config& student, std::uint64_t seed = 0);

    // After the student's forward (LM head, logits [B * N, V]) and the task loss's gradient in dlogits.
    distill_terms lm(language_model& student, float* dlogits, const float* logits, const std::int32_t* targets,
                     const std::int32_t* tokens, std::size_t B, std::size_t N, const std::vector<std::uint8_t>& mask);
    // The same for the task head (out [rows, outputs], rows = student.task_rows(B, N)).
    distill_terms task(language_model& student, float* dout, const float* out, const std::int32_t* targets,
                       const std::int32_t* tokens, std::size_t B, std::size_t N, const std::vector<std::uint8_t>& mask);

    double teacher_seconds() const { return teacher_seconds_; }  // in the teacher's forward, so far
    const distill_config& config() const { return cfg_; }
    // The projections' parameters (for the optimiser, the checkpoint's /optimizer group and resume); empty when
    // there are none.
    std::vector<param_ref> parameters() { return proj_.parameters(); }
    void zero_grad() { proj_.zero_grad(); }

private:
    distill_terms combine(language_model& student, float* d, const float* z, const std::int32_t* targets,
                          std::size_t rows, std::size_t outputs, const std::vector<std::uint8_t>& mask);
    distill_config cfg_;
    language_model& teacher_;
    distill_projection proj_;
    std::vector<float> teacher_out_;
    double teacher_seconds_ = 0;
};

}  // namespace wtasim
