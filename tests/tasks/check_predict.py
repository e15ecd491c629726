#!/usr/bin/env python3
"""Checks `wtasim eval` and `wtasim predict` on a task checkpoint against the task run that made it.

Usage: check_predict.py <wtasim> <task scenario.json> <run folder> <max_eval>

The run folder is what `wtasim task <scenario> --max-eval <max_eval> --output <run folder>` wrote. Checked:
  - `wtasim eval <run>/spiking.h5` (with the scenario's evaluation file, or the built-in task's test split) writes
    the same predictions.jsonl as the task run, byte for byte, and prints the same headline score and energy per
    example as its result.json;
  - `wtasim predict` on the first evaluation example of a file (its texts read from the file here) predicts what
    the task run predicted for it; class probabilities are a distribution whose largest entry is the prediction;
  - for a tagging task, predict gives one tag per word of a new sentence, each a label of the task.
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        fail(" ".join(args) + f" exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def stored_config(path):
    """The checkpoint's model config (its root attribute "config"), read with h5py."""
    import h5py

    with h5py.File(path, "r") as f:
        c = f.attrs["config"]
    return json.loads(c.decode() if isinstance(c, bytes) else c)


def first_example(fmt, name, path):
    """(text, text_b) of the first example of an evaluation file, read here as the format's documentation says."""
    if fmt == "glue":
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        if name == "cola" and not rows[0][0] == "index":  # CoLA's train / dev files have no header
            rows.insert(0, ["source", "label", "original-label", "sentence"])
        head, row = rows[0], rows[1]
        cols = {"sst2": ("sentence", None), "cola": ("sentence", None), "mnli": ("sentence1", "sentence2"),
                "stsb": ("sentence1", "sentence2"), "rte": ("sentence1", "sentence2"),
                "mrpc": ("#1 String", "#2 String"), "qqp": ("question1", "question2"),
                "qnli": ("question", "sentence")}[name]
        a = row[head.index(cols[0])]
        b = row[head.index(cols[1])] if cols[1] else ""
        return a, b
    if fmt == "squad":
        with open(path, encoding="utf-8") as f:
            para = json.load(f)["data"][0]["paragraphs"][0]
        return para["qas"][0]["question"], para["context"]
    return None


GLUE_FILES = {"cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "qqp": "QQP", "stsb": "STS-B", "mnli": "MNLI-m",
              "qnli": "QNLI", "rte": "RTE"}


def check_submissions(folder, predictions, task):
    """The benchmark's submission files say what predictions.jsonl says, in the benchmark's ids and labels; the ANN
    twin's predictions and submission sit beside them."""
    rows = [json.loads(line) for line in predictions.splitlines()]
    ann = os.path.join(folder, "predictions-ann.jsonl")
    if os.path.exists(os.path.join(folder, "ann.h5")):
        with open(ann, encoding="utf-8") as f:
            if [json.loads(line)["id"] for line in f] != [r["id"] for r in rows]:
                fail("predictions-ann.jsonl does not cover the same examples")
    name = task.get("name") if task.get("format") == "glue" else task.get("format")
    expect = {"boolq": "BoolQ.jsonl"}.get(name) or (GLUE_FILES[name] + ".tsv" if name in GLUE_FILES else None)
    for sub in ("submission", "submission-ann"):
        path = os.path.join(folder, sub)
        if expect is None:
            if os.path.exists(path):
                fail(f"{sub}/ written for a task without a submission layout")
            continue
        with open(os.path.join(path, expect), encoding="utf-8") as f:
            lines = f.read().splitlines()
        if sub == "submission-ann":
            if len(lines) != len(rows) + (1 if expect.endswith(".tsv") else 0):
                fail(f"{sub}/{expect}: {len(lines)} lines for {len(rows)} examples")
            continue
        if expect.endswith(".tsv"):
            if lines[0] != "index\tprediction" or len(lines) != len(rows) + 1:
                fail(f"{sub}/{expect}: header {lines[0]!r}, {len(lines) - 1} rows for {len(rows)} examples")
            for i, (line, r) in enumerate(zip(lines[1:], rows)):
                index, value = line.split("\t")
                if index != r.get("index", str(i)):
                    fail(f"{sub}/{expect} row {i}: index {index}, predictions.jsonl {r.get('index', str(i))}")
                want = r["label"] if "label" in r else f"{min(5.0, max(0.0, r['prediction'])):.6g}"
                if value != want:
                    fail(f"{sub}/{expect} row {i}: {value!r}, predictions.jsonl {want!r}")
        else:
            for i, (line, r) in enumerate(zip(lines, rows)):
                got = json.loads(line)
                if got["label"] != r["label"] or str(got["idx"]) != r.get("index", str(i)):
                    fail(f"{sub}/{expect} row {i}: {got}, predictions.jsonl {r}")
        print(f"{sub}/{expect}: {len(rows)} predictions as predictions.jsonl has them")


