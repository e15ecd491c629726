"""tools/torch_convert.py: a wtasim checkpoint survives the round trip through a PyTorch state_dict bit for bit, and a
model trained in PyTorch (tools/torch_twin.py's implementation, a few AdamW steps) is simulated by wtasim with the
logits PyTorch computes for it."""
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
CONVERT = os.path.join(ROOT, "tools", "torch_convert.py")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_twin  # noqa: E402

TEXT = "And God said, Let there be light: and there was light. And God saw the light, that it was good"


def convert(*args, ok=True):
    p = subprocess.run([sys.executable, CONVERT, *args], capture_output=True, text=True)
    assert (p.returncode == 0) == ok, p.stderr
    return p


def test_round_trip_is_exact(tmp_path):
    pt, back = str(tmp_path / "m.pt"), str(tmp_path / "back.h5")
    convert("to-torch", WD, pt)
    sd = torch.load(pt)
    assert "embed.tok.weight" in sd and "blocks.0.attn.q.bn.running_mean" in sd
    assert all(isinstance(v, torch.Tensor) for v in sd.values())  # a plain state_dict
    convert("to-wtasim", pt, back)
    with h5py.File(WD) as a, h5py.File(back) as b:
        assert json.loads(a.attrs["config"]) == json.loads(b.attrs["config"])
        for group in ("params", "buffers"):
            assert sorted(a[group]) == sorted(b[group])
            for n in a[group]:
                assert np.array_equal(a[group][n][()], b[group][n][()]), n
        assert np.array_equal(a["tokenizer/model"][()], b["tokenizer/model"][()])
    original, converted = wtasim.load(WD), wtasim.load(back)
    toks = original.tokenize(TEXT)
    assert np.array_equal(original.simulate(toks).logits, converted.simulate(toks).logits)


def test_a_model_trained_in_pytorch_simulates_as_pytorch_computes(tmp_path):
    shipped = wtasim.load(WD)
    raw = dict(shipped.config)
    cfg = torch_twin.normalise_config(dict(raw))
    twin = torch_twin.Twin(cfg)
    twin.init_random(7)
    toks = torch.as_tensor(np.stack([shipped.tokenize(TEXT)[:24]] * 4), dtype=torch.int64)
    mask = torch.ones_like(toks)
    targets = torch.cat([toks[:, 1:], torch.full((4, 1), -1)], dim=1).reshape(-1)
    opt = torch.optim.AdamW(list(twin.params.values()), lr=1e-3)
    for _ in range(5):  # training mode: BN batch statistics, running statistics updated
        opt.zero_grad()
        torch_twin.cross_entropy(twin.forward(toks, mask), targets).backward()
        opt.step()
    pt, h5 = str(tmp_path / "trained.pt"), str(tmp_path / "trained.h5")
    cfg_file = tmp_path / "config.json"
    cfg_file.write_text(json.dumps(raw))
    torch.save({**{k: v.detach() for k, v in twin.params.items()}, **twin.buffers}, pt)
    convert("to-wtasim", pt, h5, "--config", str(cfg_file), "--tokenizer-from", WD)
    seq = shipped.tokenize(TEXT)
    mine = wtasim.load(h5).simulate(seq).logits
    twin.eval = True
    with torch.no_grad():
        theirs = twin.forward(torch.as_tensor(seq, dtype=torch.int64)[None],
                              torch.ones(1, len(seq), dtype=torch.int64)).numpy()
    err = np.abs(theirs - mine).max() / np.abs(theirs).max()
    assert err < 1e-5, f"the simulator's logits differ from PyTorch's by {err:.2e} of the largest"


def test_unusable_state_dicts_get_one_line(tmp_path):
    pt = str(tmp_path / "m.pt")
    convert("to-torch", WD, pt)
    sd = torch.load(pt)
    del sd["head.bias"]
    broken = str(tmp_path / "broken.pt")
    torch.save(sd, broken)
    p = convert("to-wtasim", broken, str(tmp_path / "x.h5"), ok=False)
    assert p.returncode == 2 and "head.bias" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "x.h5")
    sd = torch.load(pt)
    sd["head.bias"] = torch.zeros(3)
    torch.save(sd, broken)
    p = convert("to-wtasim", broken, str(tmp_path / "x.h5"), ok=False)
    assert "head.bias has shape (3,)" in p.stderr
    (tmp_path / "junk.pt").write_text("not torch")
    p = convert("to-wtasim", str(tmp_path / "junk.pt"), str(tmp_path / "x.h5"), ok=False)
    assert "junk.pt" in p.stderr and len(p.stderr.strip().splitlines()) == 1
