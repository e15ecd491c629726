#!/usr/bin/env python3
"""Golden vectors for the attention and block tests, computed by PyTorch autograd (Debian python3-torch).

An independent implementation of docs/model.md §1-§4 written directly from the equations with torch tensors:
  * attention kernels (docs/model.md §3): k-winner-take-all ("wta", forward plus this project's surrogate
    backward as a custom autograd Function), Spikformer SSA ("ssa") and the float softmax ablation
    ("softmax"), with padding masks and the causal variants;
  * the spiking membrane-shortcut block (docs/model.md §4, training mode: BatchNorm with batch statistics over
    the non-padding rows, running statistics updated once), with LIF or NI-LIF neurons;
  * the ANN twin block (docs/model.md §3.2, pre-LayerNorm Transformer block, T = 1).
Weights, inputs and spikes are dyadic wherever cheap, so most sums are exact in any order.
Everything is drawn from one seeded torch.Generator on one thread, so rerunning gives the same file:
    /usr/bin/python3 tools/gen_block_golden.py tests/data/block_golden.json
Before writing, the script checks itself (WTA winners and tau against a slow pure-Python loop, the WTA
backward against a straight-through autograd formulation, BatchNorm against torch's batch_norm, spike
rates and gradients of the blocks) and prints one summary line per case.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# ----------------------------------------------------------------------------------------------------
# Neurons (docs/model.md §2)
# ----------------------------------------------------------------------------------------------------
LIF_PARAMS = dict(tau=2.0, v_th=1.0, v_reset=0.0, decay_input=True, detach_reset=True, reset="hard",
                  surrogate="sigmoid", alpha=4.0)
NILIF_PARAMS = dict(levels=4, beta=0.5)
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
SSA_SCALE = 0.125


class SpikeFn(torch.autograd.Function):
    """Forward: step function 1[u >= 0]. Backward: sigmoid surrogate alpha*sig(alpha u)*(1-sig(alpha u))."""

    @staticmethod
    def forward(ctx, u, alpha):
        ctx.save_for_backward(u)
        ctx.alpha = alpha
        return (u >= 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (u,) = ctx.saved_tensors
        sig = torch.sigmoid(ctx.alpha * u)
        return grad_out * (ctx.alpha * sig * (1.0 - sig)), None


class LevelFn(torch.autograd.Function):
    """Forward: clamp(round-half-even(u), 0, L) / L. Backward: straight-through 1/L where 0 <= u <= L."""

    @staticmethod
    def forward(ctx, u, levels):
        ctx.save_for_backward(u)
        ctx.levels = levels
        return torch.clamp(torch.round(u), 0.0, levels) / levels

    @staticmethod
    def backward(ctx, grad_out):
        (u,) = ctx.saved_tensors
        window = ((u >= 0) & (u <= ctx.levels)).to(u.dtype)
        return grad_out * window / ctx.levels, None


def lif_neuron(x, v_th=LIF_PARAMS["v_th"], probe=None):
    """Binary LIF over the time axis 0 of x: tau 2, hard reset to 0, decay_input, detached reset.

    probe (a list), if given, receives the smallest |H - v_th| seen: the firing margin."""
    tau, v_reset, alpha = LIF_PARAMS["tau"], LIF_PARAMS["v_reset"], LIF_PARAMS["alpha"]
    v = torch.zeros_like(x[0])
    spikes = []
    for t in range(x.shape[0]):
        h = v + (x[t] - (v - v_reset)) / tau
        s = SpikeFn.apply(h - v_th, alpha)
        if probe is not None:
            probe.append(float((h.detach() - v_th).abs().min()))
        s_const = s.detach()
        v = s_const * v_reset + (1.0 - s_const) * h
        spikes.append(s)
    return torch.stack(spikes)


def nilif_neuron(x, probe=None):
    """NI-LIF over the time axis 0 of x: levels 4, beta 0.5; output in {0, 1/4, ..., 1}.

    probe (a list), if given, receives the smallest distance of U to a rounding boundary (m + 1/2)."""
    levels, beta = float(NILIF_PARAMS["levels"]), NILIF_PARAMS["beta"]
    hm = torch.zeros_like(x[0])
    spikes = []
    for t in range(x.shape[0]):
        u = hm + x[t]
        s = LevelFn.apply(u, levels)
        if probe is not None:
            ud = u.detach()
            probe.append(float((ud - torch.floor(ud) - 0.5).abs().min()))
        hm = beta * (u - levels * s)
        spikes.append(s)
    return torch.stack(spikes)


def block_neuron(kind, x, probe=None):
    return lif_neuron(x, probe=probe) if kind == "lif" else nilif_neuron(x, probe=probe)


def event_count(kind, s):
    """Number of events of a spike tensor: spikes for binary neurons, sum of levels for NI-LIF."""
    scale = NILIF_PARAMS["levels"] if kind == "nilif" else 1
    return int(round(float((s.detach().double() * scale).sum())))


# ----------------------------------------------------------------------------------------------------
# Spiking linear = bias-free linear + BatchNorm1d (training mode, statistics over non-padding rows)
# ----------------------------------------------------------------------------------------------------
def spiking_linear(x, weight, gamma, beta, row_mask, running):
    """x [T,B,N,in], weight [out,in], row_mask [T,B,N] float (1 real, 0 padding).

    Returns BN(x W^T) for all rows with the statistics of the real rows, and writes the updated
    running statistics into the dict `running` (keys "running_mean", "running_var")."""
    y = torch.matmul(x, weight.t())
    m = row_mask.unsqueeze(-1)
    n = row_mask.sum()
    mean = (y * m).sum(dim=(0, 1, 2)) / n
    centred = y - mean
    var = (centred * centred * m).sum(dim=(0, 1, 2)) / n
    out = centred / torch.sqrt(var + BN_EPS) * gamma + beta

    n_rows = int(n.item())
    var_unbiased = var.detach() * (n_rows / (n_rows - 1))
    running["running_mean"] = (1 - BN_MOMENTUM) * torch.zeros_like(mean) + BN_MOMENTUM * mean.detach()
    running["running_var"] = (1 - BN_MOMENTUM) * torch.ones_like(var) + BN_MOMENTUM * var_unbiased

    # Cross-check against torch's own BatchNorm on the real rows only.
    real = row_mask.reshape(-1) > 0
    rows = y.detach().reshape(-1, y.shape[-1])[real]
    rm, rv = torch.zeros(y.shape[-1]), torch.ones(y.shape[-1])
    ref = F.batch_norm(rows, rm, rv, gamma.detach(), beta.detach(), training=True,
                       momentum=BN_MOMENTUM, eps=BN_EPS)
    mine = out.detach().reshape(-1, y.shape[-1])[real]
    assert torch.allclose(mine, ref, rtol=1e-5, atol=1e-5), "BatchNorm disagrees with torch"
    assert torch.allclose(rm, running["running_mean"], rtol=1e-6, atol=1e-6)
    assert torch.allclose(rv, running["running_var"], rtol=1e-6, atol=1e-6)
    return out


# ----------------------------------------------------------------------------------------------------
# Attention (docs/model.md §3). Per-head tensors are [T,B,N,H,dh]; scores and masks are [T,B,H,N(i),N(j)].
# ----------------------------------------------------------------------------------------------------
def candidate_mask(mask, causal):
    """mask [B,N] ints -> bool [1,B,1,N,N]: key j is a candidate of query i."""
    B, N = mask.shape
    key_real = (mask > 0)[:, None, :].expand(B, N, N)
    if causal:
        lower = torch.ones(N, N, dtype=torch.bool).tril()
        key_real = key_real & lower[None]
    return key_real[None, :, None]


def scores_of(q, k):
    return torch.einsum("tbihd,tbjhd->tbhij", q, k)


def wta_winners(s, cand, k):
    """Winner indices [T,B,H,N,k] (-1 = none), best first, and the 0/1 matrix M [T,B,H,N,N]."""
    N = s.shape[-1]
    si = s.round().to(torch.int64)
    i_idx = torch.arange(N)[:, None]
    j_idx = torch.arange(N)[None, :]
    dist = (i_idx - j_idx).abs()
    # Lower key = better: larger score, then smaller distance, then smaller j (keys are unique per row).
    max_score = int(si.max().item()) if si.numel() else 0
    key = (max_score - si) * (N * N) + dist * N + j_idx
    eligible = cand & (si > 0)
    big = (max_score + 2) * N * N
    key = torch.where(eligible, key, torch.full_like(key, big))
    order = torch.argsort(key, dim=-1)
    kk = min(k, N)
    top = order[..., :kk]
    top_valid = torch.gather(key, -1, top) < big
    winners = torch.where(top_valid, top, torch.full_like(top, -1))
    if kk < k:
        winners = torch.cat([winners, torch.full(winners.shape[:-1] + (k - kk,), -1, dtype=torch.int64)], -1)
    M = torch.zeros_like(s)
    M.scatter_(-1, top, top_valid.to(s.dtype))
    return winners, M


def wta_tau(s, cand, k):
    """Surrogate threshold tau_i [T,B,H,N] (docs/model.md §3.1 backward)."""
    N = s.shape[-1]
    n_cand = cand.expand_as(s).sum(-1)
    desc = torch.sort(s.masked_fill(~cand, float("-inf")), dim=-1, descending=True).values
    lowest = s.masked_fill(~cand, float("inf")).amin(-1) - 0.5
    if k < N:
        mid = (desc[..., k - 1] + desc[..., k]) / 2
        tau = torch.where(n_cand > k, mid, lowest)
    else:
        tau = lowest
    tau = torch.clamp(tau, min=0.5)
    return torch.where(n_cand > 0, tau, torch.full_like(tau, 0.5))


class WTAAttention(torch.autograd.Function):
    """O_i = (1/k) sum_j M_ij V_j with M the k-WTA winners; backward is the project's surrogate."""

    @staticmethod
    def forward(ctx, q, k, v, cand, k_win, alpha):
        s = scores_of(q, k)
        _, M = wta_winners(s, cand, k_win)
        tau = wta_tau(s, cand, k_win)
        ctx.save_for_backward(q, k, v, s, M, tau, cand)
        ctx.k_win, ctx.alpha = k_win, alpha
        return torch.einsum("tbhij,tbjhd->tbihd", M, v) / k_win

    @staticmethod
    def backward(ctx, d_o):
        q, k, v, s, M, tau, cand = ctx.saved_tensors
        a, kw = ctx.alpha, ctx.k_win
        d_v = torch.einsum("tbhij,tbihd->tbjhd", M, d_o) / kw
        d_m = torch.einsum("tbihd,tbjhd->tbhij", d_o, v) / kw * cand.to(s.dtype)
        sig = torch.sigmoid(a * (s - tau.unsqueeze(-1)))
        d_s = d_m * (a * sig * (1.0 - sig))
        d_q = torch.einsum("tbhij,tbjhd->tbihd", d_s, k)
        d_k = torch.einsum("tbhij,tbihd->tbjhd", d_s, q)
        return d_q, d_k, d_v, None, None, None


