#!/usr/bin/env python3
"""Independent check of a wtasim trace (docs/model.md §8) with h5py and numpy only: the layout, every operation
count of /energy/layers recomputed from the trace's own spike events by the rules of docs/model.md §7, and the
logits (or task outputs) recomputed from the final layer's events and the checkpoint's head weights, for
every sequence of the trace. Learned neuron constants (docs/model.md §10, /params/<layer>.v_th and .plif_w in
the checkpoint) are read and used: the thresholds in the spikes-against-membranes check, and tau = 1 + exp(-w) in
a recomputation of block 0's SN membranes from the embeddings (its input, the same at every step).
With a task run's RESULT.json (wtasim task), also recomputes the energy of the traced examples from those
counts and the energy profile (docs/model.md §7), and compares it with what the run reported.
Usage: check_trace.py TRACE.h5 CHECKPOINT.h5 [RESULT.json PROFILE.json]"""
import json
import sys

import h5py
import numpy as np

trace_path, ckpt_path = sys.argv[1], sys.argv[2]
result_path, profile_path = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
failures = []
energy_full = energy_paper = 0.0


def expect(what, got, want):
    if got != want:
        failures.append(f"{what}: trace says {got}, recomputed {want}")


with h5py.File(trace_path, "r") as f, h5py.File(ckpt_path, "r") as ck:
    assert f.attrs["format"] in ("wtasim-trace", b"wtasim-trace")
    assert int(f.attrs["format_version"]) == 1
    cfg = json.loads(f.attrs["config"])
    json.loads(f.attrs["scenario"])
    D, F, V, T, H, L = cfg["d_model"], cfg["d_ff"], cfg["vocab"], cfg["T"], cfg["heads"], cfg["layers"]
    k, kind, causal = cfg["attention"]["k"], cfg["attention"]["kind"], cfg["causal"]
    dh = D // H
    bias = cfg["attention"].get("bias", [])  # the recency bonus b(|i - j|): one AC per candidate it applies to
    classes = json.loads(f["energy"].attrs["classes"])
    names = json.loads(f["energy"].attrs["layer_names"])
    col = {c: i for i, c in enumerate(classes)}
    # the head: the LM head, or a fine-tuned checkpoint's task head (sequence readout: one pooled row)
    task = cfg.get("task")
    head = f"task.{task['name']}" if task else "head"
    O = task["outputs"] if task else V
    readout = cfg.get("readout", "spikes")  # docs/model.md §10: "levels" = an NI-LIF sn_final, "residual" = none
    final_kind = "nilif" if readout == "levels" else cfg["neuron"]
    skipped = []
    # every dataset states its units and what it holds; string attributes read as str; the energy tables have
    # named rows and columns (dimension scales)
    undescribed = []
    f.visititems(lambda n, o: undescribed.append(n) if isinstance(o, h5py.Dataset) and not (
        isinstance(o.attrs.get("units"), str) and isinstance(o.attrs.get("description"), str)) else None)
    if undescribed:
        failures.append(f"datasets without units and description: {undescribed[:5]}")
    if not isinstance(f.attrs["config"], str):
        failures.append(f"the config attribute reads as {type(f.attrs['config']).__name__}, not str")
    if "layer" in f["energy"]:
        e = f["energy/layers"]
        expect("energy/layers dimension labels", [d.label for d in e.dims], ["layer", "class"])
        expect("energy/layers rows", [x.decode() for x in e.dims[0][0][()]], names)
        expect("energy/layers columns", [x.decode() for x in e.dims[1][0][()]], classes)
        expect("energy/steps dimension labels", [d.label for d in f["energy/steps"].dims], ["step", "class"])
    for sname in f["sequences"]:
        seq = f["sequences/" + sname]
        N = seq["tokens"].shape[0]
        rows = 1 if task and task["readout"] == "sequence" else N
        table = seq["energy/layers"][:]
        counts = {name: table[i] for i, name in enumerate(names)}
        layers = seq["layers"]

        def events(name):
            g = layers[name]["spikes"]
            step, token, neuron = g["step"][:], g["token"][:], g["neuron"][:]
            order = np.lexsort((token, step))
            assert (order == np.arange(len(step))).all(), f"{name}: events not sorted by step then token"
            return step, token, neuron

        def dense(name, width):  # [T, N, width] spike counts (NI-LIF levels as repeated events)
            s = np.zeros((T, N, width), dtype=np.int64)
            step, token, neuron = events(name)
            np.add.at(s, (step, token, neuron), 1)
            return s

        # counts heat maps agree with the event lists
        for name in layers:
            c = layers[name]["counts"][:]
            step, token, _ = events(name)
            ref = np.zeros((T, N), dtype=np.int64)
            np.add.at(ref, (step, token), 1)
            expect(f"{name}/counts", c.astype(np.int64).tolist(), ref.tolist())
            expect(f"{name} NU", int(counts[name][col["NU"]]), layers[name].attrs["n_neurons"] * N * T)

        ac = lambda name: int(counts[name][col["AC"]])
        nev = lambda name: len(layers[name]["spikes/step"])
        expect("embed AC", ac("embed"), N * D)
        for l in range(L):
            p = f"blocks.{l}."
            for lin in ("q", "k", "v"):
                expect(p + "attn." + lin, ac(p + "attn." + lin), nev(p + "sn1") * D + N * D * T)
            expect(p + "attn.o", ac(p + "attn.o"), nev(p + "attn.sn_a") * D + N * D * T)
            expect(p + "mlp.fc1", ac(p + "mlp.fc1"), nev(p + "sn2") * F + N * F * T)
            expect(p + "mlp.fc2", ac(p + "mlp.fc2"), nev(p + "mlp.sn_h") * D + N * D * T)
            expect(p + "residual", ac(p + "residual"), 2 * N * D * T)
            q, kk, v = (dense(p + "attn.sn_" + x, D) for x in "qkv")
            if cfg["attention"].get("recency", "none") in ("shift", "shift+bias"):  # n offers its and n-1's K, V
                for a in (kk, v):
                    a[:, 1:] = np.maximum(a[:, 1:], a[:, :-1].copy())
            score_ac = cmp = extra_ac = 0
            winners = seq[f"attention/blocks.{l}/winners"][:] if kind == "wta" else None
            if winners is not None:  # the fraction of queries with no winner, as the trace states it
                none = (winners < 0).all(axis=-1).mean()
                got = float(seq[f"attention/blocks.{l}/winners"].attrs["no_winner_fraction"])
                assert abs(got - none) < 1e-12, f"{p}winners no_winner_fraction {got}, recomputed {none}"
            for t in range(T):
                for h in range(H):
                    qs, ks, vs = (a[t][:, h * dh:(h + 1) * dh] for a in (q, kk, v))
                    s = qs @ ks.T
                    for i in range(N):
                        cand = range(i + 1) if causal else range(N)
                        score_ac += int(sum(s[i, j] for j in cand))
                        score_ac += sum(1 for j in cand if abs(i - j) < len(bias) and bias[abs(i - j)] > 0)
                        if kind == "wta":
                            cmp += k * len(cand)
                            for j in winners[t, h, i]:
                                if j >= 0:
                                    extra_ac += int(vs[j].sum())
                        elif kind == "ssa":
                            extra_ac += int(sum(vs[j].sum() for j in cand if s[i, j] > 0))
                        else:
                            extra_ac += int(sum(vs[j].sum() for j in cand))
            expect(p + "attn.select AC", ac(p + "attn.select"), score_ac + extra_ac)
            expect(p + "attn.select CMP", int(counts[p + "attn.select"][col["CMP"]]), cmp)
        if readout == "residual":  # sum_t X: T x D AC per token, then D x O MAC per token (docs/model.md §7)
            expect("head AC", ac("head"), N * D * T + rows * O)
            expect("head MAC", int(counts["head"][col["MAC"]]), N * D * O)
        else:
            expect("head AC", ac("head"), nev("sn_final") * O + rows * O)
        # membranes, where recorded: every LIF spike is a membrane at or above its threshold, every NI-LIF level
        # is the rounded, clipped membrane (docs/model.md §2)
        lif = cfg["lif"]
        # trace layer -> checkpoint neuron name (docs/model.md §8): blocks.<l>.{sn1,q,k,v,a,sn2,h}, final
        roles = {"sn1": "sn1", "attn.sn_q": "q", "attn.sn_k": "k", "attn.sn_v": "v", "attn.sn_a": "a", "sn2": "sn2",
                 "mlp.sn_h": "h"}

        def learned(name, key, width):
            """The checkpoint's learned constant of layer `name` broadcast to [width], or None."""
            if name == "sn_final":
                ck_name = "final"
            else:
                parts = name.split(".", 2)
                ck_name = f"{parts[0]}.{parts[1]}.{roles.get(parts[2], parts[2])}" if len(parts) == 3 else name
            path = f"params/{ck_name}.{key}"
            if path not in ck:
                return None
            return np.broadcast_to(ck[path][:].astype(np.float64), (width,))

        for name in layers:
            if "membrane" not in layers[name]:
                continue
            u = layers[name]["membrane"][:].astype(np.float64)
            width = layers[name].attrs["n_neurons"]
            got = dense(name, width)
            nkind = final_kind if name == "sn_final" else cfg["neuron"]
            binary = nkind == "lif" or any(x in name for x in ("sn_q", "sn_k", "sn_v", "sn_a"))
            if binary:
                v_th = cfg["attention"]["v_th_attn"] if name.endswith("sn_a") else lif["v_th"]
                if name.endswith(("sn_q", "sn_k")):  # their own threshold, when the config sets one
                    v_th = cfg["attention"].get("v_th_qk", lif["v_th"])
                trained = learned(name, "v_th", width)  # a learned threshold per channel
                if lif.get("learn_v_th", "none") != "none" and trained is None:
                    failures.append(f"{name}: the config learns v_th but the checkpoint has no threshold for it")
                want = (u >= (v_th if trained is None else trained)).astype(np.int64)
            else:
                want = np.clip(np.round(u), 0, cfg["nilif"]["levels"]).astype(np.int64)
            if not (got == want).all():
                failures.append(f"{name}: spikes disagree with the membranes at {int((got != want).sum())} places")
            membranes_checked = True
            # block 0's SN integrates X0 = E[token] + P[n] at every step: recompute its membranes with its tau
            if name == "blocks.0.sn1" and binary:
                tok = seq["tokens"][:].astype(np.int64)
                x0 = (ck["params/embed.tok.weight"][:][tok] + ck["params/embed.pos.weight"][:N]).astype(np.float64)
                w = learned(name, "plif_w", width)
                tau = lif["tau"] if w is None else 1.0 + np.exp(-w)
                v_th_0 = learned(name, "v_th", width)
                v_th_0 = lif["v_th"] if v_th_0 is None else v_th_0
                hard = lif.get("reset", "hard") == "hard"
                v_r = lif.get("v_reset", 0.0) if hard else 0.0
                v = np.full((N, width), v_r)
                worst = 0.0
                for t in range(T):
                    if lif.get("decay_input", True):
                        h = v + (x0 - (v - v_r)) / tau
                    else:
                        h = v - (v - v_r) / tau + x0
                    worst = max(worst, float(np.abs(h - u[t]).max()))
                    fired = got[t] > 0  # the trace's own spikes decide the reset
                    v = np.where(fired, v_r, h) if hard else h - fired * v_th_0
                if worst > 1e-4 * max(1.0, float(np.abs(u).max())):
                    failures.append(f"{name}: membranes recomputed from the embeddings (tau of the checkpoint) differ "
                                    f"by {worst:.2e}")
        # the trace explains itself: token text beside the ids; energy in pJ beside the counts, recomputed here
        # from the profile file; the no-winner convention on every winners table
        if "token_text" in seq:
            text = seq["token_text"].asstr()[()]
            expect("token_text length", len(text), N)
            if any(not isinstance(t, str) for t in text):
                failures.append("token_text: not strings")
        if profile_path and "layers_pj" in seq["energy"]:
            cost = json.load(open(profile_path))["costs_pj"]
            want = table.astype(np.float64) * np.array([cost[c] for c in classes])
            err = np.abs(seq["energy/layers_pj"][:] - want).max()
            if err > 1e-9 * max(1.0, float(np.abs(want).max())):
                failures.append(f"energy/layers_pj: differs from counts x profile costs by {err} pJ")
        if "attention" in seq:
            for b in seq["attention"]:
                expect(f"{b} winners no_winner", int(seq[f"attention/{b}/winners"].attrs["no_winner"]), -1)
        # totals per step add up to the per-layer totals
        expect("steps sum", seq["energy/steps"][:].sum(axis=0).tolist(), table.sum(axis=0).tolist())
        if profile_path:
            cost = json.load(open(profile_path))["costs_pj"]
            total = table.sum(axis=0).astype(np.float64)
            energy_full += sum(total[col[c]] * cost[c] for c in classes)
            energy_paper += 4.6 * total[col["MAC"]] + 0.9 * total[col["AC"]]
        # logits from the final events and the checkpoint's head
        if readout == "residual":  # the trace holds events, not the real-valued residual stream the head read
            skipped = ["logits not recomputed: readout \"residual\" has no sn_final events (its head MACs are)"]
            continue
        levels = cfg["nilif"]["levels"] if final_kind == "nilif" else 1
        sf = dense("sn_final", D).sum(axis=0) / levels  # sum over steps of the spike values
        W, b = ck[f"params/{head}.weight"][:].astype(np.float64), ck[f"params/{head}.bias"][:].astype(np.float64)
        logits = sf @ W.T / T + b if rows == N else (sf / T).mean(axis=0, keepdims=True) @ W.T + b
        ours = seq["logits"][:]
        err = np.abs(logits - ours).max() / max(1e-9, np.abs(ours).max())
        if err > 1e-5:
            failures.append(f"logits: recomputed from sn_final events differ by {err:.2e} of the largest")

if result_path:
    traced = json.load(open(result_path))["traced"]
    for what, mine in (("full", energy_full), ("paper", energy_paper)):
        theirs = traced["energy_pj"][what]
        if abs(mine - theirs) > 1e-6 * max(1.0, abs(theirs)):
            failures.append(f"energy ({what}) of the {traced['examples']} traced examples: run reported {theirs} pJ, "
                            f"recomputed from the trace {mine} pJ")
    print(f"energy of the traced examples recomputed from the trace: {energy_full / 1e3:.3f} nJ (full profile), "
          f"{energy_paper / 1e3:.3f} nJ (paper convention)")
for line in failures:
    print("FAIL", line)
for line in skipped:
    print("SKIP", line)
print(f"trace check: {len(failures)} mismatches; layout, counts of every layer and logits recomputed from the spikes"
      + ("; spikes against membranes" if "membranes_checked" in globals() else ""))
sys.exit(1 if failures else 0)
