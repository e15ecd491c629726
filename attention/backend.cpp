// The attention and linear backend tables (attention/backend.hpp).
#include "attention/backend.hpp"

#include "core/backend_registry.hpp"
#include "core/error.hpp"
#include "neurons/backend.hpp"

namespace wtasim {
namespace {
// The reference's real-valued softmax attention is its attention kernel with float dot-product scores
// and no winners (attention/attention.cpp); the cpu backend has a parallel copy of the same arithmetic.
void reference_real_forward(float* o, const float* q, const float* k, const float* v, const attention_dims& d,
                            const attention_config& cfg) {
    if (cfg.kind != attention_kind::softmax) throw internal_error("real_attention_forward: only the softmax kind");
    attention_forward(o, nullptr, q, k, v, d, cfg);
}
void reference_real_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                             const float* v, const attention_dims& d, const attention_config& cfg) {
    if (cfg.kind != attention_kind::softmax) throw internal_error("real_attention_backward: only the softmax kind");
    attention_backward(dq, dk, dv, d_o, q, k, v, nullptr, d, cfg);
}

const char* const no_cuda_kernels = "there are no CUDA attention or linear kernels yet";

const backend_registry<attention_backend>& attention_registry() {
    static const backend_registry<attention_backend> r(
        "attention",
        {{"reference", &wtasim::attention_forward, &wtasim::attention_backward, false, &reference_real_forward,
          &reference_real_backward},
         {"cpu", &cpu::attention_forward, &cpu::attention_backward, true, &cpu::real_attention_forward,
          &cpu::real_attention_backward}},
        {{"cuda", no_cuda_kernels}});
    return r;
}

const backend_registry<linear_backend>& linear_registry() {
    static const backend_registry<linear_backend> r(
        "linear",
        {{"reference", &wtasim::linear_forward_spikes, &wtasim::linear_forward_dense, &wtasim::linear_backward_input,
          &wtasim::linear_backward_weight_spikes, &wtasim::linear_backward_weight_dense},
         {"cpu", &cpu::linear_forward_spikes, &cpu::linear_forward_dense, &cpu::linear_backward_input,
          &cpu::linear_backward_weight_spikes, &cpu::linear_backward_weight_dense}},
        {{"cuda", no_cuda_kernels}});
    return r;
}
}  // namespace

std::vector<std::string> attention_backend_names() {
    return attention_registry().names();
}

const attention_backend& attention_backend_named(const std::string& name) {
    return attention_registry().named(name);
}

std::vector<std::string> linear_backend_names() {
    return linear_registry().names();
}

const linear_backend& linear_backend_named(const std::string& name) {
    return linear_registry().named(name);
}

std::vector<std::string> block_backend_names() {
    return common_backend_names({neuron_backend_names(), attention_backend_names(), linear_backend_names()});
}

}  // namespace wtasim