def wta_straight_through(q, k, v, cand, k_win, alpha):
    """The same surrogate written as M_hard + (M_soft - M_soft.detach()) for plain autograd (a check)."""
    s = scores_of(q, k)
    _, M = wta_winners(s.detach(), cand, k_win)
    tau = wta_tau(s.detach(), cand, k_win)
    soft = torch.sigmoid(alpha * (s - tau.unsqueeze(-1))) * cand.to(s.dtype)
    m_st = M + (soft - soft.detach())
    return torch.einsum("tbhij,tbjhd->tbihd", m_st, v) / k_win


def ssa_attention(q, k, v, cand):
    s = scores_of(q, k) * cand.to(q.dtype)
    return SSA_SCALE * torch.einsum("tbhij,tbjhd->tbihd", s, v)


def masked_softmax(z, cand):
    """Softmax over the candidates j of each row; rows without candidates give all zeros."""
    z_hidden = z.masked_fill(~cand, float("-inf"))
    z_max = z_hidden.amax(-1, keepdim=True).detach()
    z_max = torch.where(torch.isfinite(z_max), z_max, torch.zeros_like(z_max))
    e = torch.exp(z - z_max) * cand.to(z.dtype)
    total = e.sum(-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))


def softmax_attention(q, k, v, cand):
    p = masked_softmax(scores_of(q, k) / math.sqrt(q.shape[-1]), cand)
    return torch.einsum("tbhij,tbjhd->tbihd", p, v)


