// The attention kinds and the whole spiking block (training mode) against PyTorch autograd
// (tests/data/block_golden.json, from the independent torch implementation tools/gen_block_golden.py):
// outputs, winners, every input and parameter gradient, BN running statistics and spike counts.
#include <doctest/doctest.h>

#include "attention/ann_block.hpp"
#include "attention/attention.hpp"
#include "attention/backend.hpp"
#include "attention/block.hpp"
#include "golden.hpp"

using namespace wtasim;
using test::floats;

namespace {
attention_config attention_from(const nlohmann::json& a) {
    attention_config c;
    c.kind = attention_kind_from_name(a["kind"]);
    c.causal = a["causal"];
    c.k = a["k"];
    c.alpha_wta = a["alpha_wta"];
    if (a.contains("v_th_attn")) c.v_th_attn = a["v_th_attn"];
    return c;
}
// Copies the golden case's parameter values into the model's tensors, by name.
void load_params(const std::vector<param_ref>& params, const nlohmann::json& values_by_name) {
    for (const auto& p : params) {
        CAPTURE(p.name);
        REQUIRE(values_by_name.contains(p.name));
        const auto values = floats(values_by_name[p.name]);
        REQUIRE(values.size() == p.value->size());
        std::copy(values.begin(), values.end(), p.value->begin());
    }
}
}  // namespace

TEST_CASE("golden: attention kinds forward and backward equal PyTorch autograd") {
    const auto& cases = test::block_golden()["attention_cases"];
    REQUIRE(cases.size() >= 8);
    for (const auto& c : cases) {
        const std::string name = c["name"];
        CAPTURE(name);
        const attention_config cfg = attention_from(c["attention"]);
        const auto mask = test::mask_of(c["mask"]);
        const attention_dims d{seq_shape{c["T"], c["B"], c["N"]}, c["H"], c["dh"], mask.data()};
        const auto q = floats(c["q"]), k = floats(c["k"]), v = floats(c["v"]), d_o = floats(c["do"]);
        const std::size_t n = q.size(), nw = d.shape.T * d.shape.B * d.H * d.shape.N * std::size_t(cfg.k);
        for (const std::string& backend : attention_backend_names()) {
            CAPTURE(backend);
            const attention_backend& b = attention_backend_named(backend);
            std::vector<float> o(n), dq(n), dk(n), dv(n);
            std::vector<std::int32_t> w(nw, -7);
            b.forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, cfg);
            b.backward(dq.data(), dk.data(), dv.data(), d_o.data(), q.data(), k.data(), v.data(), w.data(), d, cfg);
            CHECK(test::count_far(o, floats(c["o"]), 1e-5, 1e-6) == 0);
            if (cfg.kind == attention_kind::wta) CHECK(w == c["winners"].get<std::vector<std::int32_t>>());
            CHECK(test::count_far(dq, floats(c["dq"]), 1e-4, 1e-6) == 0);
            CHECK(test::count_far(dk, floats(c["dk"]), 1e-4, 1e-6) == 0);
            CHECK(test::count_far(dv, floats(c["dv"]), 1e-4, 1e-6) == 0);
        }
    }
}

TEST_CASE("golden: the spiking block in training mode equals PyTorch autograd") {
    const auto& cases = test::block_golden()["block_cases"];
    REQUIRE(cases.size() >= 5);
    for (const auto& c : cases) {
        const std::string name = c["name"];
        CAPTURE(name);
        block_config cfg;
        cfg.D = c["D"];
        cfg.H = c["H"];
        cfg.F = c["F"];
        cfg.neuron = neuron_kind_from_name(c["neuron"]);
        cfg.attn = attention_from(c["attention"]);
        cfg.nilif = {c["neuron_params"]["nilif"]["levels"], c["neuron_params"]["nilif"]["beta"]};
        spiking_block block(cfg);
        load_params(block.parameters(), c["params"]);
        block.zero_grad();
        const seq_shape shape{c["T"], c["B"], c["N"]};
        const auto mask = test::mask_of(c["mask"]);
        const auto x = floats(c["x"]), dy = floats(c["dy"]);
        std::vector<float> y(x.size()), dx(x.size());
        block.forward(y.data(), x.data(), shape, mask, true);
        const auto sp = block.spikes(false);
        const auto& sc = c["spike_counts"];
        CHECK(sp.s1 == sc["s1"]);
        CHECK(sp.q == sc["q"]);
        CHECK(sp.k == sc["k"]);
        CHECK(sp.v == sc["v"]);
        CHECK(sp.z == sc["z"]);
        CHECK(sp.s2 == sc["s2"]);
        CHECK(sp.h == sc["h"]);
        CHECK(test::count_far(y, floats(c["y"]), 1e-4, 1e-5) == 0);
        block.backward(dx.data(), dy.data());
        CHECK(test::count_far(dx, floats(c["dx"]), 1e-3, 1e-4) == 0);
        for (auto& p : block.parameters()) {
            CAPTURE(p.name);
            CHECK(test::count_far(p.grad->values(), floats(c["grads"][p.name]), 1e-3, 1e-4) == 0);
        }
        for (auto& b : block.buffers()) {
            CAPTURE(b.name);
            CHECK(test::count_far(b.value->values(), floats(c["running_out"][b.name]), 1e-5, 1e-6) == 0);
        }
    }
}

TEST_CASE("golden: the ANN twin block equals PyTorch autograd") {
    const auto& cases = test::block_golden()["ann_cases"];
    REQUIRE(cases.size() >= 2);
    for (const auto& c : cases) {
        const std::string name = c["name"];
        CAPTURE(name);
        ann_block_config cfg{c["D"], c["H"], c["F"], c["causal"]};
        ann_block block(cfg);
        load_params(block.parameters(), c["params"]);
        block.zero_grad();
        const auto mask = test::mask_of(c["mask"]);
        const auto x = floats(c["x"]), dy = floats(c["dy"]);
        std::vector<float> y(x.size()), dx(x.size());
        block.forward(y.data(), x.data(), c["B"], c["N"], mask);
        CHECK(test::count_far(y, floats(c["y"]), 1e-4, 1e-5) == 0);
        block.backward(dx.data(), dy.data());
        CHECK(test::count_far(dx, floats(c["dx"]), 1e-3, 1e-4) == 0);
        for (auto& p : block.parameters()) {
            CAPTURE(p.name);
            // attn.k.bias shifts every score of a query equally, which softmax ignores: its gradient is 0 up
            // to float noise on both sides, so gradients are compared with an absolute floor of 1e-6.
            CHECK(test::count_far(p.grad->values(), floats(c["grads"][p.name]), 1e-3, 1e-4, 1e-6) == 0);
            if (p.name == "attn.k.bias")
                for (float g : p.grad->values()) CHECK(std::abs(g) < 1e-6f);
        }
    }
}
