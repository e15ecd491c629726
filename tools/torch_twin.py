#!/usr/bin/env python3
"""PyTorch twin of wtasim's language model (docs/model.md §2-§5, §8): a check of the C++ gradients and a speed baseline.

Model (training mode, float32 on CPU unless said otherwise):
  spiking:  X0[t,b,n] = E[tok[b,n]] + P[n] for every t; X = block_l(X) for l < L (docs/model.md §4 membrane-shortcut
            block, BN with batch statistics over the real rows of T x B x N, running statistics updated);
            Sf = SN(X) (fresh neuron layer of the model's kind); logits = mean_t(Sf) W_head^T + b_head;
            readout "levels": SN is NI-LIF whatever the kind; "residual": mean_t(X) in place of mean_t(Sf).
  ANN twin: X0 = E[tok] + P[n]; L pre-LN blocks; LayerNorm(final_norm, eps 1e-5); the same head.
  Loss: mean cross-entropy over the rows whose target is >= 0 (log-sum-exp in float64, as wtasim).
The block maths (attention kinds with the WTA surrogate backward, candidate masks, the ANN block) comes from
tools/gen_block_golden.py. Re-implemented here because that file hard-codes values a config can change:
LIF (tau, v_th, v_reset, decay_input, detach_reset, soft reset, atan surrogate), NI-LIF (levels, beta),
the spiking linear's BatchNorm (it starts its running statistics from 0/1 instead of the checkpoint's
buffers, and asserts against torch on every call) and so the spiking block that calls them.

Commands:
  torch_twin.py check CASE.h5 [-v]
      CASE.h5 is a wtasim checkpoint plus /batch/{tokens,mask,targets}, the root attribute expected_loss,
      /expected/logits [B*N, V], /expected/grads/<param> and optionally /expected/buffers/<buffer>. A case
      with /batch/teacher_logits (and /batch/teacher_hidden/<l>, root attributes distill_weight,
      distill_temperature, distill_hidden_weight) is checked on the distillation objective (tools/twin_distill.py).
      Tolerances (cpp = the file's value, ours = this twin's, per tensor; G = the largest |cpp| over all
      parameter gradients of the case):
        loss:      |ours - cpp| <= 1e-4 |cpp|
        logits:    |ours - cpp| <= 1e-4 max|cpp|                               (elementwise)
        gradients: |ours - cpp| <= 1e-4 max|cpp| + 1e-4 |cpp| + 1e-6 G          (elementwise)
        buffers:   as logits.
      The 1e-6 G floor only matters for a tensor whose exact gradient is 0 (the ANN twin's attn.k.bias:
      softmax ignores a shift shared by all scores of a query), where both sides hold float noise only.
      Prints one line per failing tensor and "twin: N tensors checked, M failed, loss ours=... cpp=...";
      N counts the loss, the logits, every gradient and every expected buffer. Exit 0 iff all pass, 1 if
      some fail, 2 if the file cannot be used. With -v (or on failure) also prints spikes per layer and the
      smallest distance of a real row to a threshold (a flip there explains a failure).
  torch_twin.py bench --config JSON_FILE_OR_STRING --batch B --seq-len N --steps S --threads K [--seed S]
      S AdamW training steps (wtasim's defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
      linear weights only, global norm clip 1.0) on random tokens and targets; prints
      "torch_twin bench: tokens/s=<float> peak_rss_mb=<float>" (tokens = B*N per step; the first step is
      warm-up and not timed).
  torch_twin.py selftest [--keep DIR]
      Checks this file's neurons and spiking block against tests/data/{neurons,block}_golden.json (written by
      gen_neuron_golden.py / gen_block_golden.py); then writes five case files from random parameters, their
      expectations computed by this twin in float64, and checks that "check" (float32) passes on each and
      fails once one gradient element is perturbed by about 5x its tolerance.
Run with Debian's interpreter: /usr/bin/python3 tools/torch_twin.py ...
"""
import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_block_golden as g  # noqa: E402  (sets 1 thread and deterministic algorithms; bench resets threads)
import twin_distill  # noqa: E402  (the docs/model.md §10 distillation objective)

LINEARS = g.LINEARS            # attn.q, attn.k, attn.v, attn.o, mlp.fc1, mlp.fc2
BN_EPS, BN_MOMENTUM = g.BN_EPS, g.BN_MOMENTUM
LAYERS = ("s1", "q", "k", "v", "z", "s2", "h")
ROLES = ("sn1", "q", "k", "v", "a", "sn2", "h", "final")  # docs/model.md §8 neuron names (learned constants)


def lif_roles(cfg):
    """The neuron layers that are LIF, as {name: channels}: blocks.<l>.{q,k,v,a} always, sn1/sn2/h and final
    when the model's neuron is LIF (final only with the "spikes" readout). Only these learn constants."""
    D, F_ = cfg["d_model"], cfg["d_ff"]
    out = {}
    for l in range(cfg["layers"]):
        for r in ("sn1", "q", "k", "v", "a", "sn2", "h"):
            if r in ("q", "k", "v", "a") or cfg["neuron"] == "lif":
                out[f"blocks.{l}.{r}"] = F_ if r == "h" else D
    if cfg["neuron"] == "lif" and cfg["readout"] == "spikes":
        out["final"] = D
    return out