def attention(kind, q, k, v, cand, k_win=1, alpha=1.0):
    if kind == "wta":
        return WTAAttention.apply(q, k, v, cand, k_win, alpha)
    if kind == "ssa":
        return ssa_attention(q, k, v, cand)
    if kind == "softmax":
        return softmax_attention(q, k, v, cand)
    raise ValueError(kind)


# ----------------------------------------------------------------------------------------------------
# Slow reference for the WTA rule: plain Python loops over lists.
# ----------------------------------------------------------------------------------------------------
def slow_wta(q, k, mask, causal, k_win):
    """Returns winners [T][B][H][N] lists, tau [T][B][H][N] and tie statistics."""
    T, B, N, H, dh = q.shape
    ql, kl, ml = q.tolist(), k.tolist(), mask.tolist()
    winners, taus = [], []
    ties = dict(distance=0, index=0, boundary_distance=0)
    for t in range(T):
        w_t, tau_t = [], []
        for b in range(B):
            w_b, tau_b = [], []
            for h in range(H):
                w_h, tau_h = [], []
                for i in range(N):
                    cands = [j for j in range(N) if ml[b][j] == 1 and (not causal or j <= i)]
                    score = {}
                    for j in cands:
                        acc = 0
                        for d in range(dh):
                            acc += int(ql[t][b][i][h][d]) * int(kl[t][b][j][h][d])
                        score[j] = acc
                    ranked = sorted((j for j in cands if score[j] > 0),
                                    key=lambda j: (-score[j], abs(i - j), j))
                    chosen = ranked[:k_win]
                    w_h.append(chosen + [-1] * (k_win - len(chosen)))
                    for p in range(min(k_win, len(ranked) - 1)):
                        a_, b_ = ranked[p], ranked[p + 1]
                        if score[a_] == score[b_]:
                            if abs(i - a_) != abs(i - b_):
                                ties["distance"] += 1
                                if p == k_win - 1:
                                    ties["boundary_distance"] += 1
                            else:
                                ties["index"] += 1
                    if not cands:
                        tau = 0.5
                    else:
                        desc = sorted((score[j] for j in cands), reverse=True)
                        tau = (desc[k_win - 1] + desc[k_win]) / 2 if len(desc) > k_win else desc[-1] - 0.5
                        tau = max(tau, 0.5)
                    tau_h.append(tau)
                w_b.append(w_h)
                tau_b.append(tau_h)
            w_t.append(w_b)
            tau_t.append(tau_b)
        winners.append(w_t)
        taus.append(tau_t)
    return winners, taus, ties


