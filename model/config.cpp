// The model configuration and its JSON (model/config.hpp).
#include "model/config.hpp"

#include <cctype>

#include "attention/backend.hpp"
#include "core/json_reader.hpp"

namespace wtasim {

model_config model_config::from_json(const std::string& json_text, const std::string& origin,
                                     const std::string& pointer) {
    const nlohmann::json j = json_reader::parse(json_text, origin);
    json_reader r(j, origin, pointer);
    model_config c;
    c.vocab = r.get_uint("vocab", c.vocab, 2, 1u << 24);
    c.D = r.get_uint("d_model", c.D, 1, 1u << 16);
    c.H = r.get_uint("heads", c.D % 4 == 0 ? 4 : (c.D % 2 == 0 ? 2 : 1), 1, c.D);
    if (c.D % c.H != 0) r.fail("heads", c.H, "must divide d_model = " + std::to_string(c.D));
    c.F = r.get_uint("d_ff", 4 * c.D, 1, 1u << 18);
    c.L = r.get_uint("layers", c.L, 1, 256);
    c.T = r.get_uint("T", c.T, 1, 64);
    c.max_len = r.get_uint("max_len", c.max_len, 1, 1u << 20);
    c.spiking = r.get_bool("spiking", c.spiking);
    c.causal = r.get_bool("causal", c.causal);
    if (!c.spiking && r.has("T") && c.T != 1) r.fail("T", c.T, "the ANN twin runs one step: T must be 1");
    if (!c.spiking) c.T = 1;
    block_config& b = c.block;
    b.D = c.D;
    b.H = c.H;
    b.F = c.F;
    b.neuron = neuron_kind_from_name(r.get_string("neuron", "lif", {"lif", "nilif"}));
    b.backend = r.get_string("backend", "cpu", block_backend_names());
    b.norm = norm_kind_from_name(r.get_string("norm", "batch", {"batch", "running-rms", "none"}));
    if (!c.spiking && b.norm != norm_kind::batch)
        r.fail("norm", norm_kind_name(b.norm), "the ANN twin uses LayerNorm: only \"batch\" (the default)");
    json_reader a = r.object("attention");
    b.attn.kind = attention_kind_from_name(a.get_string("kind", "wta", {"wta", "ssa", "softmax"}));
    b.attn.k = static_cast<int>(a.get_uint("k", 1, 1, 64));
    b.attn.v_th_attn = static_cast<float>(a.get_number("v_th_attn", 0.5, 0.0, 1e6, true));
    b.attn.alpha_wta = static_cast<float>(a.get_number("alpha_wta", 1.0, 0.0, 1e6, true));
    b.attn.causal = c.causal;
    const std::string recency = a.get_string("recency", "none", {"none", "shift", "bias", "shift+bias"});
    b.attn.shift = recency == "shift" || recency == "shift+bias";
    const bool biased = recency == "bias" || recency == "shift+bias";
    if (biased && b.attn.kind != attention_kind::wta)
        a.fail("recency", recency, "a recency bias needs /attention/kind = \"wta\"");
    std::vector<std::uint64_t> bias = a.get_uint_list("bias");
    if (!biased && !bias.empty()) a.fail("bias", bias, "needs /attention/recency = \"bias\" or \"shift+bias\"");
    if (biased && bias.empty()) bias = {1};
    if (bias.size() > attention_config::max_bias)
        a.fail("bias", bias, "at most " + std::to_string(attention_config::max_bias) + " distances");
    for (std::size_t d = 0; d < bias.size(); ++d) {
        if (bias[d] > 1024) a.fail("bias", bias, "each bonus must be <= 1024");
        if (d > 0 && bias[d] > bias[d - 1]) a.fail("bias", bias, "must be non-increasing with distance");
        b.attn.bias[d] = static_cast<float>(bias[d]);
    }
    b.attn.bias_len = bias.size();
    b.attn.fill = a.get_bool("fill", false);
    if (b.attn.fill && !biased) a.fail("fill", true, "needs a recency bias (/attention/recency = \"bias\")");
    json_reader l = r.object("lif");
    b.lif.tau = static_cast<float>(l.get_number("tau", 2.0, 1.0, 1e6, true));
    b.lif.v_th = static_cast<float>(l.get_number("v_th", 1.0, -1e6, 1e6));
    b.lif.v_reset = static_cast<float>(l.get_number("v_reset", 0.0, -1e6, 1e6));
    b.lif.decay_input = l.get_bool("decay_input", true);
    b.lif.detach_reset = l.get_bool("detach_reset", true);
    b.lif.reset = l.get_string("reset", "hard", {"hard", "soft"}) == "hard" ? reset_mode::hard : reset_mode::soft;
    b.lif.sg.kind = surrogate_kind_from_name(l.get_string("surrogate", "sigmoid", {"sigmoid", "atan"}));
    b.lif.sg.alpha =
        static_cast<float>(l.get_number("alpha", b.lif.sg.kind == surrogate_kind::sigmoid ? 4.0 : 2.0, 0.0, 1e6, true));
    if (b.lif.reset == reset_mode::hard && !(b.lif.v_reset < b.lif.v_th))
        l.fail("v_reset", b.lif.v_reset, "must be < v_th = " + std::to_string(b.lif.v_th) + " for a hard reset");
    // learnable constants and per-role surrogate slopes (docs/model.md §10 learnable neurons)
    const std::vector<std::string> modes{"none", "layer", "channel"};
    b.learn.tau = learn_mode_from_name(l.get_string("learn_tau", "none", modes));
    b.learn.v_th = learn_mode_from_name(l.get_string("learn_v_th", "none", modes));
    if (!c.spiking && b.learn.tau != learn_mode::none)
        l.fail("learn_tau", learn_mode_name(b.learn.tau), "the ANN twin has no neurons to learn");
    if (!c.spiking && b.learn.v_th != learn_mode::none)
        l.fail("learn_v_th", learn_mode_name(b.learn.v_th), "the ANN twin has no neurons to learn");
    json_reader la = l.object("layer_alpha");
    for (std::size_t i = 0; i < n_neuron_roles; ++i)
        if (la.has(neuron_role_names[i]))
            b.alpha[i] = static_cast<float>(la.get_number(neuron_role_names[i], 0.0, 0.0, 1e6, true));
    la.finish();
    l.finish();
    // SN_q / SN_k's own threshold: read here, after the block's LIF parameters it defaults to
    b.attn.own_qk_threshold = a.has("v_th_qk");
    b.attn.v_th_qk = static_cast<float>(a.get_number("v_th_qk", b.lif.v_th, -1e6, 1e6));
    if (b.lif.reset == reset_mode::hard && !(b.lif.v_reset < b.attn.v_th_qk))
        a.fail("v_th_qk", b.attn.v_th_qk, "must be > lif/v_reset = " + std::to_string(b.lif.v_reset));
    a.finish();
    json_reader n = r.object("nilif");
    b.nilif.levels = static_cast<int>(n.get_uint("levels", 4, 1, 255));
    b.nilif.beta = static_cast<float>(n.get_number("beta", 0.5, 0.0, 1.0));
    n.finish();
    c.readout = r.get_string("readout", "spikes", {"spikes", "levels", "residual"});
    if (!c.spiking && c.readout != "spikes")
        r.fail("readout", c.readout, "the ANN twin reads LN_final(X): only \"spikes\" (the default)");
    // a slope only for a layer that is LIF: Q, K, V and SN_a always; SN, SN', SN_h and the final neuron when
    // the model's neuron is "lif" (and the final neuron only with the "spikes" readout)
    for (std::size_t i = 0; i < n_neuron_roles; ++i) {
        if (b.alpha[i] == 0.0f) continue;
        const auto role = static_cast<neuron_role>(i);
        const bool block_kind = role == neuron_role::sn1 || role == neuron_role::sn2 || role == neuron_role::h;
        if (!c.spiking) la.fail(neuron_role_names[i], b.alpha[i], "the ANN twin has no neurons");
        if (role == neuron_role::final && c.readout != "spikes")
            la.fail(neuron_role_names[i], b.alpha[i],
                    "readout \"" + c.readout + "\" has no LIF final neuron (its surrogate is never used)");
        if ((block_kind || role == neuron_role::final) && b.neuron == neuron_kind::nilif)
            la.fail(neuron_role_names[i], b.alpha[i],
                    "an NI-LIF layer (/model/neuron = \"nilif\"): only q, k, v and a are LIF layers");
    }
    json_reader task = r.object("task");
    c.task = task.get_string("name", "");
    c.task_readout = task.get_string("readout", "sequence", {"sequence", "token"});
    c.task_outputs = task.get_uint("outputs", 0, 0, 1u << 20);
    if (!c.task.empty() && c.task_outputs == 0) task.fail("outputs", 0, "must be >= 1 for a task head");
    c.task_kind =
        task.get_string("kind", "", {"", "classification", "pair_classification", "regression", "tagging", "span_qa"});
    c.task_labels = task.get_string_list("labels");
    const bool labelled =
        c.task_kind == "classification" || c.task_kind == "pair_classification" || c.task_kind == "tagging";
    if (labelled && c.task_labels.size() != c.task_outputs)
        task.fail("labels", c.task_labels.size(),
                  "one name per output (" + std::to_string(c.task_outputs) + ") for a " + c.task_kind + " head");
    if (!labelled && !c.task_labels.empty())
        task.fail("labels", c.task_labels.size(), "no names: a \"" + c.task_kind + "\" head has no classes");
    for (char ch : c.task)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
            task.fail("name", c.task, "letters, digits, '_' and '-' only (it becomes an HDF5 name)");
    task.finish();
    r.finish();
    return c;
}

std::string model_config::to_json() const {
    const block_config& b = block;
    nlohmann::json j = {{"vocab", vocab},
                        {"d_model", D},
                        {"heads", H},
                        {"d_ff", F},
                        {"layers", L},
                        {"T", T},
                        {"max_len", max_len},
                        {"spiking", spiking},
                        {"causal", causal},
                        {"neuron", b.neuron == neuron_kind::lif ? "lif" : "nilif"},
                        {"backend", b.backend},
                        {"attention",
                         {{"kind", attention_kind_name(b.attn.kind)},
                          {"k", b.attn.k},
                          {"v_th_attn", b.attn.v_th_attn},
                          {"alpha_wta", b.attn.alpha_wta}}},
                        {"lif",
                         {{"tau", b.lif.tau},
                          {"v_th", b.lif.v_th},
                          {"v_reset", b.lif.v_reset},
                          {"decay_input", b.lif.decay_input},
                          {"detach_reset", b.lif.detach_reset},
                          {"reset", b.lif.reset == reset_mode::hard ? "hard" : "soft"},
                          {"surrogate", surrogate_kind_name(b.lif.sg.kind)},
                          {"alpha", b.lif.sg.alpha}}},
                        {"nilif", {{"levels", b.nilif.levels}, {"beta", b.nilif.beta}}}};
    // absent: "none", as in checkpoints made before recency existed
    if (b.attn.shift || b.attn.bias_len > 0)
        j["attention"]["recency"] = b.attn.bias_len == 0 ? "shift" : b.attn.shift ? "shift+bias" : "bias";
    if (b.attn.bias_len > 0) {
        j["attention"]["bias"] = std::vector<int>(b.attn.bias.begin(), b.attn.bias.begin() + b.attn.bias_len);
        j["attention"]["fill"] = b.attn.fill;
    }
    if (b.attn.own_qk_threshold) j["attention"]["v_th_qk"] = b.attn.v_th_qk;
    if (b.norm != norm_kind::batch) j["norm"] = norm_kind_name(b.norm);  // absent: "batch", as before it existed
    // absent: "none" and the common alpha, as in checkpoints made before learnable neurons existed
    if (b.learn.tau != learn_mode::none) j["lif"]["learn_tau"] = learn_mode_name(b.learn.tau);
    if (b.learn.v_th != learn_mode::none) j["lif"]["learn_v_th"] = learn_mode_name(b.learn.v_th);
    for (std::size_t i = 0; i < n_neuron_roles; ++i)
        if (b.alpha[i] > 0.0f) j["lif"]["layer_alpha"][neuron_role_names[i]] = b.alpha[i];
    if (readout != "spikes") j["readout"] = readout;  // absent: "spikes", as in checkpoints made before it
    if (!task.empty()) {
        j["task"] = {{"name", task}, {"readout", task_readout}, {"outputs", task_outputs}};
        if (!task_kind.empty()) j["task"]["kind"] = task_kind;
        if (!task_labels.empty()) j["task"]["labels"] = task_labels;
    }
    return j.dump();
}

}  // namespace wtasim
