#!/usr/bin/env python3
"""Prints the ablation table of docs/RESULTS.md from the runs of tools/run_rows.sh.

Usage: python3 tools/ablation_table.py runs/ablation [name ...]

Per row: validation perplexity and bits per byte (the last eval line of metrics.jsonl: the whole validation
split; for a masked LM over the masked tokens), token accuracy (next-token for CLM, masked-token for MLM, top-1),
firing rate and fraction of queries without a winner per block (the last logged training batch), training
tokens/s (the last training line: this run's tokens over its wall time), energy per token through the simulator
(report.json: paper convention and full profile) with the SNN / ANN-twin ratio, and whether inference is
spike-driven: no layer counts a multiply-accumulate, an exponential or a division (docs/model.md section 7; the
embedding is a lookup and counts AC).
"""
import json
import os
import sys


def last(lines, pred):
    found = None
    for line in lines:
        if pred(line):
            found = line
    return found


def row(folder, name):
    path = os.path.join(folder, name)
    with open(os.path.join(path, "metrics.jsonl")) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    ev = last(lines, lambda j: j.get("split") == "valid")
    tr = last(lines, lambda j: "tokens_per_s" in j)
    if ev is None or tr is None:
        return None
    r = {"ppl": ev["perplexity"], "bpb": ev["bits_per_byte"], "acc": ev.get("masked_accuracy", 0.0),
         "tps": tr["tokens_per_s"], "fr": tr.get("firing_rate"), "nw": tr.get("no_winner")}
    rep = os.path.join(path, "report.json")
    if os.path.exists(rep):
        with open(rep) as f:
            j = json.load(f)
        r["e_paper"] = j["energy_per_token_pj"]["paper_convention"] / 1000
        r["e_full"] = j["energy_per_token_pj"]["full_profile"] / 1000
        r["ratio_paper"] = j["ann_twin"]["ratio_snn_to_ann"]["paper_convention"]
        r["ratio_full"] = j["ann_twin"]["ratio_snn_to_ann"]["full_profile"]
        dense = []
        for layer in j["layers"]:
            c = layer["counts"]
            if any(c.get(k, 0) for k in ("MAC", "EXP", "DIV")):
                dense.append(layer["name"])
        r["spike_driven"] = "yes" if not dense else "no (" + ", ".join(dense) + ")"
    return r


def fmt_list(v):
    return ", ".join("%.3f" % x for x in v) if v else "—"


def main():
    folder = sys.argv[1]
    names = sys.argv[2:] or sorted(n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n)))
    print("| row | val perplexity | bits per byte | token accuracy | firing rate per block | no winner per block | nJ/token (paper) "
          "| nJ/token (full) | SNN/ANN (paper) | SNN/ANN (full) | training tokens/s | spike-driven inference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        if not os.path.exists(os.path.join(folder, name, "metrics.jsonl")):
            print("| %s | not run ||||||||||| " % name)
            continue
        r = row(folder, name)
        if r is None:
            print("| %s | running ||||||||||| " % name)
            continue
        e = ("%.1f | %.1f | %.3f | %.3f" % (r["e_paper"], r["e_full"], r["ratio_paper"], r["ratio_full"])
             if "e_full" in r else "— | — | — | —")
        print("| %s | %.2f | %.3f | %.4f | %s | %s | %s | %.0f | %s |" % (
            name, r["ppl"], r["bpb"], r["acc"], fmt_list(r["fr"]), fmt_list(r["nw"]), e, r["tps"], r.get("spike_driven", "—")))


if __name__ == "__main__":
    main()