# ----------------------------------------------------------------------------------------------------
# Random draws
# ----------------------------------------------------------------------------------------------------
def dyadic(gen, shape, lo, hi, denom):
    """Uniform integers in [lo, hi] divided by denom (a power of two)."""
    return torch.randint(lo, hi + 1, shape, generator=gen).to(torch.float32) / denom


def spikes(gen, shape, rate):
    return (torch.rand(shape, generator=gen) < rate).to(torch.float32)


def normal_dyadic(gen, shape):
    """Standard normal values rounded to multiples of 1/64."""
    return torch.round(torch.randn(shape, generator=gen) * 64) / 64


def mask_tensor(B, N, real_counts):
    m = torch.zeros(B, N, dtype=torch.int64)
    for b, r in enumerate(real_counts):
        m[b, :r] = 1
    return m


def flat(x):
    return x.detach().reshape(-1).tolist()


# ----------------------------------------------------------------------------------------------------
# Attention cases
# ----------------------------------------------------------------------------------------------------
ATTENTION_CASES = [
    # name, kind, causal, k, alpha_wta, T, B, N, H, dh, real tokens per batch element, spike rates (q,k,v)
    ("wta_k1_bidir", "wta", False, 1, 1.0, 3, 2, 6, 2, 4, (6, 4), (0.35, 0.35, 0.4)),
    ("wta_k1_causal", "wta", True, 1, 1.0, 3, 2, 7, 2, 3, (7, 5), (0.4, 0.4, 0.4)),
    ("wta_k4_bidir", "wta", False, 4, 2.0, 3, 2, 7, 2, 4, (7, 4), (0.35, 0.35, 0.4)),
    ("wta_k2_causal", "wta", True, 2, 1.0, 4, 2, 6, 2, 3, (6, 4), (0.4, 0.4, 0.4)),
    ("wta_ties_k2_bidir", "wta", False, 2, 1.0, 2, 2, 6, 2, 3, (6, 4), (0.4, 0.4, 0.4)),
    ("wta_ties_k1_causal", "wta", True, 1, 1.0, 2, 2, 6, 2, 3, (6, 4), (0.4, 0.4, 0.4)),
    ("ssa_bidir", "ssa", False, 1, 1.0, 3, 2, 6, 2, 4, (6, 4), (0.35, 0.35, 0.4)),
    ("ssa_causal", "ssa", True, 1, 1.0, 3, 2, 6, 2, 4, (6, 3), (0.35, 0.35, 0.4)),
    ("softmax_bidir", "softmax", False, 1, 1.0, 3, 2, 6, 2, 4, (6, 4), (0.35, 0.35, 0.4)),
    ("softmax_causal", "softmax", True, 1, 1.0, 3, 2, 5, 2, 3, (5, 3), (0.4, 0.4, 0.4)),
]


