"""The Python module against the documented API (docs/python.md): logits against an independent PyTorch
implementation of the model (tools/torch_twin.py in inference mode), and every result against the command line's
own outputs (a trace written by `wtasim simulate`, the text of `wtasim generate`).

Run by CTest as python.api: PYTHONPATH=<build>/python, WTASIM_BIN=<build>/tools/wtasim, from the source root."""
import gc
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

import wtasim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WD = os.path.join(ROOT, "models", "wd-kjv-small.h5")
ANN = os.path.join(ROOT, "models", "ann-kjv-small.h5")
TEXT = "In the beginning God created the heaven and the earth. And the earth was without form"
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_twin  # noqa: E402  (the independent implementation)


@pytest.fixture(scope="module")
def model():
    return wtasim.load(WD)


def cli(*args):
    p = subprocess.run([os.environ["WTASIM_BIN"], *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_config_and_tokenizer(model):
    with h5py.File(WD) as f:
        assert model.config == json.loads(f.attrs["config"])
    t = model.tokenize(TEXT)
    assert t.dtype == np.int32 and t[0] == 2 and len(t) > 10
    assert model.tokenize(TEXT, bos=False).tolist() == t[1:].tolist()
    assert model.detokenize(t) == TEXT
    assert "WD" in repr(model)


def test_logits_agree_with_an_independent_implementation(model):
    toks = model.tokenize(TEXT)
    r = model.simulate(toks)
    assert r.logits.shape == (len(toks), model.config["vocab"]) and r.logits.dtype == np.float32
    with h5py.File(WD) as f:
        cfg = torch_twin.normalise_config(json.loads(f.attrs["config"]))
        params = {k: f["params"][k][()] for k in f["params"]}
        buffers = {k: f["buffers"][k][()] for k in f["buffers"]} if "buffers" in f else {}
    twin = torch_twin.Twin(cfg)
    twin.load(params, buffers)
    twin.eval = True
    with torch.no_grad():
        theirs = twin.forward(torch.as_tensor(toks, dtype=torch.int64)[None],
                              torch.ones(1, len(toks), dtype=torch.int64)).numpy()
    err = np.abs(theirs - r.logits).max() / np.abs(r.logits).max()
    assert err < 1e-5, f"logits differ from the PyTorch implementation by {err:.2e} of the largest"
    assert (theirs.argmax(1) == r.logits.argmax(1)).all()


def test_batch_equals_sequences(model):
    a, b = model.tokenize(TEXT), model.tokenize("And God said, Let there be light")
    one_a, one_b = model.simulate(a), model.simulate(b)
    batch = model.simulate(np.stack([a, a]))
    assert batch.logits.shape == (2, len(a), model.config["vocab"])
    assert np.array_equal(batch.logits[1], one_a.logits)
    ragged = model.simulate([a, b])  # sequences of different lengths: a list of arrays
    assert np.array_equal(ragged[1].logits, one_b.logits)
    assert ragged.counts["AC"] == one_a.counts["AC"] + one_b.counts["AC"]


def test_results_match_the_command_lines_trace(model, tmp_path):
    trace = str(tmp_path / "t.h5")
    cli("simulate", WD, "--text", TEXT, "--trace", trace)
    r = model.simulate(model.tokenize(TEXT), record=True)
    with wtasim.read_trace(trace) as t:
        assert np.array_equal(t.tokens(), r.tokens)
        assert np.array_equal(t.logits(), r.logits)  # the same simulator, bit for bit
        assert t.token_text()[0] == "<s>" and "".join(t.token_text()[1:]).strip() == TEXT
        table = t.energy()
        for c, n in r.counts.items():
            assert sum(row[c] for row in table.values()) == n, c
        layers = {d["name"]: d for d in r.layers}
        for name, row in table.items():
            assert layers[name]["counts"] == row
        pj = sum(sum(row.values()) for row in t.energy("pJ").values())
        assert r.energy()["total"] == pytest.approx(pj, rel=1e-12)
        for layer in r.layer_names():
            for mine, theirs in zip(r.spikes(layer), t.spikes(layer)):
                assert np.array_equal(mine, theirs), layer
            events = [d for d in r.layers if d["name"] == layer][0]["events"]
            assert len(r.spikes(layer)[0]) == events


def test_energy_follows_the_profile(model):
    r = model.simulate(model.tokenize(TEXT))
    e = r.energy("horowitz45-fp32")
    costs = wtasim.profile_costs("horowitz45-fp32")
    assert e["total"] == pytest.approx(sum(n * costs[c] for c, n in r.counts.items()), rel=1e-12)
    assert e["paper_convention"] == pytest.approx(4.6 * r.counts["MAC"] + 0.9 * r.counts["AC"], rel=1e-12)
    assert sum(e["by_layer"].values()) == pytest.approx(e["total"], rel=1e-9)
    assert 0 < e["total"] < e["ann_twin"]  # the spiking model is cheaper than its twin on the same tokens
    assert r.energy("horowitz45-int8")["total"] < e["total"]


def test_arrays_are_views_that_keep_their_buffer(model):
    r = model.simulate(model.tokenize(TEXT))
    logits = r.logits
    assert not logits.flags["OWNDATA"]  # a view of the simulator's buffer, not a copy
    first = logits.copy()
    del r
    gc.collect()
    assert np.array_equal(logits, first)  # the view keeps the result alive


def test_generate_matches_the_command_line(model):
    out = cli("generate", WD, "--text", "In the beginning", "--tokens", "12")
    steps = list(model.generate("In the beginning", 12))
    assert len(steps) == 12
    assert out.splitlines()[0] == "In the beginning" + "".join(s["text"] for s in steps)
    assert all(s["energy_pj"] > 0 for s in steps[:-1])
    sampled = [s["id"] for s in model.generate("In the beginning", 12, temperature=1.0, top_k=20, seed=3)]
    again = [s["id"] for s in model.generate("In the beginning", 12, temperature=1.0, top_k=20, seed=3)]
    assert sampled == again
    # the kernel engine's decoder (the GPU's code, here on the host) streams the same tokens at the same cost
    emulated = list(model.generate("In the beginning", 12, backend="emulated"))
    assert [s["id"] for s in emulated] == [s["id"] for s in steps]
    assert [s["counts"] for s in emulated] == [s["counts"] for s in steps]


def test_every_backend_gives_the_same_batch(model):
    ids = [model.tokenize("In the beginning God created"), model.tokenize("And the earth was")]
    cpu = model.simulate(ids)
    for backend in ("reference", "emulated"):
        other = model.simulate(ids, backend=backend)
        for a, b in zip(cpu, other):
            assert np.array_equal(a.logits, b.logits)
            assert a.counts == b.counts


def test_errors_are_one_clear_line(model):
    with pytest.raises(OSError, match="missing.h5"):
        wtasim.load("missing.h5")
    with pytest.raises(ValueError, match=r"tokens\[1\] = 5000"):
        model.simulate([2, 5000])
    with pytest.raises(ValueError, match="record=True"):
        model.simulate(model.tokenize("In")).spikes("blocks.0.sn1")
    with pytest.raises(ValueError, match="not a neuron layer"):
        model.simulate(model.tokenize("In"), record=True).spikes("nonsense")
    with pytest.raises(ValueError, match="max_len"):
        model.simulate(np.full(model.config["max_len"] + 1, 7))
    with pytest.raises(ValueError, match="ANN twin"):
        wtasim.load(ANN).simulate([2, 7])
