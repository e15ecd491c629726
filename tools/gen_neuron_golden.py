#!/usr/bin/env python3
"""Golden vectors for the neuron tests, computed by PyTorch autograd (Debian python3-torch).

An independent implementation of docs/model.md §2: LIF and NI-LIF written directly from the equations with
torch tensors, spikes through autograd Functions whose backward is the surrogate (LIF) or the
straight-through estimator (NI-LIF), BPTT done by autograd. Seeded, so rerunning gives the same file:
    /usr/bin/python3 tools/gen_neuron_golden.py tests/data/neurons_golden.json
"""
import json
import math
import sys

import torch


class Heaviside(torch.autograd.Function):
    """S = (x >= 0) forward; surrogate derivative backward."""

    @staticmethod
    def forward(ctx, x, kind, alpha):
        ctx.save_for_backward(x)
        ctx.kind, ctx.alpha = kind, alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        if ctx.kind == "sigmoid":
            sg = torch.sigmoid(a * x)
            g = a * sg * (1 - sg)
        else:
            g = (a / 2) / (1 + (math.pi / 2 * a * x) ** 2)
        return grad * g, None, None


class RoundClip(torch.autograd.Function):
    """S = clip(round(U), 0, D) / D forward; dS/dU = 1/D on [0, D] backward."""

    @staticmethod
    def forward(ctx, u, levels):
        ctx.save_for_backward(u)
        ctx.levels = levels
        return torch.clamp(torch.round(u), 0, levels) / levels

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        inside = ((u >= 0) & (u <= ctx.levels)).to(u.dtype)
        return grad * inside / ctx.levels, None


def lif(x, p):
    v_reset = p["v_reset"] if p["reset"] == "hard" else 0.0
    v = torch.full_like(x[0], v_reset)
    out = []
    for t in range(x.shape[0]):
        if p["decay_input"]:
            h = v + (x[t] - (v - v_reset)) / p["tau"]
        else:
            h = v - (v - v_reset) / p["tau"] + x[t]
        s = Heaviside.apply(h - p["v_th"], p["surrogate"], p["alpha"])
        s_reset = s.detach() if p["detach_reset"] else s
        if p["reset"] == "hard":
            v = s_reset * v_reset + (1 - s_reset) * h
        else:
            v = h - s_reset * p["v_th"]
        out.append(s)
    return torch.stack(out)


def nilif(x, p):
    hm = torch.zeros_like(x[0])
    out = []
    for t in range(x.shape[0]):
        u = hm + x[t]
        s = RoundClip.apply(u, float(p["levels"]))
        hm = p["beta"] * (u - p["levels"] * s)
        out.append(s)
    return torch.stack(out)


LIF_DEFAULT = dict(tau=2.0, v_th=1.0, v_reset=0.0, decay_input=True, detach_reset=True, reset="hard",
                   surrogate="sigmoid", alpha=4.0)
CASES = [
    ("lif_default", "lif", {}, 4, 1.0, 0.8),
    ("lif_no_decay_input", "lif", dict(decay_input=False), 4, 0.5, 0.6),
    ("lif_soft", "lif", dict(reset="soft"), 4, 1.0, 0.8),
    ("lif_hard_attached", "lif", dict(detach_reset=False), 4, 1.0, 0.8),
    ("lif_soft_attached", "lif", dict(reset="soft", detach_reset=False), 4, 1.0, 0.8),
    ("lif_atan", "lif", dict(surrogate="atan", alpha=2.0), 4, 1.0, 0.8),
    ("lif_tau3_vreset", "lif", dict(tau=3.0, v_th=0.8, v_reset=-0.2, detach_reset=False, surrogate="atan",
                                    alpha=2.0, decay_input=False), 6, 0.4, 0.5),
    ("lif_T8", "lif", {}, 8, 1.0, 0.8),
    ("nilif_default", "nilif", dict(levels=4, beta=0.5), 4, 1.5, 1.5),
    ("nilif_levels3", "nilif", dict(levels=3, beta=0.25), 8, 1.2, 1.5),
]


def main(path):
    gen = torch.Generator().manual_seed(20261130)
    n = 48
    cases = []
    for name, kind, overrides, T, mean, std in CASES:
        p = dict(LIF_DEFAULT, **overrides) if kind == "lif" else overrides
        x = (torch.randn(T, n, generator=gen) * std + mean).float()
        ds = torch.randn(T, n, generator=gen).float()
        xg = x.clone().requires_grad_(True)
        s = lif(xg, p) if kind == "lif" else nilif(xg, p)
        s.backward(ds)
        cases.append(dict(name=name, kind=kind, params=p, T=T, n=n,
                          x=x.flatten().tolist(), ds=ds.flatten().tolist(),
                          s=s.detach().flatten().tolist(), dx=xg.grad.flatten().tolist()))
    with open(path, "w") as f:
        json.dump({"generator": "tools/gen_neuron_golden.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/neurons_golden.json")