def plant_ties(q, k):
    """Hand-set rows in batch 0, head 0 (every step) so that equal top scores sit at different distances.

    Keys 1, 3, 4 are identical ([1,1,0]), key 5 scores 1 against them; query 0 ties keys 1/3/4 at
    distances 1/3/4, query 2 ties 1 and 3 at distance 1 (index rule) and 4 at distance 2, query 4
    prefers itself, query 5 ties 1/3/4 at distances 4/2/1. Query row 3 is all zeros in every head."""
    rows_k = {0: [0, 0, 1], 1: [1, 1, 0], 2: [0, 0, 0], 3: [1, 1, 0], 4: [1, 1, 0], 5: [1, 0, 0]}
    rows_q = {0: [1, 1, 0], 2: [1, 1, 0], 4: [1, 1, 1], 5: [1, 1, 0]}
    for t in range(q.shape[0]):
        for j, row in rows_k.items():
            k[t, 0, j, 0] = torch.tensor(row, dtype=torch.float32)
        for i, row in rows_q.items():
            q[t, 0, i, 0] = torch.tensor(row, dtype=torch.float32)
        q[t, 0, 3] = 0.0


def make_attention_case(gen, spec):
    name, kind, causal, k_win, alpha, T, B, N, H, dh, real, rates = spec
    shape = (T, B, N, H, dh)
    q, k, v = (spikes(gen, shape, r) for r in rates)
    if "ties" in name:
        plant_ties(q, k)
    d_o = dyadic(gen, shape, -32, 32, 16)
    mask = mask_tensor(B, N, real)
    cand = candidate_mask(mask, causal)

    qg, kg, vg = (x.clone().requires_grad_(True) for x in (q, k, v))
    out = attention(kind, qg, kg, vg, cand, k_win, alpha)
    out.backward(d_o)
    # "k" is taken by the key spikes (parallel to "q", "v", "dk"), so the WTA k is "k_wta"; the
    # "attention" object repeats the hyper-parameters in the same form as the block cases use.
    case = {"name": name, "kind": kind, "causal": causal, "k_wta": k_win, "alpha_wta": alpha,
            "attention": {"kind": kind, "causal": causal, "k": k_win, "alpha_wta": alpha},
            "T": T, "B": B, "N": N, "H": H, "dh": dh, "mask": flat(mask),
            "q": flat(q), "k": flat(k), "v": flat(v), "do": flat(d_o), "o": flat(out),
            "dq": flat(qg.grad), "dk": flat(kg.grad), "dv": flat(vg.grad)}
    if kind == "ssa":
        case["scale"] = SSA_SCALE
    info = ""
    if kind == "wta":
        s = scores_of(q, k)
        winners, _ = wta_winners(s, cand, k_win)
        slow_w, slow_tau, ties = slow_wta(q, k, mask, causal, k_win)
        assert winners.tolist() == slow_w, f"{name}: WTA winners disagree with the slow loop"
        assert wta_tau(s, cand, k_win).tolist() == slow_tau, f"{name}: tau disagrees with the slow loop"
        # The slow loop's winners give the forward output too.
        o_slow = torch.zeros(shape)
        for t in range(T):
            for b in range(B):
                for h in range(H):
                    for i in range(N):
                        for j in slow_w[t][b][h][i]:
                            if j >= 0:
                                o_slow[t, b, i, h] += v[t, b, j, h] / k_win
        assert torch.equal(o_slow, out.detach()), f"{name}: WTA output disagrees with the slow loop"
        # The custom backward equals a straight-through autograd formulation of the same surrogate.
        q2, k2, v2 = (x.clone().requires_grad_(True) for x in (q, k, v))
        wta_straight_through(q2, k2, v2, cand, k_win, alpha).backward(d_o)
        for mine, ref in ((qg, q2), (kg, k2), (vg, v2)):
            assert torch.allclose(mine.grad, ref.grad, rtol=1e-5, atol=1e-6), f"{name}: WTA backward"
        if "ties" in name:
            assert ties["boundary_distance"] > 0, f"{name}: no tie decided by the distance rule"
            assert (q[:, 0, 3] == 0).all() and (winners[:, 0, :, 3] == -1).all()
        case["winners"] = flat(winners)
        n_q = T * B * H * N
        with_winner = int((winners[..., 0] >= 0).sum())
        info = (f" queries with a winner {with_winner}/{n_q}, ties by distance {ties['distance']} "
                f"(at the cut {ties['boundary_distance']}), by index {ties['index']}")
    for g in ("dq", "dk", "dv"):
        assert any(x != 0 for x in case[g]), f"{name}: {g} all zero"
    rate = lambda x: float(x.mean())
    print(f"attention {name:20s} {kind:7s} causal={int(causal)} k={k_win} T={T} B={B} N={N} H={H} dh={dh} "
          f"mask={real} rates q/k/v {rate(q):.2f}/{rate(k):.2f}/{rate(v):.2f} "
          f"|o|max {float(out.abs().max()):.3f}{info}")
    return case