# ----------------------------------------------------------------------------------------------------
# Config (defaults and checks as training/model.cpp model_config::from_json)
# ----------------------------------------------------------------------------------------------------
def normalise_config(raw):
    c = dict(raw)
    c.setdefault("vocab", 1000)
    c.setdefault("d_model", 64)
    c.setdefault("heads", 4)
    c.setdefault("d_ff", 4 * c["d_model"])
    c.setdefault("layers", 2)
    c.setdefault("max_len", 128)
    c.setdefault("spiking", True)
    c.setdefault("causal", True)
    c.setdefault("neuron", "lif")
    c.setdefault("readout", "spikes")
    c.setdefault("norm", "batch")
    c["T"] = c.get("T", 4) if c["spiking"] else 1
    att = dict(kind="wta", k=1, v_th_attn=0.5, alpha_wta=1.0, recency="none", fill=False)
    att.update(c.get("attention", {}))
    lif = dict(tau=2.0, v_th=1.0, v_reset=0.0, decay_input=True, detach_reset=True, reset="hard",
               surrogate="sigmoid")
    lif.update(c.get("lif", {}))
    lif.setdefault("alpha", 4.0 if lif["surrogate"] == "sigmoid" else 2.0)
    lif.setdefault("learn_tau", "none")
    lif.setdefault("learn_v_th", "none")
    lif.setdefault("layer_alpha", {})
    for key in ("learn_tau", "learn_v_th"):
        if lif[key] not in ("none", "layer", "channel"):
            raise ValueError(f"config: lif {key} {lif[key]!r} unknown")
    if set(lif["layer_alpha"]) - set(ROLES):
        raise ValueError(f"config: lif layer_alpha roles {sorted(set(lif['layer_alpha']) - set(ROLES))} unknown")
    nilif = dict(levels=4, beta=0.5)
    nilif.update(c.get("nilif", {}))
    c.update(attention=att, lif=lif, nilif=nilif)
    if c["d_model"] % c["heads"]:
        raise ValueError(f"config: heads = {c['heads']} must divide d_model = {c['d_model']}")
    if att["kind"] not in ("wta", "ssa", "softmax") or c["neuron"] not in ("lif", "nilif"):
        raise ValueError(f"config: attention kind {att['kind']!r} / neuron {c['neuron']!r} unknown")
    if c["readout"] not in ("spikes", "levels", "residual"):
        raise ValueError(f"config: readout {c['readout']!r} unknown")
    if c["norm"] not in ("batch", "running-rms", "none"):
        raise ValueError(f"config: norm {c['norm']!r} unknown")
    if att["recency"] not in ("none", "shift", "bias", "shift+bias"):
        raise ValueError(f"config: attention recency {att['recency']!r} unknown")
    att.setdefault("bias", [1] if "bias" in att["recency"] else [])
    if lif["surrogate"] not in ("sigmoid", "atan") or lif["reset"] not in ("hard", "soft"):
        raise ValueError(f"config: surrogate {lif['surrogate']!r} / reset {lif['reset']!r} unknown")
    return c