def main():
    wtasim, scenario_path, folder, max_eval = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    with open(scenario_path, encoding="utf-8") as f:
        scenario = json.load(f)
    task = scenario["task"]
    base = os.path.dirname(os.path.abspath(scenario_path))
    ckpt = os.path.join(folder, "spiking.h5")
    with open(os.path.join(folder, "result.json"), encoding="utf-8") as f:
        result = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        preds = os.path.join(tmp, "predictions.jsonl")
        args = [wtasim, "eval", ckpt, "--predictions", preds]
        if "builtin" in task:
            args += ["--max", max_eval]
        else:
            args += ["--data", os.path.join(base, task["eval"])]
            if task["format"] not in ("glue", "boolq", "squad"):
                args += ["--format", task["format"]]
        out = run(args)
        with open(preds, encoding="utf-8") as f:
            mine = f.read()
        with open(os.path.join(folder, "predictions.jsonl"), encoding="utf-8") as f:
            theirs = f.read()
        if mine != theirs:
            fail(f"eval's predictions differ from the task run's ({len(mine)} and {len(theirs)} bytes)")
        metric = result["metric"]
        m = re.search(r"\), " + re.escape(metric) + r" (-?[0-9.]+|nan)", out)
        if not m:
            fail("eval printed no " + metric + ":\n" + out)
        score = result["spiking_simulator"]["score"]
        if m.group(1) != f"{score:.4f}":
            fail(f"eval's {metric} {m.group(1)}, the task run's {score:.4f}")
        e = re.search(r"energy per example: ([0-9.]+) nJ", out)
        want = result["spiking_simulator"]["energy_per_example_pj"]["full"] * 1e-3
        if not e or abs(float(e.group(1)) - want) > 5e-4:  # printed with 3 decimals
            fail(f"eval's energy per example {e.group(1) if e else None} nJ, the task run's {want:.3f}")
        print(f"eval: {len(mine.splitlines())} predictions identical to the task run's, {metric} {m.group(1)}, "
              f"{e.group(1)} nJ per example")

        check_submissions(folder, theirs, task)

        kind = result["kind"]
        first = None if "builtin" in task else first_example(task["format"], task.get("name", ""),
                                                              os.path.join(base, task["eval"]))
        if first:
            a, b = first
            q = json.loads(run([wtasim, "predict", ckpt, "--text", a] + (["--text-b", b] if b else []) + ["--json"]))
            want = json.loads(theirs.splitlines()[0])["prediction"]
            if isinstance(want, float):
                ok = abs(q["prediction"] - want) <= 1e-6 * max(1.0, abs(want))
            else:
                ok = q["prediction"] == want
            if not ok:
                fail(f"predict says {q['prediction']!r} for the first example, the task run {want!r}")
            if kind in ("classification", "pair_classification"):
                probs = q["probabilities"]
                if abs(sum(probs.values()) - 1.0) > 1e-9 or max(probs, key=probs.get) != q["prediction"]:
                    fail(f"class probabilities {probs} do not make {q['prediction']!r} the prediction")
                if abs(probs[q["prediction"]] - q["probability"]) > 1e-12:
                    fail("probability is not the predicted class's")
            en = q["energy"]
            if not (en["spiking_pj"] > 0 and en["ann_twin_pj"] > 0 and en["tokens"] > 0):
                fail(f"predict's energy {en}")
            print(f"predict: first example -> {q['prediction']!r} as in the task run; {en['tokens']} tokens, "
                  f"{en['spiking_pj'] * 1e-3:.3f} nJ")
        if kind == "tagging":
            sentence = "The old man walked slowly to the river ."
            q = json.loads(run([wtasim, "predict", ckpt, "--text", sentence, "--json"]))
            words = sentence.split()
            if q["words"] != words or len(q["prediction"]) != len(words):
                fail(f"tagging: {q['words']} / {q['prediction']} for {words}")
            labels = set(stored_config(ckpt)["task"]["labels"])
            for tag, p in zip(q["prediction"], q["probability"]):
                if tag not in labels or not (0.0 < p <= 1.0):
                    fail(f"tagging: tag {tag!r} with probability {p}")
            print("predict: tags " + " ".join(f"{w}/{t}" for w, t in zip(words, q["prediction"])))
    print("ok")


if __name__ == "__main__":
    main()