# ----------------------------------------------------------------------------------------------------
# Spiking block (docs/model.md §4, training mode)
# ----------------------------------------------------------------------------------------------------
LINEARS = ("attn.q", "attn.k", "attn.v", "attn.o", "mlp.fc1", "mlp.fc2")
FEEDS_NEURON = ("attn.q", "attn.k", "attn.v", "mlp.fc1")

BLOCK_CASES = [
    # name, neuron, attention kind, causal, k, v_th_attn, alpha_wta, T, B, N, D, H, F, real tokens,
    # BN bias base of the Q/K/V layers (higher = denser Q/K/V spikes)
    ("lif_wta_k1_bidir", "lif", "wta", False, 1, 0.5, 1.0, 4, 2, 6, 8, 2, 16, (6, 4), 0.75),
    ("lif_wta_k2_causal", "lif", "wta", True, 2, 0.25, 1.0, 4, 2, 6, 8, 2, 16, (6, 4), 0.75),
    ("lif_ssa_causal", "lif", "ssa", True, 1, 0.5, 1.0, 4, 2, 7, 16, 2, 32, (7, 5), 1.25),
    # softmax: O = 1 (all weighted V = 1) comes out as 1 - 2^-23 or 1 depending on summation order, so
    # v_th_attn = 0.5 would put spikes exactly at the threshold; 7/16 keeps them clear of it.
    ("lif_softmax_bidir", "lif", "softmax", False, 1, 0.4375, 1.0, 4, 2, 6, 8, 2, 16, (6, 4), 1.5),
    ("nilif_wta_k1_bidir", "nilif", "wta", False, 1, 0.5, 1.0, 4, 2, 6, 8, 2, 16, (6, 4), 0.75),
]


def block_params(gen, D, F_, qkv_bias):
    shapes = {"attn.q": (D, D), "attn.k": (D, D), "attn.v": (D, D), "attn.o": (D, D),
              "mlp.fc1": (F_, D), "mlp.fc2": (D, F_)}
    params = {}
    for name in LINEARS:
        out_dim, in_dim = shapes[name]
        params[name + ".weight"] = dyadic(gen, (out_dim, in_dim), -24, 24, 32)
        params[name + ".bn.weight"] = 1.0 + dyadic(gen, (out_dim,), -4, 4, 16)
        if name in FEEDS_NEURON:
            base = qkv_bias if name.startswith("attn.") else 0.75
            params[name + ".bn.bias"] = base + dyadic(gen, (out_dim,), 0, 8, 16)
        else:
            params[name + ".bn.bias"] = dyadic(gen, (out_dim,), -4, 4, 16)
    return params


