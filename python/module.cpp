// The Python module's native part, wtasim._wtasim (docs/python.md): a checkpoint loaded once (its folded
// network and tokenizer), the event-driven simulator on one sequence or a batch, results whose large arrays
// are numpy views of the simulator's own buffers, and the streaming decoder. The Python layer
// (python/wtasim/__init__.py) adds the friendly API on top. Every wtasim::error becomes a Python exception
// (ValueError for bad input, OSError for files) with the same one-line message the command line prints.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "energy/profile.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"
#include "sim/report_inputs.hpp"
#include "sim/stream.hpp"
#include "training/tokenizer.hpp"

namespace py = pybind11;
using namespace wtasim;

namespace {

// A vector moved into a capsule that the numpy array keeps alive: no copy of the data.
template <class T>
py::array_t<T> share(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
    auto* owner = new std::vector<T>(std::move(v));
    py::capsule free_when_done(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(shape, owner->data(), free_when_done);
}

py::dict counts_dict(const op_counts& c) {
    py::dict d;
    for (std::size_t i = 0; i < n_op_classes; ++i)
        d[py::str(std::string(op_class_name(static_cast<op_class>(i))))] = c.n[i];
    return d;
}

struct model {
    std::string path;
    checkpoint ckpt;
    model_config cfg;
    std::unique_ptr<tokenizer> tok;  // none: the checkpoint stores no tokenizer
    std::unique_ptr<sim_network> net;

    explicit model(const std::string& p) : path(p), ckpt(load_checkpoint(p)) {
        cfg = model_config::from_json(ckpt.config, p, "@config");
        if (!ckpt.tokenizer.empty()) tok = std::make_unique<tokenizer>(tokenizer::from_bytes(ckpt.tokenizer, p));
        if (cfg.spiking) net = std::make_unique<sim_network>(sim_network::from_checkpoint(ckpt, p));
    }
    const tokenizer& need_tokenizer() const {
        if (!tok) throw io_error(path + ": has no /tokenizer/model, so a text cannot be encoded");
        return *tok;
    }
    const sim_network& need_network() const {
        if (!net)
            throw config_error(path + ": is an ANN twin (@config/spiking = false); the simulator runs spiking models");
        return *net;
    }
};

// One simulated sequence, kept whole so that energy and spikes can be asked for later.
struct result {
    std::shared_ptr<const model> m;
    std::vector<std::int32_t> tokens;
    sim_result r;
};

std::vector<std::int32_t> as_tokens(const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& a,
                                    const model& m) {
    std::vector<std::int32_t> t;
    for (py::ssize_t i = 0; i < a.size(); ++i) {
        const std::int64_t v = a.data()[i];
        if (v < 0 || static_cast<std::uint64_t>(v) >= m.cfg.vocab)
            throw config_error("tokens[" + std::to_string(i) + "] = " + std::to_string(v) + ", expected 0 .. " +
                               std::to_string(m.cfg.vocab - 1) + " (the model's vocabulary)");
        t.push_back(static_cast<std::int32_t>(v));
    }
    if (t.empty()) throw config_error("tokens: empty, expected at least one token");
    if (t.size() > m.cfg.max_len)
        throw config_error("tokens: " + std::to_string(t.size()) + " tokens, more than the model's max_len " +
                           std::to_string(m.cfg.max_len));
    return t;
}

}  // namespace

PYBIND11_MODULE(_wtasim, mod) {
    mod.doc() = "wtasim's native core: checkpoints, the event-driven simulator, energy (see docs/python.md)";
    mod.attr("__version__") = WTASIM_VERSION;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const io_error& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        } catch (const config_error& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const wtasim::error& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
    });

    mod.def(
        "profile_costs",
        [](const std::string& name) {
            const energy_profile profile = energy_profile_from(name);
            py::dict d;
            for (std::size_t i = 0; i < n_op_classes; ++i)
                d[py::str(std::string(op_class_name(static_cast<op_class>(i))))] =
                    profile.cost(static_cast<op_class>(i));
            return d;
        },
        py::arg("profile") = "horowitz45-fp32");

    py::class_<model, std::shared_ptr<model>>(mod, "Model")
        .def(py::init<const std::string&>(), py::arg("path"))
        .def_property_readonly("path", [](const model& m) { return m.path; })
        .def_property_readonly("config_json", [](const model& m) { return m.cfg.to_json(); })
        .def_property_readonly("step", [](const model& m) { return m.ckpt.step; })
        .def(
            "tokenize",
            [](const model& m, const std::string& text, bool bos) {
                std::vector<std::int32_t> ids;
                if (bos) ids.push_back(tokenizer::bos_id);
                for (auto id : m.need_tokenizer().encode(text)) ids.push_back(id);
                const auto n = static_cast<py::ssize_t>(ids.size());
                return share(std::move(ids), {n});
            },
            py::arg("text"), py::arg("bos") = true)
        .def(
            "detokenize",
            [](const model& m, const std::vector<std::int32_t>& ids) {
                std::vector<std::int32_t> real;
                for (auto id : ids)
                    if (id > tokenizer::mask_id) real.push_back(id);
                return m.need_tokenizer().decode(real);
            },
            py::arg("ids"))
        .def("pieces", [](const model& m) { return m.need_tokenizer().piece_texts(); })
        .def(
            "simulate",
            [](const std::shared_ptr<model>& m,
               const std::vector<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>& batch,
               const std::string& backend, bool record) {
                const sim_network& net = m->need_network();
                const sim_backend& be = sim_backend_named(backend);
                std::vector<std::vector<std::int32_t>> seqs;
                for (const auto& a : batch) seqs.push_back(as_tokens(a, *m));
                std::vector<sim_result> rs;
                {
                    py::gil_scoped_release free_python;
                    rs = simulate_batch(net, seqs, be.schedule, nullptr, record);
                }
                std::vector<std::shared_ptr<result>> out;
                for (std::size_t i = 0; i < rs.size(); ++i)
                    out.push_back(std::make_shared<result>(result{m, std::move(seqs[i]), std::move(rs[i])}));
                return out;
            },
            py::arg("batch"), py::arg("backend") = "cpu", py::arg("record") = false)
        .def(
            "stream",
            [](const std::shared_ptr<model>& m, const std::string& backend) {
                // the decoder refers to the network; the holder keeps the model alive as long as the stream
                struct holder {
                    std::shared_ptr<model> m;
                    stream_decoder dec;
                };
                auto h = std::make_shared<holder>(holder{m, stream_decoder(m->need_network(), backend)});
                py::cpp_function push(
                    [h](std::int32_t token) {
                        if (h->dec.length() >= h->m->cfg.max_len)
                            throw config_error("stream: the model's max_len of " + std::to_string(h->m->cfg.max_len) +
                                               " tokens is reached");
                        if (token < 0 || static_cast<std::uint64_t>(token) >= h->m->cfg.vocab)
                            throw config_error("token " + std::to_string(token) + " is outside the vocabulary");
                        op_counts ops;
                        std::vector<float> logits = h->dec.push(token, &ops);
                        const auto V = static_cast<py::ssize_t>(logits.size());
                        return py::make_tuple(share(std::move(logits), {V}), counts_dict(ops));
                    },
                    py::arg("token"));
                return push;
            },
            py::arg("backend") = "cpu")
        .def_static(
            "sample",
            [](const py::array_t<float, py::array::c_style | py::array::forcecast>& logits, double temperature,
               std::size_t top_k, std::uint64_t seed, std::uint64_t step) {
                const std::vector<float> l(logits.data(), logits.data() + logits.size());
                return sample_token(l, temperature, top_k, seed, step);
            },
            py::arg("logits"), py::arg("temperature"), py::arg("top_k"), py::arg("seed"), py::arg("step"));

    py::class_<result, std::shared_ptr<result>>(mod, "Result")
        .def_property_readonly("tokens",
                               [](const result& r) {
                                   return py::array_t<std::int32_t>(static_cast<py::ssize_t>(r.tokens.size()),
                                                                    r.tokens.data());
                               })
        .def_property_readonly("logits",
                               [](py::object self) {
                                   // a view of the result's own buffer; the array keeps the result alive
                                   auto& r = self.cast<result&>();
                                   const auto O = static_cast<py::ssize_t>(r.m->net->head_outputs);
                                   const auto rows = static_cast<py::ssize_t>(r.r.logits.size()) / O;
                                   return py::array_t<float>({rows, O}, r.r.logits.data(), self);
                               })
        .def_property_readonly("counts", [](const result& r) { return counts_dict(r.r.total); })
        .def_property_readonly("layers",
                               [](const result& r) {
                                   py::list out;
                                   for (const auto& l : r.r.layers) {
                                       py::dict d;
                                       d["name"] = l.name;
                                       d["counts"] = counts_dict(l.ops);
                                       d["events"] = l.events;
                                       d["neuron_steps"] = l.neurons;
                                       d["firing_rate"] = l.neurons ? double(l.events) / double(l.neurons) : 0.0;
                                       out.append(d);
                                   }
                                   return out;
                               })
        .def_property_readonly("recorded", [](const result& r) { return !r.r.spikes.empty(); })
        .def("layer_names",
             [](const result& r) {
                 std::vector<std::string> names;
                 for (const auto& e : r.r.spikes) names.push_back(e.name);
                 return names;
             })
        .def(
            "spikes",
            [](py::object self, const std::string& layer) {
                auto& r = self.cast<result&>();
                if (r.r.spikes.empty()) throw config_error("spikes: the sequence was simulated without record=True");
                std::string names;
                for (const auto& e : r.r.spikes) {
                    if (e.name == layer) {
                        const auto n = static_cast<py::ssize_t>(e.step.size());
                        return py::make_tuple(py::array_t<std::uint32_t>(n, e.step.data(), self),
                                              py::array_t<std::uint32_t>(n, e.token.data(), self),
                                              py::array_t<std::uint32_t>(n, e.neuron.data(), self));
                    }
                    names += (names.empty() ? "" : ", ") + e.name;
                }
                throw config_error("spikes: \"" + layer + "\" is not a neuron layer of this model; it has " + names);
            },
            py::arg("layer"))
        .def(
            "energy",
            [](const result& r, const std::string& profile_name) {
                const energy_profile profile = energy_profile_from(profile_name);
                py::dict by_class, by_layer;
                for (std::size_t i = 0; i < n_op_classes; ++i) {
                    const auto c = static_cast<op_class>(i);
                    by_class[py::str(std::string(op_class_name(c)))] = double(r.r.total.n[i]) * profile.cost(c);
                }
                for (const auto& l : r.r.layers) by_layer[py::str(l.name)] = profile.energy_pj(l.ops);
                const op_counts twin = ann_twin_counts(r.m->cfg, {r.tokens});
                py::dict d;
                d["profile"] = profile.name;
                d["total"] = profile.energy_pj(r.r.total);
                d["paper_convention"] = paper_convention_energy_pj(r.r.total);
                d["by_class"] = by_class;
                d["by_layer"] = by_layer;
                d["ann_twin"] = profile.energy_pj(twin);
                d["ann_twin_paper_convention"] = paper_convention_energy_pj(twin);
                return d;
            },
            py::arg("profile") = "horowitz45-fp32");
}
