// Folding a checkpoint for the event-driven engine (sim/network.hpp).
#include "sim/network.hpp"

#include <algorithm>

#include "attention/batchnorm.hpp"
#include "attention/linear.hpp"
#include "core/error.hpp"
#include "model/weights.hpp"

namespace wtasim {

tile_buffer weight_tiles(const float* wt, std::size_t in, std::size_t out) {
    const std::size_t tiles = (out + weight_tile - 1) / weight_tile;
    tile_buffer p(tiles * in * weight_tile, 0.0f);
    for (std::size_t t = 0; t < tiles; ++t) {
        const std::size_t o0 = t * weight_tile, width = std::min(weight_tile, out - o0);
        for (std::size_t j = 0; j < in; ++j)
            std::copy(wt + j * out + o0, wt + j * out + o0 + width, p.data() + (t * in + j) * weight_tile);
    }
    return p;
}

namespace {
folded_linear fold(const checkpoint& c, const std::string& prefix, std::size_t in, std::size_t out,
                   const std::string& origin) {
    const auto& w = checkpoint_tensor(c, weight_group::params, prefix + ".weight", {out, in}, origin);
    const auto& g = checkpoint_tensor(c, weight_group::params, prefix + ".bn.weight", {out}, origin);
    const auto& b = checkpoint_tensor(c, weight_group::params, prefix + ".bn.bias", {out}, origin);
    const auto& rm = checkpoint_tensor(c, weight_group::buffers, prefix + ".bn.running_mean", {out}, origin);
    const auto& rv = checkpoint_tensor(c, weight_group::buffers, prefix + ".bn.running_var", {out}, origin);
    folded_linear f{in, out, std::vector<float>(in * out), std::vector<float>(out), {}};
    std::vector<float> w_folded(in * out);
    batchnorm_fold(w_folded.data(), f.bias.data(), w.data(), g.data(), b.data(), rm.data(), rv.data(), out, in);
    transpose(f.wt.data(), w_folded.data(), out, in);
    f.tiles = weight_tiles(f.wt.data(), in, out);
    return f;
}

// The learned tau and v_th of the LIF population `name` ("blocks.0.q", "final"), expanded to [C].
sim_neuron_constants learned(const checkpoint& c, const block_config& b, const std::string& name, std::size_t C,
                             const std::string& origin) {
    sim_neuron_constants k;
    auto read = [&](learn_mode m, const std::string& key) {
        const std::size_t size = m == learn_mode::layer ? 1 : C;
        const auto& t = checkpoint_tensor(c, weight_group::params, name + "." + key, {size}, origin);
        std::vector<float> v(C);
        for (std::size_t i = 0; i < C; ++i) v[i] = t.data()[size == 1 ? 0 : i];
        return v;
    };
    if (b.learn.tau != learn_mode::none) {
        k.tau = read(b.learn.tau, "plif_w");
        for (float& w : k.tau) w = plif_tau(w);
    }
    if (b.learn.v_th != learn_mode::none) k.v_th = read(b.learn.v_th, "v_th");
    return k;
}
}  // namespace

sim_network sim_network::from_checkpoint(const checkpoint& c, const std::string& origin) {
    sim_network n;
    n.cfg = model_config::from_json(c.config, origin, "@config");
    if (!n.cfg.spiking)
        throw config_error(origin +
                           ": @config/spiking = false: the ANN twin runs densely (wtasim eval), not as events");
    const std::size_t D = n.cfg.D, F = n.cfg.F, V = n.cfg.vocab;
    // a block the config does not have is a config that disagrees with the tensors
    for (const auto* group : {&c.params, &c.buffers})
        for (const auto& [name, t] : *group)
            if (name.starts_with("blocks.")) {
                const std::size_t dot = name.find('.', 7);
                const std::string index = name.substr(7, dot == std::string::npos ? std::string::npos : dot - 7);
                if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos || index.size() > 6 ||
                    std::stoul(index) >= n.cfg.L)
                    throw io_error(origin + ": " + (group == &c.params ? "/params/" : "/buffers/") + name +
                                   " is not a tensor of the model: @config/layers = " + std::to_string(n.cfg.L));
            }
    n.tok = checkpoint_tensor(c, weight_group::params, "embed.tok.weight", {V, D}, origin).values();
    n.pos = checkpoint_tensor(c, weight_group::params, "embed.pos.weight", {n.cfg.max_len, D}, origin).values();
    for (std::size_t l = 0; l < n.cfg.L; ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        n.blocks.push_back({fold(c, p + "attn.q", D, D, origin),
                            fold(c, p + "attn.k", D, D, origin),
                            fold(c, p + "attn.v", D, D, origin),
                            fold(c, p + "attn.o", D, D, origin),
                            fold(c, p + "mlp.fc1", D, F, origin),
                            fold(c, p + "mlp.fc2", F, D, origin),
                            {}});
        const block_config& b = n.cfg.block;
        for (std::size_t r = 0; r < 7; ++r) {  // SN, SN' and SN_h learn only when they are LIF
            const auto role = static_cast<neuron_role>(r);
            const bool block_kind = role == neuron_role::sn1 || role == neuron_role::sn2 || role == neuron_role::h;
            if (block_kind && b.neuron != neuron_kind::lif) continue;
            n.blocks.back().neurons[r] =
                learned(c, b, p + neuron_role_name(role), role == neuron_role::h ? F : D, origin);
        }
    }
    if (n.cfg.readout == "spikes" && n.cfg.block.neuron == neuron_kind::lif)
        n.final_neuron = learned(c, n.cfg.block, "final", D, origin);
    // A fine-tuned checkpoint runs its task head; a pretrained one its LM head.
    n.task_head = !n.cfg.task.empty();
    const std::size_t O = n.task_head ? n.cfg.task_outputs : V;
    const std::string head = n.task_head ? "task." + n.cfg.task : "head";
    const auto& hw = checkpoint_tensor(c, weight_group::params, head + ".weight", {O, D}, origin);
    n.head_wt.resize(D * O);
    transpose(n.head_wt.data(), hw.data(), O, D);
    n.head_tiles = weight_tiles(n.head_wt.data(), D, O);
    n.head_b = checkpoint_tensor(c, weight_group::params, head + ".bias", {O}, origin).values();
    n.head_outputs = O;
    n.pooled = n.task_head && n.cfg.task_readout == "sequence";
    return n;
}

}  // namespace wtasim
