// The train scenario's schema (scenarios/train.hpp).
#include "scenarios/train.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "scenarios/common.hpp"

namespace wtasim {
namespace {

// The recipe a new spiking model gets when its training scenario does not say (docs/model.md §10, "Defaults of a
// new model"; the ablation in docs/RESULTS.md chose them): the heads read the residual stream, and WTA attention
// gets the K/V token shift with the recency bonus [2, 1] and fill. A stored config (a checkpoint's) keeps the
// format's own defaults ("spikes", "none"), so every checkpoint reads as it was written.
void apply_recipe_defaults(nlohmann::json& mj) {
    const auto spiking = mj.find("spiking");
    if (spiking != mj.end() && spiking->is_boolean() && !spiking->get<bool>()) return;
    if (!mj.contains("readout")) mj["readout"] = "residual";
    if (!mj.contains("attention")) mj["attention"] = nlohmann::json::object();
    nlohmann::json& a = mj["attention"];
    if (!a.is_object()) return;  // model_config names the error
    const auto kind = a.find("kind");
    const bool wta = kind == a.end() || (kind->is_string() && kind->get<std::string>() == "wta");
    if (!wta || a.contains("recency")) return;
    a["recency"] = "shift+bias";
    if (!a.contains("bias")) a["bias"] = {2, 1};
    if (!a.contains("fill")) a["fill"] = true;
}

}  // namespace

train_scenario parse_train_scenario(const std::string& text, const std::string& origin) {
    const scenario_text file = parse_scenario(text, origin);
    const nlohmann::json& j = file.root;
    json_reader r = scenario_root(file);
    train_scenario s;
    s.origin = origin;
    s.json = file.json;
    r.object("model");  // marks the key as known; model_config validates its contents below
    const nlohmann::json model_json = j.contains("model") ? j["model"] : nlohmann::json::object();
    if (!model_json.is_object()) r.fail("model", model_json, "expected an object");
    nlohmann::json mj = model_json;
    const bool vocab_given = mj.contains("vocab");
    if (!vocab_given) mj["vocab"] = 2;  // placeholder: the tokenizer decides
    apply_recipe_defaults(mj);
    s.model = model_config::from_json(mj.dump(), origin, "/model");
    if (!vocab_given) s.model.vocab = 0;

    json_reader d = r.object("data");
    s.corpus = d.get_string("corpus", "kjv", {"kjv", "brown", "spam-assassin"});
    s.data_path = d.get_path("path", "", true);
    s.data_dir = read_data_dir(d);
    s.valid_fraction = d.get_number("valid_fraction", 0.05, 0.0, 0.5, true);
    s.test_fraction = d.get_number("test_fraction", 0.05, 0.0, 0.5, true);
    s.max_documents = d.get_uint("max_documents", 0);
    d.finish();

    json_reader t = r.object("tokenizer");
    s.vocab_size = t.get_uint("vocab_size", 2000, 16, 1u << 20);
    s.tokenizer_model = t.get_path("model", "", true);
    s.tokenizer_checkpoint = t.get_path("from", "", true);
    if (t.has("from"))
        for (const char* other : {"model", "vocab_size"})
            if (t.has(other))
                t.fail(other, j["tokenizer"][other],
                       "give either /tokenizer/from (the tokenizer stored in a checkpoint) or /tokenizer/" +
                           std::string(other) + ", not both");
    t.finish();

    json_reader o = r.object("train");
    s.objective = o.get_string("objective", s.model.causal ? "clm" : "mlm", {"clm", "mlm"});
    if (s.objective == "clm" && !s.model.causal)
        o.fail("objective", "clm",
               "needs a causal model (/model/causal = true); a bidirectional encoder trains with \"mlm\"");
    s.steps = o.get_uint("steps", 100, 1);
    s.batch = o.get_uint("batch", 8, 1, 4096);
    s.seq_len = o.get_uint("seq_len", std::min<std::size_t>(64, s.model.max_len), 2, s.model.max_len);
    s.accumulate = o.get_uint("accumulate", 1, 1, 1024);
    s.threads = o.get_uint("threads", 0, 0, 1024);
    s.log_every = o.get_uint("log_every", 10, 1);
    s.eval_every = o.get_uint("eval_every", 50, 1);
    s.eval_batches = o.get_uint("eval_batches", 4, 1);
    s.checkpoint_every = o.get_uint("checkpoint_every", 50, 1);
    s.seed = o.get_uint("seed", 1);
    s.opt.lr = o.get_number("lr", 1e-3, 0.0, 10.0, true);
    s.opt.min_lr = o.get_number("min_lr", s.opt.lr * 0.1, 0.0, s.opt.lr);
    s.opt.warmup = o.get_uint("warmup", std::min<std::size_t>(100, s.steps / 10));
    if (o.has("warmup") && s.opt.warmup > s.steps)
        o.fail("warmup", s.opt.warmup, "longer than the run: must be <= /train/steps = " + std::to_string(s.steps));
    s.opt.weight_decay = o.get_number("weight_decay", 0.01, 0.0, 1.0);
    s.opt.clip = o.get_number("clip", 1.0, 0.0, 1e6);
    s.opt.neuron_lr_scale = o.get_number("neuron_lr_scale", 1.0, 0.0, 1e6);
    if (o.has("neuron_lr_scale") && !s.model.block.learn.any())
        o.fail("neuron_lr_scale", s.opt.neuron_lr_scale,
               "the model learns no neuron constants (set /model/lif/learn_tau or learn_v_th)");
    s.opt.total = s.steps;
    if (o.has("distill")) {
        json_reader k = o.object("distill");
        if (!k.has("teacher")) k.fail("teacher", nullptr, "missing: the teacher checkpoint (HDF5)");
        s.distill.enabled = true;
        s.distill.teacher = k.get_path("teacher", "", true);
        s.distill.weight = k.get_number("weight", s.distill.weight, 0.0, 1.0);
        s.distill.temperature = k.get_number("temperature", s.distill.temperature, 0.0, 1e3, true);
        s.distill.hidden_weight = k.get_number("hidden_weight", s.distill.hidden_weight, 0.0, 1e6);
        k.finish();
    }
    o.finish();
    s.output = r.get_path("output", "runs/default");
    r.finish();
    return s;
}

train_scenario load_train_scenario(const std::string& path) {
    return parse_train_scenario(json_reader::read_file(path, "scenario"), path);
}

eval_result evaluate_checkpoint_file(const std::string& path, const std::string& split, std::size_t batches,
                                     std::ostream& out) {
    const checkpoint c = load_checkpoint(path);
    const auto rng = nlohmann::json::parse(c.rng.empty() ? "{}" : c.rng, nullptr, false);
    if (rng.is_discarded() || !rng.contains("scenario"))
        throw io_error(path + ": the checkpoint records no training scenario (root attribute rng/scenario)");
    const train_scenario s = parse_train_scenario(rng["scenario"].dump(), rng.value("origin", path));
    return evaluate_checkpoint(c, path, s, split, batches, out);
}

}  // namespace wtasim