def spiking_block(x, params, neuron, att, mask, H, record):
    """x [T,B,N,D] -> y; record collects the spike tensors and the running statistics."""
    T, B, N, D = x.shape
    row_mask = mask.to(torch.float32)[None].expand(T, B, N)
    cand = candidate_mask(mask, att["causal"])
    running = {}

    def sl(name, inp):
        stats = {}
        out = spiking_linear(inp, params[name + ".weight"], params[name + ".bn.weight"],
                             params[name + ".bn.bias"], row_mask, stats)
        running[name + ".bn.running_mean"] = stats["running_mean"]
        running[name + ".bn.running_var"] = stats["running_var"]
        return out

    margins = {n: [] for n in ("s1", "q", "k", "v", "z", "s2", "h")}
    s1 = block_neuron(neuron, x, margins["s1"])
    q = lif_neuron(sl("attn.q", s1), probe=margins["q"])
    k = lif_neuron(sl("attn.k", s1), probe=margins["k"])
    v = lif_neuron(sl("attn.v", s1), probe=margins["v"])
    heads = lambda a: a.reshape(T, B, N, H, D // H)
    o = attention(att["kind"], heads(q), heads(k), heads(v), cand, att["k"], att["alpha_wta"])
    z = lif_neuron(o.reshape(T, B, N, D), v_th=att["v_th_attn"], probe=margins["z"])
    x1 = x + sl("attn.o", z)
    s2 = block_neuron(neuron, x1, margins["s2"])
    hh = block_neuron(neuron, sl("mlp.fc1", s2), margins["h"])
    y = x1 + sl("mlp.fc2", hh)
    record.update(s1=s1, q=q, k=k, v=v, z=z, s2=s2, h=hh, running=running,
                  margins={n: min(m) for n, m in margins.items()})
    return y


def make_block_case(gen, spec):
    name, neuron, kind, causal, k_win, v_th_attn, alpha, T, B, N, D, H, F_, real, qkv_bias = spec
    att = dict(kind=kind, causal=causal, k=k_win, v_th_attn=v_th_attn, alpha_wta=alpha)
    mask = mask_tensor(B, N, real)
    x = dyadic(gen, (T, B, N, D), -32, 96, 32)
    real_rows = (mask > 0)[None, :, :, None].expand(T, B, N, D)
    dy = torch.where(real_rows, normal_dyadic(gen, (T, B, N, D)), torch.zeros(()))
    params = block_params(gen, D, F_, qkv_bias)

    xg = x.clone().requires_grad_(True)
    pg = {n: p.clone().requires_grad_(True) for n, p in params.items()}
    rec = {}
    y = spiking_block(xg, pg, neuron, att, mask, H, rec)
    y.backward(dy)

    kinds = dict(s1=neuron, q="lif", k="lif", v="lif", z="lif", s2=neuron, h=neuron)
    counts, rates = {}, {}
    for layer, kind_n in kinds.items():
        s = rec[layer]
        counts[layer] = event_count(kind_n, s)
        capacity = s.numel() * (NILIF_PARAMS["levels"] if kind_n == "nilif" else 1)
        rates[layer] = counts[layer] / capacity
        assert 0 < counts[layer] < capacity, f"{name}: layer {layer} silent or saturated"
        real_rows = mask.to(torch.float32)[None, :, :, None]
        assert event_count(kind_n, s * real_rows) > 0, f"{name}: layer {layer} silent on real tokens"
    # Layers whose inputs are exact dyadic numbers (s1 always, z unless the attention is softmax) may sit
    # exactly at the threshold on purpose; every other layer must keep clear of it, so that an
    # implementation that sums in another order gets the same spikes.
    exact = {"s1"} | ({"z"} if kind != "softmax" else set())
    for layer, margin in rec["margins"].items():
        assert layer in exact or margin > 1e-5, f"{name}: layer {layer} within {margin:.1e} of its threshold"
    pad = (mask == 0)[None, :, :, None].expand_as(x)
    assert (xg.grad[pad] == 0).all(), f"{name}: gradient leaked into padding rows"
    assert (xg.grad != 0).any(), f"{name}: dx all zero"
    for n, p in pg.items():
        assert (p.grad != 0).any(), f"{name}: gradient of {n} all zero"

    case = dict(name=name, neuron=neuron, attention=att, T=T, B=B, N=N, D=D, H=H, F=F_,
                neuron_params=dict(lif=LIF_PARAMS, nilif=NILIF_PARAMS),
                mask=flat(mask), x=flat(x), dy=flat(dy),
                params={n: flat(p) for n, p in params.items()},
                y=flat(y), dx=flat(xg.grad), grads={n: flat(p.grad) for n, p in pg.items()},
                running_out={n: flat(b) for n, b in rec["running"].items()},
                spike_counts=counts)
    rate_txt = " ".join(f"{l}={r:.2f}" for l, r in rates.items())
    print(f"block     {name:20s} {neuron:5s} {kind:7s} causal={int(causal)} k={k_win} T={T} B={B} N={N} "
          f"D={D} H={H} F={F_} mask={real} rates {rate_txt}")
    print("          margins " + " ".join(f"{l}={m:.1e}" for l, m in rec["margins"].items()))
    return case


# ----------------------------------------------------------------------------------------------------
# ANN twin block (docs/model.md §3.2, T = 1)
# ----------------------------------------------------------------------------------------------------
ANN_CASES = [
    # name, causal, B, N, D, H, F, real tokens
    ("ann_causal", True, 2, 6, 8, 2, 16, (6, 4)),
    ("ann_bidir", False, 2, 5, 8, 2, 16, (5, 3)),
]


def ann_params(gen, D, F_):
    shapes = {"ln1.weight": (D,), "ln1.bias": (D,), "ln2.weight": (D,), "ln2.bias": (D,),
              "mlp.fc1.weight": (F_, D), "mlp.fc1.bias": (F_,), "mlp.fc2.weight": (D, F_), "mlp.fc2.bias": (D,)}
    for p in ("q", "k", "v", "o"):
        shapes[f"attn.{p}.weight"] = (D, D)
        shapes[f"attn.{p}.bias"] = (D,)
    order = ["ln1.weight", "ln1.bias"] + [f"attn.{p}.{w}" for p in "qkvo" for w in ("weight", "bias")] + \
            ["ln2.weight", "ln2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]
    params = {}
    for n in order:
        params[n] = torch.randn(shapes[n], generator=gen) * 0.2
        if n.startswith("ln") and n.endswith("weight"):
            params[n] = params[n] + 1.0
    return params


def ann_block(x, p, mask, causal, H):
    B, N, D = x.shape
    dh = D // H
    cand = candidate_mask(mask, causal)[0]                    # [B,1,N,N]
    a_in = F.layer_norm(x, (D,), p["ln1.weight"], p["ln1.bias"], eps=1e-5)
    proj = lambda n, t: F.linear(t, p[f"attn.{n}.weight"], p[f"attn.{n}.bias"])
    q, k, v = (proj(n, a_in).reshape(B, N, H, dh) for n in "qkv")
    att = masked_softmax(torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(dh), cand)
    o = torch.einsum("bhij,bjhd->bihd", att, v).reshape(B, N, D)
    a = x + proj("o", o)
    m_in = F.layer_norm(a, (D,), p["ln2.weight"], p["ln2.bias"], eps=1e-5)
    hidden = F.gelu(F.linear(m_in, p["mlp.fc1.weight"], p["mlp.fc1.bias"]), approximate="none")
    return a + F.linear(hidden, p["mlp.fc2.weight"], p["mlp.fc2.bias"])


def ann_reference(x, p, mask, causal, H):
    """The same block through torch.nn.MultiheadAttention (an independent check of ann_block)."""
    B, N, D = x.shape
    mha = torch.nn.MultiheadAttention(D, H, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([p[f"attn.{n}.weight"] for n in "qkv"]))
        mha.in_proj_bias.copy_(torch.cat([p[f"attn.{n}.bias"] for n in "qkv"]))
        mha.out_proj.weight.copy_(p["attn.o.weight"])
        mha.out_proj.bias.copy_(p["attn.o.bias"])
    blocked = ~candidate_mask(mask, causal)[0, :, 0]          # [B,N,N] True = not allowed
    attn_mask = blocked.repeat_interleave(H, dim=0)
    a_in = F.layer_norm(x, (D,), p["ln1.weight"], p["ln1.bias"], eps=1e-5)
    a = x + mha(a_in, a_in, a_in, attn_mask=attn_mask, need_weights=False)[0]
    m_in = F.layer_norm(a, (D,), p["ln2.weight"], p["ln2.bias"], eps=1e-5)
    ffn = torch.nn.Sequential(torch.nn.Linear(D, p["mlp.fc1.weight"].shape[0]), torch.nn.GELU(),
                              torch.nn.Linear(p["mlp.fc1.weight"].shape[0], D))
    with torch.no_grad():
        ffn[0].weight.copy_(p["mlp.fc1.weight"]), ffn[0].bias.copy_(p["mlp.fc1.bias"])
        ffn[2].weight.copy_(p["mlp.fc2.weight"]), ffn[2].bias.copy_(p["mlp.fc2.bias"])
    return a + ffn(m_in)


def make_ann_case(gen, spec):
    name, causal, B, N, D, H, F_, real = spec
    mask = mask_tensor(B, N, real)
    x = torch.randn(B, N, D, generator=gen)
    dy = torch.where((mask > 0)[:, :, None], torch.randn(B, N, D, generator=gen), torch.zeros(()))
    params = ann_params(gen, D, F_)
    xg = x.clone().requires_grad_(True)
    pg = {n: p.clone().requires_grad_(True) for n, p in params.items()}
    y = ann_block(xg, pg, mask, causal, H)
    y.backward(dy)
    with torch.no_grad():
        ref = ann_reference(x, params, mask, causal, H)
    assert torch.allclose(y.detach(), ref, rtol=1e-5, atol=1e-5), f"{name}: ANN block disagrees with nn modules"
    assert (xg.grad != 0).any() and all((p.grad != 0).any() for p in pg.values()), f"{name}: zero gradient"
    print(f"ann       {name:20s} causal={int(causal)} B={B} N={N} D={D} H={H} F={F_} mask={real} "
          f"|y|max {float(y.abs().max()):.3f} |dx|max {float(xg.grad.abs().max()):.3f}")
    return dict(name=name, causal=causal, B=B, N=N, D=D, H=H, F=F_, mask=flat(mask), x=flat(x), dy=flat(dy),
                params={n: flat(p) for n, p in params.items()}, y=flat(y), dx=flat(xg.grad),
                grads={n: flat(p.grad) for n, p in pg.items()})


def main(path):
    gen = torch.Generator().manual_seed(20261207)
    attention_cases = [make_attention_case(gen, spec) for spec in ATTENTION_CASES]
    block_cases = [make_block_case(gen, spec) for spec in BLOCK_CASES]
    ann_cases = [make_ann_case(gen, spec) for spec in ANN_CASES]
    doc = {"generator": "tools/gen_block_golden.py", "torch": torch.__version__,
           "attention_cases": attention_cases, "block_cases": block_cases, "ann_cases": ann_cases}
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/block_golden.json")