# ----------------------------------------------------------------------------------------------------
# Neurons with the config's parameters (gen_block_golden's lif_neuron / nilif_neuron hard-code them)
# ----------------------------------------------------------------------------------------------------
class AtanSpikeFn(torch.autograd.Function):
    """Forward: 1[u >= 0]. Backward: (alpha/2) / (1 + (pi/2 alpha u)^2) (docs/model.md §2.1 atan surrogate)."""

    @staticmethod
    def forward(ctx, u, alpha):
        ctx.save_for_backward(u)
        ctx.alpha = alpha
        return (u >= 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (u,) = ctx.saved_tensors
        w = math.pi / 2 * ctx.alpha * u
        return grad_out * (ctx.alpha / 2) / (1 + w * w), None


def lif(x, p, v_th=None, keep=None, tau=None, alpha=None):
    """Binary LIF over axis 0 of x (docs/model.md §2.1 and neurons/lif.hpp: soft reset charges towards 0 and
    subtracts v_th). keep (a list), if given, receives the stacked pre-reset membranes minus v_th.
    tau and v_th may be tensors [1] or [C] (learned constants, broadcast over the channel axis); alpha
    overrides the surrogate slope (per-layer alpha)."""
    v_th = p["v_th"] if v_th is None else v_th
    tau = p["tau"] if tau is None else tau
    alpha = p["alpha"] if alpha is None else alpha
    hard = p["reset"] == "hard"
    v_reset = p["v_reset"] if hard else 0.0
    fire = g.SpikeFn if p["surrogate"] == "sigmoid" else AtanSpikeFn
    v = torch.full_like(x[0], v_reset)
    out, margins = [], []
    for t in range(x.shape[0]):
        if p["decay_input"]:
            h = v + (x[t] - (v - v_reset)) / tau
        else:
            h = v - (v - v_reset) / tau + x[t]
        s = fire.apply(h - v_th, alpha)
        r = s.detach() if p["detach_reset"] else s
        v = r * v_reset + (1.0 - r) * h if hard else h - r * v_th
        out.append(s)
        if keep is not None:
            margins.append((h - v_th).detach())
    if keep is not None:
        keep.append(torch.stack(margins))
    return torch.stack(out)


def nilif(x, p, keep=None):
    """NI-LIF over axis 0 (docs/model.md §2.2); keep receives U - round boundary offsets (distance = |.|)."""
    levels, beta = float(p["levels"]), p["beta"]
    hm = torch.zeros_like(x[0])
    out, margins = [], []
    for t in range(x.shape[0]):
        u = hm + x[t]
        s = g.LevelFn.apply(u, levels)
        hm = beta * (u - levels * s)
        out.append(s)
        if keep is not None:
            ud = u.detach()
            margins.append(ud - torch.floor(ud) - 0.5)
    if keep is not None:
        keep.append(torch.stack(margins))
    return torch.stack(out)


def neuron(cfg, kind, x, keep=None):
    return lif(x, cfg["lif"], keep=keep) if kind == "lif" else nilif(x, cfg["nilif"], keep=keep)


# ----------------------------------------------------------------------------------------------------
# Spiking linear: bias-free linear + masked BatchNorm1d, statistics in float64 as attention/batchnorm.cpp
# ----------------------------------------------------------------------------------------------------
def token_shift(a, mask):
    """docs/model.md §10 token shift: a' = a + s (a_prev - a a_prev), s = 1 where the token and its predecessor
    are real (the product form of max on spikes, so autograd gives the documented backward)."""
    prev = torch.cat([torch.zeros_like(a[:, :, :1]), a[:, :, :-1]], dim=2)
    m = mask.to(a.dtype)
    s = torch.cat([torch.zeros_like(m[:, :1]), m[:, 1:] * m[:, :-1]], dim=1)[None, :, :, None]
    return a + s * (prev - a * prev)


def wta_recency(q, k, v, cand, k_win, alpha, bias, fill):
    """docs/model.md §10 recency bias: WTA on s'_ij = s_ij + b(|i - j|); a winner needs s_ij > 0, or with fill
    s'_ij > 0; the surrogate backward of §3.1 on s' (tau from s'), written straight-through for autograd."""
    s = g.scores_of(q, k)
    N = s.shape[-1]
    dist = (torch.arange(N)[:, None] - torch.arange(N)[None, :]).abs()
    bonus = torch.zeros(N, N, dtype=s.dtype)
    for d, b in enumerate(bias):
        bonus[dist == d] = float(b)
    sb = s + bonus
    eligible = cand & ((sb > 0) if fill else (s > 0))
    si = sb.detach().round().to(torch.int64)
    j_idx = torch.arange(N)[None, :]
    top_score = int(si.max().item()) if si.numel() else 0
    key = (top_score - si) * (N * N) + dist * N + j_idx  # larger score, then nearer, then earlier
    big = (top_score + 2) * N * N
    key = torch.where(eligible, key, torch.full_like(key, big))
    top = torch.argsort(key, dim=-1)[..., :min(k_win, N)]
    M = torch.zeros_like(s).scatter_(-1, top, (torch.gather(key, -1, top) < big).to(s.dtype))
    tau = g.wta_tau(sb.detach(), cand, k_win)
    soft = torch.sigmoid(alpha * (sb - tau.unsqueeze(-1))) * cand.to(s.dtype)
    return torch.einsum("tbhij,tbjhd->tbihd", M + (soft - soft.detach()), v) / k_win


def frozen_norm(y, gamma, beta, row_mask, n_rows, running, norm):
    """The eval form with running statistics (0, r) (docs/model.md §10): "running-rms" uses r as it was before
    this batch, then moves it towards the batch's mean square over real rows; "none" keeps r = 1."""
    rv = running[1]
    rstd = (1.0 / torch.sqrt(rv.detach().double() + BN_EPS)).to(y.dtype)
    out = (y - 0.0) * rstd * gamma + beta
    if norm == "running-rms":
        with torch.no_grad():
            m = row_mask.double().unsqueeze(-1)
            ms = (y.double() ** 2 * m).sum(dim=(0, 1, 2)) / n_rows
            rv.copy_((1 - BN_MOMENTUM) * rv.double() + BN_MOMENTUM * ms)
    return out


def spiking_linear(x, weight, gamma, beta, row_mask, n_rows, running=None, fast=False, norm="batch"):
    """x [T,B,N,in] -> BN(x W^T); row_mask [T,B,N] (1 real). running = (mean, var) buffers updated in place.

    fast (bench only, every row real): torch's own float32 batch_norm, the same semantics without the
    float64 statistics that make "check" agree with wtasim to the last bit of a spike decision."""
    y = torch.matmul(x, weight.t())
    if norm != "batch":
        return frozen_norm(y, gamma, beta, row_mask, n_rows, running, norm)
    if fast and n_rows == row_mask.numel():
        rm, rv = running if running is not None else (None, None)
        C = y.shape[-1]
        return F.batch_norm(y.reshape(-1, C), rm, rv, gamma, beta, training=True, momentum=BN_MOMENTUM,
                            eps=BN_EPS).reshape(y.shape)
    yd, m = y.double(), row_mask.double().unsqueeze(-1)
    mean = (yd * m).sum(dim=(0, 1, 2)) / n_rows
    centred = yd - mean
    var = (centred * centred * m).sum(dim=(0, 1, 2)) / n_rows
    rstd = 1.0 / torch.sqrt(var + BN_EPS)
    out = (y - mean.to(y.dtype)) * rstd.to(y.dtype) * gamma + beta
    if running is not None:
        with torch.no_grad():
            rm, rv = running
            rm.copy_((1 - BN_MOMENTUM) * rm.double() + BN_MOMENTUM * mean.detach())
            rv.copy_((1 - BN_MOMENTUM) * rv.double() + BN_MOMENTUM * var.detach() * n_rows / (n_rows - 1))
    return out


# ----------------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------------
def param_shapes(cfg):
    V, D, F_, Lmax = cfg["vocab"], cfg["d_model"], cfg["d_ff"], cfg["max_len"]
    shapes = {"embed.tok.weight": (V, D), "embed.pos.weight": (Lmax, D)}
    dims = {"attn.q": (D, D), "attn.k": (D, D), "attn.v": (D, D), "attn.o": (D, D),
            "mlp.fc1": (F_, D), "mlp.fc2": (D, F_)}
    for l in range(cfg["layers"]):
        pre = f"blocks.{l}."
        if cfg["spiking"]:
            for n in LINEARS:
                shapes[pre + n + ".weight"] = dims[n]
                shapes[pre + n + ".bn.weight"] = shapes[pre + n + ".bn.bias"] = (dims[n][0],)
        else:
            for n in ("ln1", "ln2"):
                shapes[pre + n + ".weight"] = shapes[pre + n + ".bias"] = (D,)
            for n in LINEARS:
                shapes[pre + n + ".weight"] = dims[n]
                shapes[pre + n + ".bias"] = (dims[n][0],)
    if not cfg["spiking"]:
        shapes["final_norm.weight"] = shapes["final_norm.bias"] = (D,)
    else:  # learned neuron constants (docs/model.md §10): <layer>.plif_w, <layer>.v_th, [1] or [C]
        for name, C in lif_roles(cfg).items():
            for key, mode in (("plif_w", cfg["lif"]["learn_tau"]), ("v_th", cfg["lif"]["learn_v_th"])):
                if mode != "none":
                    shapes[f"{name}.{key}"] = (1 if mode == "layer" else C,)
    shapes["head.weight"], shapes["head.bias"] = (V, D), (V,)
    return shapes


def buffer_shapes(cfg):
    shapes = {}
    if cfg["spiking"]:
        for n, shape in param_shapes(cfg).items():
            if n.endswith(".bn.weight"):
                base = n[: -len("weight")]
                shapes[base + "running_mean"] = shapes[base + "running_var"] = shape
    return shapes


class Twin:
    def __init__(self, cfg, dtype=torch.float32):
        self.cfg, self.dtype = cfg, dtype
        self.fast = False  # bench: torch's batch_norm when every row is real (see spiking_linear)
        self.eval = False  # inference: BN with the checkpoint's running statistics (what the simulator folds)
        self.params = {}
        self.buffers = {}

    def load(self, params, buffers):
        """params / buffers: name -> array; every name the config implies must be there, with its shape."""
        for kind, want, given, dst in (("param", param_shapes(self.cfg), params, self.params),
                                       ("buffer", buffer_shapes(self.cfg), buffers, self.buffers)):
            missing = sorted(set(want) - set(given))
            if missing:
                raise KeyError(f"{kind}s missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
            for n, shape in want.items():
                t = torch.as_tensor(np.asarray(given[n]), dtype=self.dtype).clone()
                if tuple(t.shape) != tuple(shape):
                    raise ValueError(f"{kind} {n}: shape {tuple(t.shape)}, expected {tuple(shape)}")
                dst[n] = t.requires_grad_(kind == "param")

    def init_random(self, seed):
        """Random init drawn like language_model::init (not the same numbers: torch's generator)."""
        gen = torch.Generator().manual_seed(seed)
        p, b = {}, {}
        for n, shape in param_shapes(self.cfg).items():
            if n.endswith(".plif_w"):
                t = torch.full(shape, -math.log(self.cfg["lif"]["tau"] - 1.0))
            elif n.endswith(".v_th"):
                t = torch.full(shape, self.threshold(n.rsplit(".", 1)[0]))
            elif n == "embed.tok.weight":
                t = torch.randn(shape, generator=gen)
            elif n == "embed.pos.weight":
                t = torch.randn(shape, generator=gen) * 0.1
            elif n.endswith(".bn.weight") or (n.endswith(".weight") and len(shape) == 1):
                t = torch.ones(shape)
            elif len(shape) == 2:
                bound = 1.0 / math.sqrt(shape[1])
                t = (torch.rand(shape, generator=gen) * 2 - 1) * bound
            else:
                t = torch.zeros(shape)
            p[n] = t
        for n, shape in buffer_shapes(self.cfg).items():
            b[n] = torch.zeros(shape) if n.endswith("running_mean") else torch.ones(shape)
        self.load(p, b)

    def threshold(self, name):
        """The configured threshold of LIF layer `name` (blocks.<l>.<role> or final)."""
        role, att = name.rsplit(".", 1)[-1], self.cfg["attention"]
        if role in ("q", "k") and att.get("v_th_qk") is not None:
            return att["v_th_qk"]
        return att["v_th_attn"] if role == "a" else self.cfg["lif"]["v_th"]

    def lif_layer(self, name, x, keep=None):
        """The LIF layer `name` with its learned constants (tau = 1 + exp(-w) in float64, rounded once, as
        neurons/params.cpp plif_tau) and its role's surrogate slope."""
        p, P = self.cfg["lif"], self.params
        role = name.rsplit(".", 1)[-1]
        tau = (1.0 + torch.exp(-P[name + ".plif_w"].double())).to(x.dtype) if name + ".plif_w" in P else None
        v_th = P[name + ".v_th"] if name + ".v_th" in P else self.threshold(name)
        return lif(x, p, v_th=v_th, keep=keep, tau=tau, alpha=p["layer_alpha"].get(role))

    def layer(self, name, kind, x, keep=None):
        return self.lif_layer(name, x, keep) if kind == "lif" else nilif(x, self.cfg["nilif"], keep=keep)

    def block(self, l, x, mask, rec):
        """The spiking block of docs/model.md §4 (as gen_block_golden.spiking_block, with this file's neurons and BN)."""
        cfg, att = self.cfg, self.cfg["attention"]
        T, B, N, D = x.shape
        H = cfg["heads"]
        pre = f"blocks.{l}."
        P = self.params
        row_mask = mask.to(x.dtype)[None].expand(T, B, N)
        n_rows = int(mask.sum()) * T
        if n_rows < 2 and not self.eval:
            raise ValueError(f"batchnorm: {n_rows} real-token rows, training statistics need at least 2")
        cand = g.candidate_mask(mask, cfg["causal"])
        keep = {} if rec is not None else None

        def k(name):
            if keep is None:
                return None
            keep[name] = []
            return keep[name]

        def sl(name, inp):
            run = (self.buffers[pre + name + ".bn.running_mean"], self.buffers[pre + name + ".bn.running_var"])
            if self.eval and cfg["norm"] == "batch":  # y = (x W^T - mean) / sqrt(var + eps) * gamma + beta
                y = torch.matmul(inp, P[pre + name + ".weight"].t())
                rstd = 1.0 / torch.sqrt(run[1].double() + BN_EPS)
                return (y - run[0].to(y.dtype)) * rstd.to(y.dtype) * P[pre + name + ".bn.weight"] + \
                    P[pre + name + ".bn.bias"]
            return spiking_linear(inp, P[pre + name + ".weight"], P[pre + name + ".bn.weight"],
                                  P[pre + name + ".bn.bias"], row_mask, n_rows, run, self.fast, cfg["norm"])

        kind = cfg["neuron"]
        s1 = self.layer(pre + "sn1", kind, x, k("s1"))
        # SN_q / SN_k's own threshold (docs/model.md §10) when set, else the block's (Twin.threshold)
        q = self.lif_layer(pre + "q", sl("attn.q", s1), keep=k("q"))
        kk = self.lif_layer(pre + "k", sl("attn.k", s1), keep=k("k"))
        v = self.lif_layer(pre + "v", sl("attn.v", s1), keep=k("v"))
        heads = lambda a: a.reshape(T, B, N, H, D // H)
        shifted = att["recency"] in ("shift", "shift+bias")
        ka, va = (token_shift(kk, mask), token_shift(v, mask)) if shifted else (kk, v)
        if att["bias"]:
            o = wta_recency(heads(q), heads(ka), heads(va), cand, int(att["k"]), float(att["alpha_wta"]), att["bias"],
                            bool(att["fill"]))
        else:
            o = g.attention(att["kind"], heads(q), heads(ka), heads(va), cand, int(att["k"]), float(att["alpha_wta"]))
        z = self.lif_layer(pre + "a", o.reshape(T, B, N, D), keep=k("z"))
        x1 = x + sl("attn.o", z)
        s2 = self.layer(pre + "sn2", kind, x1, k("s2"))
        hh = self.layer(pre + "h", kind, sl("mlp.fc1", s2), k("h"))
        y = x1 + sl("mlp.fc2", hh)
        if rec is not None:
            spikes = dict(s1=s1, q=q, k=kk, v=v, z=z, s2=s2, h=hh)
            kinds = dict(s1=kind, q="lif", k="lif", v="lif", z="lif", s2=kind, h=kind)
            rec[f"block{l}"] = {n: self._layer_stats(spikes[n], kinds[n], keep[n][0], mask) for n in LAYERS}
        return y

    def _layer_stats(self, s, kind, margin, mask):
        """(events on real rows, capacity, smallest |distance to threshold| on real rows)."""
        real = (mask > 0)[None, :, :, None].expand_as(s)
        levels = self.cfg["nilif"]["levels"] if kind == "nilif" else 1
        events = int(round(float((s.detach().double() * levels)[real].sum())))
        dist = margin.abs()[real]
        return events, int(real.sum()) * levels, float(dist.min()) if dist.numel() else float("inf")

    def forward(self, tokens, mask, rec=None):
        """tokens [B,N] int64, mask [B,N] int64 -> logits [B*N, V]; rec (a dict) receives spike statistics."""
        cfg, P = self.cfg, self.params
        B, N = tokens.shape
        if N > cfg["max_len"]:
            raise ValueError(f"sequence of {N} tokens, longer than max_len = {cfg['max_len']}")
        x0 = P["embed.tok.weight"][tokens] + P["embed.pos.weight"][:N]
        self.hidden = []  # the residual stream after each block (distillation)
        if cfg["spiking"]:
            T = cfg["T"]
            x = x0.unsqueeze(0).expand(T, B, N, cfg["d_model"])
            for l in range(cfg["layers"]):
                x = self.block(l, x, mask, rec)
                self.hidden.append(x)
            if cfg["readout"] == "residual":  # the head reads mean_t X (docs/model.md §10)
                readout = x.sum(0) / T
            else:  # "levels": an NI-LIF final neuron whatever the block's kind
                kind = "nilif" if cfg["readout"] == "levels" else cfg["neuron"]
                keep = [] if rec is not None else None
                sf = self.layer("final", kind, x, keep)
                if rec is not None:
                    rec["final"] = {"sf": self._layer_stats(sf, kind, keep[0], mask)}
                readout = sf.sum(0) / T
        else:
            x = x0
            for l in range(cfg["layers"]):
                pre = f"blocks.{l}."
                sub = {n[len(pre):]: t for n, t in P.items() if n.startswith(pre)}
                x = g.ann_block(x, sub, mask, cfg["causal"], cfg["heads"])
                self.hidden.append(x)
            readout = F.layer_norm(x, (cfg["d_model"],), P["final_norm.weight"], P["final_norm.bias"], eps=1e-5)
        logits = torch.matmul(readout, P["head.weight"].t()) + P["head.bias"]
        return logits.reshape(B * N, cfg["vocab"])


def cross_entropy(logits, targets):
    """Mean over rows with target >= 0 of -log softmax(logits)[target], in float64 (0 if no row counts)."""
    valid = targets >= 0
    if not bool(valid.any()):
        return logits.sum().double() * 0.0
    lp = F.log_softmax(logits.double(), dim=-1)
    return -lp[valid, targets[valid]].mean()


# ----------------------------------------------------------------------------------------------------
# check
# ----------------------------------------------------------------------------------------------------
def read_attr_str(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return read_attr_str(value.item())
    return str(value)


def read_case(path):
    with h5py.File(path, "r") as f:
        fmt = read_attr_str(f.attrs.get("format", ""))
        if fmt != "wtasim-checkpoint":
            raise ValueError(f"{path}: root attribute format = {fmt!r}, expected 'wtasim-checkpoint'")
        case = dict(config=json.loads(read_attr_str(f.attrs["config"])),
                    params={n: d[()] for n, d in f["params"].items()},
                    buffers={n: d[()] for n, d in f["buffers"].items()} if "buffers" in f else {},
                    tokens=f["batch/tokens"][()], mask=f["batch/mask"][()], targets=f["batch/targets"][()],
                    loss=float(f.attrs["expected_loss"]), logits=f["expected/logits"][()],
                    grads={n: d[()] for n, d in f["expected/grads"].items()},
                    out_buffers={n: d[()] for n, d in f["expected/buffers"].items()}
                    if "expected/buffers" in f else {},
                    distill=twin_distill.read_distill(f))
    return case


def run_case(case, dtype=torch.float32, rec=None):
    """Forward + backward of a case: (loss float, logits, grads dict, updated buffers dict, twin)."""
    cfg = normalise_config(case["config"])
    twin = Twin(cfg, dtype)
    twin.load(case["params"], case["buffers"])
    tokens = torch.as_tensor(np.asarray(case["tokens"]), dtype=torch.int64)
    mask = torch.as_tensor(np.asarray(case["mask"]), dtype=torch.int64)
    targets = torch.as_tensor(np.asarray(case["targets"]), dtype=torch.int64).reshape(-1)
    if tokens.dim() != 2 or tuple(mask.shape) != tuple(tokens.shape) or targets.numel() != tokens.numel():
        raise ValueError(f"batch shapes: tokens {tuple(tokens.shape)}, mask {tuple(mask.shape)}, "
                         f"targets {tuple(targets.shape)}")
    if bool((tokens < 0).any() or (tokens >= cfg["vocab"]).any() or (targets >= cfg["vocab"]).any()):
        raise ValueError(f"a token or target id outside the vocabulary [0, {cfg['vocab']})")
    logits = twin.forward(tokens, mask, rec)
    loss = cross_entropy(logits, targets)
    if case.get("distill") is not None:
        loss = twin_distill.distill_loss(loss, logits, targets, mask, twin.hidden, case["distill"])
    loss.backward()
    grads = {n: (p.grad if p.grad is not None else torch.zeros_like(p)).detach() for n, p in twin.params.items()}
    if case.get("distill") is not None:  # a wider teacher's learned projections
        grads.update({n: p.grad.detach() for n, p in twin_distill.projections(case["distill"]).items()})
    return float(loss), logits.detach(), grads, {n: b.detach() for n, b in twin.buffers.items()}, twin


def compare(name, ours, cpp, rel_max, rel_elem=0.0, floor=0.0):
    """Returns None if within tolerance, else a failure line."""
    ours = np.asarray(ours, dtype=np.float64)
    cpp = np.asarray(cpp, dtype=np.float64)
    if ours.shape != cpp.shape:
        return f"FAIL {name}: shape ours {ours.shape} cpp {cpp.shape}"
    diff = np.abs(ours - cpp)
    scale = float(np.abs(cpp).max()) if cpp.size else 0.0
    bound = rel_max * scale + rel_elem * np.abs(cpp) + floor
    bad = ~(diff <= bound)  # NaN counts as bad
    if bad.any():
        return (f"FAIL {name}: max|diff|={float(np.nanmax(diff)) if diff.size else float('nan'):.3e} "
                f"max|cpp|={scale:.3e} ({int(bad.sum())}/{bad.size} elements out)")
    return None


def print_spikes(rec):
    for block, layers in rec.items():
        txt = " ".join(f"{n}={e}/{c}(margin {m:.1e})" for n, (e, c, m) in layers.items())
        print(f"  spikes {block}: {txt}")


def cmd_check(path, verbose=False):
    try:
        case = read_case(path)
        rec = {}
        loss, logits, grads, bufs, twin = run_case(case, rec=rec)
    except (OSError, KeyError, ValueError) as e:
        print(f"torch_twin check: {path}: {e}", file=sys.stderr)
        return 2
    failures, checked = [], 0
    checked += 1
    if not abs(loss - case["loss"]) <= 1e-4 * abs(case["loss"]):
        failures.append(f"FAIL loss: ours={loss:.9g} cpp={case['loss']:.9g}")
    checked += 1
    cpp_logits = np.asarray(case["logits"])
    if cpp_logits.size == logits.numel():
        cpp_logits = cpp_logits.reshape(logits.shape)
    msg = compare("logits", logits.numpy(), cpp_logits, 1e-4)
    failures += [msg] if msg else []
    cpp_grads = case["grads"]
    names = sorted(set(grads) | set(cpp_grads))
    G = max((float(np.abs(a).max()) for a in cpp_grads.values() if np.asarray(a).size), default=0.0)
    for n in names:
        checked += 1
        if n not in cpp_grads or n not in grads:
            where = "missing in the file" if n not in cpp_grads else "unknown to the twin"
            failures.append(f"FAIL {n}: gradient {where}")
            continue
        msg = compare(n, grads[n].numpy(), cpp_grads[n], 1e-4, 1e-4, 1e-6 * G)
        failures += [msg] if msg else []
    for n, cpp in sorted(case["out_buffers"].items()):
        checked += 1
        if n not in bufs:
            failures.append(f"FAIL {n}: buffer unknown to the twin")
            continue
        msg = compare(n, bufs[n].numpy(), cpp, 1e-4)
        failures += [msg] if msg else []
    for line in failures:
        print(line)
    if verbose or failures:
        print_spikes(rec)
    print(f"twin: {checked} tensors checked, {len(failures)} failed, loss ours={loss:.9g} cpp={case['loss']:.9g}")
    return 0 if not failures else 1


# ----------------------------------------------------------------------------------------------------
# bench
# ----------------------------------------------------------------------------------------------------
def decays(name):
    """As training/objectives.cpp decays(): linear weight matrices only."""
    if name.startswith("embed.") or name.endswith(".bias") or name.startswith("final_norm."):
        return False
    return not (".bn." in name or "ln1." in name or "ln2." in name)


def cmd_bench(args):
    text = args.config
    if os.path.isfile(text):
        with open(text) as f:
            raw = json.load(f)
    else:
        raw = json.loads(text)
    cfg = normalise_config(raw.get("model", raw))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    twin = Twin(cfg)
    twin.init_random(args.seed)
    twin.fast = True
    groups = [{"params": [p for n, p in twin.params.items() if decays(n)], "weight_decay": 0.01},
              {"params": [p for n, p in twin.params.items() if not decays(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed + 1)
    B, N, V = args.batch, args.seq_len, cfg["vocab"]
    mask = torch.ones(B, N, dtype=torch.int64)
    batches = [(torch.randint(0, V, (B, N), generator=gen), torch.randint(0, V, (B * N,), generator=gen))
               for _ in range(args.steps)]
    all_params = list(twin.params.values())
    times, losses = [], []
    for tokens, targets in batches:
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = cross_entropy(twin.forward(tokens, mask), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(all_params, 1.0)
        opt.step()
        times.append(time.perf_counter() - start)
        losses.append(float(loss))
    timed = times[1:] if len(times) > 1 else times
    tokens_per_s = B * N * len(timed) / sum(timed)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch_twin bench: {args.steps} steps, threads {args.threads}, first step {times[0]:.3f} s, "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}", file=sys.stderr)
    print(f"torch_twin bench: tokens/s={tokens_per_s:.1f} peak_rss_mb={peak_rss_mb:.1f}")
    return 0


def cmd_infer_bench(args):
    """Dense inference tokens/s of a wtasim checkpoint in PyTorch (no_grad, BN running statistics), the way a
    SpikingJelly-style model is evaluated: every step of every neuron layer as a dense tensor. One line per
    threshold; bench_sim calls it with the tokens it simulates (tools/bench_sim.cpp)."""
    import h5py
    import numpy as np

    with h5py.File(args.checkpoint, "r") as f:
        raw = json.loads(read_attr_str(f.attrs["config"]))
        params = {k: f["params"][k][()] for k in f["params"]}
        buffers = {k: f["buffers"][k][()] for k in f["buffers"]} if "buffers" in f else {}
    B, N = args.batch, args.seq_len
    cuda = args.device == "cuda"
    if cuda:  # every tensor the twin makes goes to the GPU (torch >= 2.0); times wait for the GPU to finish
        torch.set_default_device("cuda")
    ids = np.fromfile(args.tokens, dtype=np.int32)
    if ids.size != B * N:
        raise SystemExit(f"{args.tokens}: {ids.size} tokens, expected {B} x {N}")
    tokens = torch.as_tensor(ids.reshape(B, N).astype(np.int64)).to(args.device)
    mask = torch.ones(B, N, dtype=torch.int64).to(args.device)
    torch.set_num_threads(args.threads)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for v_th in args.v_th:
        cfg_raw = dict(raw)
        cfg_raw["lif"] = dict(cfg_raw.get("lif", {}), v_th=v_th)
        twin = Twin(normalise_config(cfg_raw))
        twin.load(params, buffers)
        twin.eval = True
        best = float("inf")
        with torch.no_grad():
            twin.forward(tokens, mask)  # warm-up
            sync()
            for _ in range(args.repeats):
                start = time.perf_counter()
                twin.forward(tokens, mask)
                sync()
                best = min(best, time.perf_counter() - start)
        print(f"torch_twin infer: threads={args.threads} v_th={v_th:g} device={args.device} tokens/s={B * N / best:.1f}")
    return 0


# ----------------------------------------------------------------------------------------------------
# selftest
# ----------------------------------------------------------------------------------------------------
SELFTEST_CASES = [
    ("wd_lif_wta", {"vocab": 13, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2, "T": 3, "max_len": 8,
                    "causal": True, "neuron": "lif", "attention": {"kind": "wta", "k": 1}}, True),
    ("we_nilif_wta", {"vocab": 13, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2, "T": 3, "max_len": 8,
                      "causal": False, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25}},
     False),
    ("wd_lif_ssa", {"vocab": 13, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2, "T": 3, "max_len": 8,
                    "causal": True, "neuron": "lif", "attention": {"kind": "ssa", "v_th_attn": 0.125}}, True),
    ("we_lif_softmax", {"vocab": 13, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 1, "T": 3, "max_len": 8,
                        "causal": False, "neuron": "lif", "attention": {"kind": "softmax", "v_th_attn": 0.25}}, False),
    ("ann_causal", {"vocab": 13, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2, "T": 1, "max_len": 8,
                    "causal": True, "spiking": False}, True),
]


def make_case(cfg_raw, clm, seed):
    """Parameters like the C++ twin cases (rounded to 1/64, every BN shift 0.75); B 2, N 6, one padded token."""
    cfg = normalise_config(cfg_raw)
    twin = Twin(cfg)
    twin.init_random(seed)
    params = {n: (torch.round(p.detach() * 64) / 64).numpy() for n, p in twin.params.items()}
    for n in params:
        if n.endswith(".bn.bias"):
            params[n][:] = 0.75
    gen = torch.Generator().manual_seed(seed + 1)
    buffers = {}  # running statistics "before the forward": not the init's 0/1, so the update is tested
    for n, b in twin.buffers.items():
        r = torch.rand(b.shape, generator=gen)
        buffers[n] = (r * 0.5 if n.endswith("running_mean") else 0.5 + r).numpy()
    B, N, V = 2, 6, cfg["vocab"]
    tokens = np.array([[1, 5, 9, 2, 7, 3], [4, 12, 6, 8, 11, 0]], dtype=np.int32)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]], dtype=np.uint8)
    flat_t, flat_m = tokens.reshape(-1), mask.reshape(-1)
    targets = np.full(B * N, -1, dtype=np.int32)
    for b in range(B):
        for n in range(N):
            i = b * N + n
            if clm and n + 1 < N and flat_m[i] and flat_m[i + 1]:
                targets[i] = flat_t[i + 1]
            if not clm and i % 2 == 0 and flat_m[i]:
                targets[i] = (flat_t[i] + 3) % V
    return dict(config=cfg, params=params, buffers=buffers, tokens=tokens, mask=mask, targets=targets)


def write_case(path, case, loss, logits, grads, out_buffers):
    # h5py writes, then h5repack turns the file into the layout wtasim reads (docs/model.md §8: HDF5 1.10,
    # every group's links in its object header); h5py cannot set a group's link phase change itself.
    raw = path + ".h5py"
    write_case_h5py(raw, case, loss, logits, grads, out_buffers)
    subprocess.run(["h5repack", "--low=2", "--compact=65535", raw, path], check=True)
    os.remove(raw)


def write_case_h5py(path, case, loss, logits, grads, out_buffers):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "wtasim-checkpoint"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["config"] = json.dumps(case["config"])
        f.attrs["step"] = np.int64(0)
        for n, a in case["params"].items():
            f[f"params/{n}"] = np.asarray(a, dtype=np.float32)
        f.create_group("buffers")
        for n, a in case["buffers"].items():
            f[f"buffers/{n}"] = np.asarray(a, dtype=np.float32)
        f["batch/tokens"] = case["tokens"]
        f["batch/mask"] = case["mask"]
        f["batch/targets"] = case["targets"]
        f.attrs["expected_loss"] = np.float64(loss)
        f["expected/logits"] = np.asarray(logits, dtype=np.float32)
        for n, a in grads.items():
            f[f"expected/grads/{n}"] = np.asarray(a, dtype=np.float32)
        for n, a in out_buffers.items():
            f[f"expected/buffers/{n}"] = np.asarray(a, dtype=np.float32)


def run_check_cli(path):
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "check", path], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def check_neuron_goldens(path):
    """This file's LIF / NI-LIF (every config option) against tests/data/neurons_golden.json (s and dx)."""
    with open(path) as f:
        cases = json.load(f)["cases"]
    ok = True
    for c in cases:
        x = torch.tensor(c["x"]).reshape(c["T"], c["n"]).requires_grad_()
        p = normalise_config({c["kind"]: c["params"]})[c["kind"]]
        s = lif(x, p) if c["kind"] == "lif" else nilif(x, p)
        s.backward(torch.tensor(c["ds"]).reshape(s.shape))
        good = torch.equal(s.detach().reshape(-1), torch.tensor(c["s"])) and \
            torch.allclose(x.grad.reshape(-1), torch.tensor(c["dx"]), rtol=1e-5, atol=1e-6)
        ok &= good
        print(f"golden neuron {c['name']:19s} {'ok' if good else 'FAILED'}")
    return ok


def check_block_goldens(path):
    """This file's spiking block (config neurons, float64 BN statistics) against gen_block_golden's block
    cases (tests/data/block_golden.json): y (padding rows too), dx, parameter gradients, running statistics."""
    with open(path) as f:
        cases = json.load(f)["block_cases"]
    ok = True
    for c in cases:
        T, B, N, D = c["T"], c["B"], c["N"], c["D"]
        cfg = normalise_config({"d_model": D, "heads": c["H"], "d_ff": c["F"], "layers": 1, "T": T,
                                "causal": c["attention"]["causal"], "neuron": c["neuron"],
                                "attention": {k: v for k, v in c["attention"].items() if k != "causal"},
                                "lif": c["neuron_params"]["lif"], "nilif": c["neuron_params"]["nilif"]})
        twin = Twin(cfg)
        twin.params = {"blocks.0." + n: torch.tensor(v).reshape(param_shapes(cfg)["blocks.0." + n]).requires_grad_()
                       for n, v in c["params"].items()}
        twin.buffers = {n: (torch.zeros if n.endswith("mean") else torch.ones)(shape)
                        for n, shape in buffer_shapes(cfg).items()}
        mask = torch.tensor(c["mask"], dtype=torch.int64).reshape(B, N)
        x = torch.tensor(c["x"]).reshape(T, B, N, D).requires_grad_()
        rec = {}
        y = twin.block(0, x, mask, rec)
        y.backward(torch.tensor(c["dy"]).reshape(T, B, N, D))
        bad = []
        for what, ours, ref, rtol, atol in [("y", y, c["y"], 1e-5, 1e-5), ("dx", x.grad, c["dx"], 1e-4, 1e-5)] + \
                [(n, twin.params["blocks.0." + n].grad, v, 1e-4, 1e-5) for n, v in c["grads"].items()] + \
                [(n, twin.buffers["blocks.0." + n], v, 1e-5, 1e-6) for n, v in c["running_out"].items()]:
            if not torch.allclose(ours.detach().reshape(-1), torch.tensor(ref), rtol=rtol, atol=atol):
                bad.append(what)
        ok &= not bad
        more = f" (+{len(bad) - 4} more)" if len(bad) > 4 else ""
        print(f"golden block  {c['name']:19s} {'ok' if not bad else 'FAILED ' + ', '.join(bad[:4]) + more}")
    return ok


def cmd_selftest(keep_dir=None):
    out_dir = keep_dir or tempfile.mkdtemp(prefix="torch_twin_")
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
    ok = True
    for name, fn in (("neurons_golden.json", check_neuron_goldens), ("block_golden.json", check_block_goldens)):
        path = os.path.join(data, name)
        if os.path.exists(path):
            ok &= fn(path)
        else:
            print(f"selftest: {path} not found, skipped")
    for idx, (name, cfg_raw, clm) in enumerate(SELFTEST_CASES):
        # Expectations in float64 (so "check" compares float32 against a differently rounded reference).
        # The first of 20 seeds whose layers all fire on real tokens is used, so that every gradient path
        # is exercised; the spike counts of both precisions must agree, else the case tests nothing sensible.
        for seed in range(1000 + 100 * idx, 1020 + 100 * idx):
            case = make_case(cfg_raw, clm, seed)
            rec64, rec32 = {}, {}
            loss, logits, grads, bufs, _ = run_case(case, torch.float64, rec64)
            if all(v[0] > 0 for ls in rec64.values() for v in ls.values()):
                break
        run_case(case, torch.float32, rec32)
        counts = lambda rec: {b: {n: v[0] for n, v in ls.items()} for b, ls in rec.items()}
        if counts(rec64) != counts(rec32):
            print(f"selftest {name}: float32 and float64 spike counts differ: {counts(rec32)} vs {counts(rec64)}")
            ok = False
        zero = [n for n, t in grads.items() if not bool((t != 0).any())]
        silent = [f"{b}.{n}" for b, ls in rec64.items() for n, v in ls.items() if v[0] == 0]
        path = os.path.join(out_dir, f"twin_{name}.h5")
        write_case(path, case, loss, logits.numpy(), {n: t.numpy() for n, t in grads.items()},
                   {n: t.numpy() for n, t in bufs.items()})
        rc_pass, out_pass = run_check_cli(path)
        # Perturb the largest element of one gradient by 1e-3 of the tensor's max: about 5x the tolerance.
        target = "blocks.0.mlp.fc1.weight"
        bad_path = os.path.join(out_dir, f"twin_{name}_perturbed.h5")
        shutil.copyfile(path, bad_path)
        with h5py.File(bad_path, "r+") as f:
            d = f[f"expected/grads/{target}"]
            a = d[()]
            i = np.unravel_index(np.argmax(np.abs(a)), a.shape)
            a[i] += 1e-3 * np.abs(a).max() * (1 if a[i] >= 0 else -1)
            d[...] = a
        rc_fail, out_fail = run_check_cli(bad_path)
        passed = rc_pass == 0 and rc_fail == 1 and f"FAIL {target}" in out_fail and "1 failed" in out_fail
        ok &= passed
        rates = " ".join(f"{b}:" + ",".join(str(v[0]) for v in ls.values()) for b, ls in rec32.items())
        print(f"selftest {name:14s} {'ok' if passed else 'FAILED'}: seed {seed}, loss {loss:.6f}, "
              f"zero-gradient tensors {zero or 'none'}, silent layers {silent or 'none'}")
        if rec32:
            print(f"  spikes (s1,q,k,v,z,s2,h per block; final) {rates}")
        print(f"  clean:     rc={rc_pass} {out_pass.splitlines()[-1] if out_pass else ''}")
        print(f"  perturbed: rc={rc_fail} " + " | ".join(l for l in out_fail.splitlines() if not l.startswith("  ")))
    print(f"selftest: {'all passed' if ok else 'FAILED'}" + (f" (files in {out_dir})" if keep_dir else ""))
    if not keep_dir:
        shutil.rmtree(out_dir, ignore_errors=True)
    return 0 if ok else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="compare a C++ twin case with PyTorch autograd")
    c.add_argument("case")
    c.add_argument("-v", "--verbose", action="store_true")
    b = sub.add_parser("bench", help="train steps/s of the same model in PyTorch")
    b.add_argument("--config", required=True, help="JSON file or JSON string (a model config or {model: ...})")
    b.add_argument("--batch", type=int, required=True)
    b.add_argument("--seq-len", type=int, required=True)
    b.add_argument("--steps", type=int, required=True)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--seed", type=int, default=1)
    i = sub.add_parser("infer-bench", help="dense inference tokens/s of a checkpoint in PyTorch")
    i.add_argument("--checkpoint", required=True)
    i.add_argument("--tokens", required=True, help="int32 binary file of batch x seq_len token ids")
    i.add_argument("--batch", type=int, required=True)
    i.add_argument("--seq-len", type=int, required=True)
    i.add_argument("--threads", type=int, default=1)
    i.add_argument("--v-th", type=float, nargs="+", default=[1.0])
    i.add_argument("--repeats", type=int, default=3)
    i.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where PyTorch runs the model")
    s = sub.add_parser("selftest", help="write synthetic cases and check that check passes / fails")
    s.add_argument("--keep", help="write the case files here (default: a temporary folder)")
    args = ap.parse_args(argv)
    if args.cmd == "check":
        return cmd_check(args.case, args.verbose)
    if args.cmd == "bench":
        return cmd_bench(args)
    if args.cmd == "infer-bench":
        return cmd_infer_bench(args)
    return cmd_selftest(args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
