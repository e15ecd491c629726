#!/usr/bin/python3
"""Bad inputs and faults through the real command line (issue 13): every case must end with a non-zero exit
status (not a signal, not "internal error"), one line on stderr that starts "wtasim: " and holds the expected
words, no source or temporary-file name in it, every file that existed before byte-identical afterwards, and
no temporary file left behind.

Usage: check_bad_inputs.py WTASIM SOURCE_DIR WORK_DIR [cases|faults|disk-full] [case-name-substring]
The corpus is tests/data/bad/ (scenarios, task data, profiles); checkpoints with bad contents are made here
from models/wd-kjv-small.h5 with h5py, and a small training checkpoint is trained once for the resume cases.
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

WTASIM, SOURCE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
GROUP = sys.argv[4] if len(sys.argv) > 4 else "cases"
ONLY = sys.argv[5] if len(sys.argv) > 5 else ""
BAD = os.path.join(SOURCE, "tests/data/bad")
MODEL = os.path.join(SOURCE, "models/wd-kjv-small.h5")
failures = []


def hashes(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    out[p] = hashlib.sha256(fh.read()).hexdigest()
    return out


def temps(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if re.match(r"^\..*\.tmp\.\d+$", f)]


def fresh(name):
    work = os.path.join(WORK, name)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(BAD, work)
    shutil.copy(MODEL, os.path.join(work, "m.h5"))
    return work


def edit(src, dst, fn):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        fn(f)


def text(attr):
    return attr.decode() if isinstance(attr, bytes) else str(attr)


def set_config(f, change):
    import json
    cfg = json.loads(f.attrs["config"])
    change(cfg)
    f.attrs["config"] = json.dumps(cfg)


def check(name, args, words, setup=None, env=None, timeout=300):
    """Runs one case; `words` must all appear (case-insensitive) in the one-line message."""
    if ONLY and ONLY not in name:
        return
    work = fresh(name)
    if setup:
        setup(work)
    before = hashes(work)
    before_src = hashes(BAD)
    argv = [WTASIM] + [a.replace(b"{w}", work.encode()) if isinstance(a, bytes) else a.replace("{w}", work)
                       for a in args]
    try:
        r = subprocess.run(argv, cwd=work, capture_output=True, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired:
        failures.append(f"{name}: did not end within {timeout} s (an endless run)")
        print(f"FAIL {name}: timeout")
        return
    err = r.stderr.decode("utf-8", "replace")
    lines = [l for l in err.splitlines() if l.strip() and not l.startswith("note:")]
    problems = []
    if r.returncode == 0:
        problems.append("exit status 0 (accepted silently)")
    elif r.returncode < 0 or r.returncode >= 128:
        problems.append(f"ended by a signal or crash (status {r.returncode})")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, expected one")
    msg = lines[-1] if lines else ""
    if not msg.startswith("wtasim: "):
        problems.append("the message does not start with 'wtasim: '")
    if "internal error" in msg or "json.exception" in msg:
        problems.append("an internal or library error leaked")
    if re.search(r"\.(cpp|hpp):\d+|/build/", msg):
        problems.append("a source or build path in the message")
    if re.search(r"\.tmp\.\d+", msg):
        problems.append("a temporary file named in the message")
    for w in words:
        if w.lower() not in msg.lower():
            problems.append(f"the message lacks {w!r}")
    after = hashes(work)
    for p, h in before.items():
        if after.get(p) != h:
            problems.append(f"input {os.path.relpath(p, work)} was {'changed' if p in after else 'removed'}")
    if hashes(BAD) != before_src:
        problems.append("the corpus in tests/data/bad changed")
    left = temps(work)
    if left:
        problems.append(f"temporary files left: {left}")
    if problems:
        failures.append(f"{name}: " + "; ".join(problems) + f" -- message: {msg!r}")
        print(f"FAIL {name}: {'; '.join(problems)}\n     {err.strip()[:600]}")
    else:
        print(f"ok   {name}: {msg}")


# ---- a small training checkpoint (with optimizer state) for the resume cases ---------------------------------
def training_checkpoint():
    out = os.path.join(WORK, "_train")
    ckpt = os.path.join(out, "out/checkpoint.h5")
    if not training_checkpoint.made:  # once per run: a checkpoint of an earlier build may be in another layout
        training_checkpoint.made = True
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(BAD, out)
        subprocess.run([WTASIM, "train", "train_tiny.json", "--steps", "3"], cwd=out, check=True,
                       capture_output=True)
    return ckpt


training_checkpoint.made = False


def with_training_checkpoint(change=None):
    def setup(work):
        os.makedirs(os.path.join(work, "out"), exist_ok=True)
        dst = os.path.join(work, "out/checkpoint.h5")
        shutil.copy(training_checkpoint(), dst)
        shutil.copy(training_checkpoint(), os.path.join(work, "checkpoint.h5"))
        if change:
            with h5py.File(dst, "r+") as f:
                change(f)
    return setup


def variant(change, name="v.h5"):
    def setup(work):
        edit(os.path.join(work, "m.h5"), os.path.join(work, name), change)
    return setup


def poke(path, index, value):
    def change(f):
        d = f[path][()]
        d.flat[index] = value
        f[path][...] = d
    return change


def cases():
    w = "{w}"
    # -- command-line numbers and values
    check("cli-mistyped-subcommand", ["trian", "train_tiny.json"], ['unknown subcommand "trian"', 'did you mean "train"'])
    check("cli-unknown-subcommand", ["frobnicate"], ['unknown subcommand "frobnicate"'])
    check("cli-negative-steps", ["train", "train_tiny.json", "--steps", "-1"], ["--steps", "-1", "whole number"])
    check("cli-zero-steps", ["train", "train_tiny.json", "--steps", "0"], ["--steps", ">= 1"])
    check("cli-huge-steps", ["train", "train_tiny.json", "--steps", "99999999999999999999999"], ["--steps"])
    # -- predict / eval on task checkpoints
    check("predict-no-task-head", ["predict", "m.h5", "--text", "In the beginning"], ["m.h5", "no task head", "--choice"])
    check("predict-one-choice", ["predict", "m.h5", "--text", "In the", "--choice", " beginning"],
          ["--choice", "at least two"])
    check("predict-task-labels", ["predict", "v.h5", "--text", "a"], ["v.h5", "/task/labels", "one name per output"],
          setup=variant(lambda f: set_config(f, lambda c: c.update(
              task={"name": "x", "outputs": 2, "kind": "classification", "labels": ["a"]}))))
    check("predict-task-kind", ["predict", "v.h5", "--text", "a"], ["v.h5", "/task/kind", "tagging"],
          setup=variant(lambda f: set_config(f, lambda c: c.update(task={"name": "x", "outputs": 2, "kind": "tag"}))))
    check("eval-choice-format", ["eval", "m.h5", "--data", "train_tiny.json"], ["--format", "arc"])
    check("cli-negative-threads", ["simulate", "m.h5", "--threads", "-3"], ["--threads", "-3"])
    check("cli-negative-seed", ["generate", "m.h5", "--seed", "-1"], ["--seed", "-1"])
    check("cli-nan-temperature", ["generate", "m.h5", "--temperature", "nan"], ["--temperature", "nan"])
    check("cli-empty-output", ["train", "train_tiny.json", "--output", ""], ["--output", "non-empty"])
    check("cli-empty-trace", ["simulate", "m.h5", "--trace", ""], ["--trace", "non-empty"])
    check("cli-demo-too-large", ["demo", "--neurons", "100000000", "--steps", "1000"],
          ["--neurons", "--steps", "neuron-steps"])
    check("cli-task-zero-max-eval", ["task", "task_stsb_out_of_range.json", "--max-eval", "0"], ["--max-eval"])
    # -- invalid UTF-8 in prompts
    check("utf8-simulate-text", ["simulate", "m.h5", "--text", b"In the \xff\xfe beginning"], ["--text", "UTF-8"])
    check("utf8-generate-text", ["generate", "m.h5", "--text", b"\xc3\x28"], ["--text", "UTF-8"])
    # -- outputs that are inputs, shared, read-only or folders: refused before anything is written
    check("out-trace-onto-checkpoint", ["simulate", "m.h5", "--trace", "m.h5"], ["m.h5", "checkpoint", "refusing"])
    check("out-report-onto-checkpoint", ["simulate", "m.h5", "--report-json", "./sub/../m.h5"],
          ["checkpoint", "refusing"])
    check("out-export-onto-itself", ["export", "m.h5", "m.h5"], ["export output", "checkpoint", "refusing"])
    check("out-export-onto-symlink", ["export", "m.h5", "link.h5"], ["checkpoint", "refusing"],
          setup=lambda d: os.symlink("m.h5", os.path.join(d, "link.h5")))
    check("out-scenario-trace-onto-checkpoint", ["run", "run_trace_onto_checkpoint.json"], ["trace", "checkpoint"])
    check("out-scenario-report-onto-itself", ["run", "run_report_onto_itself.json"], ["scenario file", "refusing"])
    check("out-two-outputs-one-file", ["run", "run_two_outputs.json"], ["r.out", "two outputs"])
    check("out-read-only", ["export", "m.h5", "ro.h5"], ["ro.h5", "read-only"],
          setup=lambda d: (shutil.copy(os.path.join(d, "m.h5"), os.path.join(d, "ro.h5")),
                           os.chmod(os.path.join(d, "ro.h5"), 0o444)))
    check("out-report-read-only", ["simulate", "m.h5", "--report-md", "ro.md"], ["ro.md", "read-only"],
          setup=lambda d: (open(os.path.join(d, "ro.md"), "w").write("keep me\n"),
                           os.chmod(os.path.join(d, "ro.md"), 0o444)))
    check("out-is-directory", ["export", "m.h5", "folder"], ["folder", "is a directory"],
          setup=lambda d: os.mkdir(os.path.join(d, "folder")))
    check("out-train-onto-tokenizer-source", ["train", "train_onto_tokenizer_source.json"],
          ["checkpoint.h5", "tokenizer source", "refusing"], setup=with_training_checkpoint())
    # -- JSON: depth, duplicates, numbers, size, not JSON, folders
    check("json-deep", ["run", "run_deep.json"], ["run_deep.json", "nested deeper"])
    check("json-duplicate-key", ["run", "run_dup_key.json"], ["run_dup_key.json", "/threads", "duplicate key"])
    check("json-duplicate-nested-key", ["run", "run_dup_nested.json"], ["/model/checkpoint", "duplicate key"])
    check("json-number-out-of-range", ["run", "run_huge_number.json"], ["run_huge_number.json", "1e400"])
    check("json-not-json", ["run", "run_not_json.json"], ["run_not_json.json", "not valid JSON"])
    check("json-too-large", ["run", "big.json"], ["big.json", "limit"],
          setup=lambda d: open(os.path.join(d, "big.json"), "w").write('{"x": "' + "a" * (17 << 20) + '"}'))
    check("json-scenario-is-directory", ["run", "folder"], ["folder", "is a directory"],
          setup=lambda d: os.mkdir(os.path.join(d, "folder")))
    check("json-missing-scenario", ["run", "nothing.json"], ["nothing.json", "cannot open"])
    # -- energy profiles
    check("profile-negative", ["simulate", "m.h5", "--profile", "profile_negative.json"], ["/costs_pj/AC", ">= 0"])
    check("profile-all-zero", ["simulate", "m.h5", "--profile", "profile_zero.json"], ["/costs_pj", "every cost is 0"])
    check("profile-out-of-range", ["simulate", "m.h5", "--profile", "profile_huge.json"], ["profile_huge.json", "1e400"])
    check("profile-in-scenario", ["run", "run_profile_negative.json"], ["/energy/profile", "/costs_pj/AC"])
    # -- checkpoints with bad contents
    check("ckpt-nan-weight", ["simulate", "v.h5"], ["v.h5", "/params/blocks.0.attn.q.weight", "finite"],
          setup=variant(poke("params/blocks.0.attn.q.weight", 5, np.nan)))
    check("ckpt-inf-embedding", ["simulate", "v.h5"], ["/params/embed.tok.weight", "inf"],
          setup=variant(poke("params/embed.tok.weight", 0, np.inf)))
    check("ckpt-negative-variance", ["simulate", "v.h5"], ["/buffers/blocks.0.attn.k.bn.running_var", ">= 0"],
          setup=variant(poke("buffers/blocks.0.attn.k.bn.running_var", 0, -1.0)))

    def extra_block(f):
        f["params/blocks.7.attn.q.weight"] = f["params/blocks.0.attn.q.weight"][()]
    check("ckpt-extra-block", ["simulate", "v.h5"], ["blocks.7.attn.q.weight", "layers"], setup=variant(extra_block))
    check("ckpt-config-more-layers", ["simulate", "v.h5"], ["v.h5", "blocks.2", "missing"],
          setup=variant(lambda f: set_config(f, lambda c: c.update(layers=3))))
    check("ckpt-config-other-width", ["simulate", "v.h5"], ["v.h5", "shape"],
          setup=variant(lambda f: set_config(f, lambda c: c.update(d_ff=c["d_ff"] * 2))))

    def forged_shape(f):
        del f["params/embed.tok.weight"]
        f.create_dataset("params/embed.tok.weight", shape=(1 << 33, 64), dtype="f4")  # nothing stored
    check("ckpt-forged-shape", ["simulate", "v.h5"], ["embed.tok.weight", "forged"], setup=variant(forged_shape))
    check("ckpt-config-deep", ["simulate", "v.h5"], ["v.h5", "nested deeper"],
          setup=variant(lambda f: f.attrs.__setitem__("config", "[" * 100000 + "]" * 100000)))
    check("ckpt-config-duplicate-key", ["simulate", "v.h5"], ["v.h5", "duplicate key"],
          setup=variant(lambda f: f.attrs.__setitem__("config", text(f.attrs["config"])[:-1] + ', "layers": 2}')))
    check("ckpt-config-out-of-range", ["simulate", "v.h5"], ["v.h5", "1e400"],
          setup=variant(lambda f: f.attrs.__setitem__("config", '{"d_model": 1e400}')))
    check("ckpt-no-tokenizer", ["generate", "v.h5"], ["v.h5", "no /tokenizer"],
          setup=variant(lambda f: f.__delitem__("tokenizer")))
    check("ckpt-not-hdf5", ["export", "text.h5", "e.h5"], ["text.h5", "HDF5"],
          setup=lambda d: open(os.path.join(d, "text.h5"), "w").write("not a checkpoint\n"))
    check("ckpt-is-directory", ["export", "folder", "e.h5"], ["folder", "is a directory"],
          setup=lambda d: os.mkdir(os.path.join(d, "folder")))
    check("ckpt-trace-as-checkpoint", ["trace", "summary", "m.h5"], ["m.h5", "not a wtasim trace"])

    def old_layout(d):  # the same checkpoint in HDF5's layout without checksums (h5py's default)
        with h5py.File(os.path.join(d, "m.h5"), "r") as src, h5py.File(os.path.join(d, "old.h5"), "w") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v
            for g in src:
                src.copy(g, dst)
    check("ckpt-old-layout", ["simulate", "old.h5"], ["old.h5", "without checksums", "h5repack"], setup=old_layout)

    def corrupt(offset):  # one flipped byte in the file's metadata: a checksum no longer matches
        def setup(d):
            data = bytearray(open(os.path.join(d, "m.h5"), "rb").read())
            data[offset] ^= 0x5A
            open(os.path.join(d, "c.h5"), "wb").write(bytes(data))
        return setup
    check("ckpt-corrupt-superblock", ["simulate", "c.h5"], ["c.h5", "cannot open as an HDF5 file"], setup=corrupt(20))
    check("ckpt-corrupt-root-header", ["simulate", "c.h5"], ["c.h5"], setup=corrupt(60))
    check("ckpt-dense-links", ["simulate", "dense.h5"], ["dense.h5", "dense storage", "h5repack"],
          setup=lambda d: subprocess.run(["h5repack", "--low=2", os.path.join(d, "m.h5"), os.path.join(d, "dense.h5")],
                                         check=True))

    def soft_link(f):
        f["params/alias"] = h5py.SoftLink("/params/head.bias")
    check("ckpt-soft-link", ["simulate", "v.h5"], ["v.h5", "/params/alias", "soft link"], setup=variant(soft_link))
    check("json-path-too-long", ["run", "long.json"], ["long.json", "/model/checkpoint", "File name too long"],
          setup=lambda d: open(os.path.join(d, "long.json"), "w").write(
              '{"model": {"checkpoint": "' + "m" * 300 + '.h5"}, "input": {"text": "In"}}'))
    # inputs the fuzzers found (tests/fuzz, docs/hardening.md): corrupted files of the old layout that crashed
    # the HDF5 library itself; they are now refused before HDF5 reads them
    check("fuzz-trace-hdf5-heap-overflow", ["trace", "summary", "fuzz/trace-hdf5-heap-overflow.h5"],
          ["trace-hdf5-heap-overflow.h5", "without checksums"])
    check("fuzz-checkpoint-hdf5-huge-alloc", ["simulate", "fuzz/checkpoint-hdf5-huge-alloc.h5"],
          ["checkpoint-hdf5-huge-alloc.h5", "without checksums"])
    # -- training: resume, warm-up, divergence
    check("train-warmup-longer-than-run", ["train", "train_warmup.json"], ["/train/warmup", "longer than the run"])
    check("train-resume-without-checkpoint", ["train", "--resume", "train_tiny.json"],
          ["checkpoint.h5", "no checkpoint to resume"])
    check("train-resume-missing-moment", ["train", "--resume", "train_tiny.json"],
          ["/optimizer/m.embed.tok.weight", "missing"],
          setup=with_training_checkpoint(lambda f: f.__delitem__("optimizer/m.embed.tok.weight")))
    check("train-resume-extra-optimizer", ["train", "--resume", "train_tiny.json"], ["/optimizer/m.nothing"],
          setup=with_training_checkpoint(lambda f: f.__setitem__("optimizer/m.nothing", np.zeros(3, "f4"))))
    check("train-resume-step-mismatch", ["train", "--resume", "train_tiny.json"], ["@step", "inconsistent"],
          setup=with_training_checkpoint(lambda f: f.attrs.__setitem__("step", np.int64(2))))
    check("train-resume-foreign-rng", ["train", "--resume", "train_tiny.json"], ["rng", "random-number state"],
          setup=with_training_checkpoint(lambda f: f.attrs.__setitem__("rng", '{"generator": "mt19937"}')))
    check("train-resume-other-seed", ["train", "--resume", "train_other_seed.json"], ["/train/seed", "seed 1"],
          setup=with_training_checkpoint())
    check("train-resume-nan-moment", ["train", "--resume", "train_tiny.json"], ["/optimizer/v.", "finite"],
          setup=with_training_checkpoint(poke("optimizer/v.head.bias", 1, np.nan)))

    def diverging(f):  # finite weights that overflow in the forward pass: the loss is not finite
        d = f["params/head.weight"][()]
        d[...] = 3e38
        f["params/head.weight"][...] = d
    check("train-diverged", ["train", "--resume", "train_tiny.json"], ["diverged", "keeps the last good checkpoint"],
          setup=with_training_checkpoint(diverging))
    check("train-resume-huge-metrics", ["train", "--resume", "train_tiny.json"], ["metrics.jsonl", "limit"],
          setup=lambda d: (with_training_checkpoint()(d),
                           open(os.path.join(d, "out/metrics.jsonl"), "w").write("x" * (65 << 20))))
    # -- task data rows
    check("task-stsb-out-of-range", ["task", "task_stsb_out_of_range.json"],
          ["stsb_out_of_range.tsv", "line 3", "'score'", "0 to 5"])
    check("task-empty-text", ["task", "task_stsb_empty_text.json"], ["line 3", "'sentence1'", "non-empty"])
    hdr = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
    row = "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\t{}\tA man dances.\t4.5\n"

    def data(name, text):
        return lambda d: open(os.path.join(d, name), "wb").write(text)
    check("task-nul-byte", ["task", "task_stsb_nul.json"], ["stsb_nul.tsv", "line 2", "NUL"],
          setup=data("stsb_nul.tsv", (hdr + row.format("A man\0 is dancing.")).encode()))
    check("task-invalid-utf8", ["task", "task_stsb_bad_utf8.json"], ["stsb_bad_utf8.tsv", "line 2", "UTF-8"],
          setup=data("stsb_bad_utf8.tsv", hdr.encode() + row.format("A man \udcff").encode("utf-8", "surrogateescape")))
    check("task-50mb-line", ["task", "task_stsb_long_line.json"], ["stsb_long_line.tsv", "line 2", "limit"],
          setup=data("stsb_long_line.tsv", (hdr + row.format("a" * (50 << 20))).encode()))
    check("task-one-ending", ["task", "task_hellaswag_one_ending.json"],
          ["hellaswag_one_ending.jsonl", "line 2", "'endings'", "at least two"])
    check("task-duplicate-key", ["task", "task_hellaswag_dup_key.json"], ["line 2", "/ctx", "duplicate key"])
    check("task-ann-is-spiking", ["task", "task_ann_is_spiking.json"], ["/models/ann", "is a spiking checkpoint"])
    check("task-warmup-longer-than-run", ["task", "task_warmup.json"], ["/finetune/warmup", "longer than the run"])
    # -- the data folder
    check("data-folder-missing", ["run", "run_no_data_dir.json"], ["no-such-folder", "WTASIM_DATA_DIR"])


# ---- faults: locks, signals, stale temporary files ---------------------------------------------------------
def faults():
    # a second run on an output folder that a first run is writing fails at once and clearly
    work = fresh("fault-lock")
    first = subprocess.Popen([WTASIM, "train", "train_tiny.json", "--steps", "100000"], cwd=work,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = os.path.join(work, "out/.wtasim.lock")
    for _ in range(3000):
        if os.path.exists(lock) and open(lock).read().strip() == str(first.pid):
            break
        time.sleep(0.01)
    r = subprocess.run([WTASIM, "train", "train_tiny.json", "--steps", "3"], cwd=work, capture_output=True,
                       timeout=60)
    msg = r.stderr.decode().strip()
    if r.returncode == 0 or "another wtasim run" not in msg or str(first.pid) not in msg:
        failures.append(f"fault-lock: second run status {r.returncode}, message {msg!r}")
        print(f"FAIL fault-lock: {msg!r}")
    else:
        print(f"ok   fault-lock: {msg}")
    # SIGTERM ends the run with the signal (the checkpoints it wrote stay whole)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=60)
    if first.returncode != -signal.SIGTERM or temps(work):
        failures.append(f"fault-sigterm: status {first.returncode}, temporary files {temps(work)}")
        print("FAIL fault-sigterm")
    else:
        print("ok   fault-sigterm: the run ended by SIGTERM, no temporary file left")

    # a temporary file of a dead process is removed when the next run writes the same file; a live one is not
    work = fresh("fault-stale-temp")
    dead = os.path.join(work, ".trace.h5.tmp.999999999")
    alive = os.path.join(work, f".trace.h5.tmp.{os.getpid()}")
    for p in (dead, alive):
        open(p, "w").write("half a trace\n")
    r = subprocess.run([WTASIM, "simulate", "m.h5", "--trace", "trace.h5"], cwd=work, capture_output=True)
    if r.returncode != 0 or os.path.exists(dead) or not os.path.exists(alive):
        failures.append(f"fault-stale-temp: status {r.returncode}, dead kept {os.path.exists(dead)}, "
                        f"live removed {not os.path.exists(alive)}")
        print("FAIL fault-stale-temp")
    else:
        print("ok   fault-stale-temp: the dead process's temporary file was removed, the live one kept")

    # generation that reaches max_len says so (and succeeds)
    work = fresh("fault-generate-past-max-len")
    for cmd in (["simulate", "m.h5", "--generate", "4096"], ["generate", "m.h5", "--tokens", "5000"]):
        r = subprocess.run([WTASIM] + cmd, cwd=work, capture_output=True, timeout=600)
        said = (r.stdout + r.stderr).decode()
        if r.returncode != 0 or not re.search(r"note: generated \d+ of \d+ tokens: the model's max_len", said):
            failures.append(f"fault-generate-past-max-len: {cmd[0]} status {r.returncode}, no note")
            print(f"FAIL fault-generate-past-max-len ({cmd[0]})")
        else:
            print(f"ok   fault-generate-past-max-len ({cmd[0]}): " + re.search(r"note: generated[^\n]*", said).group(0))

    # SIGINT / SIGTERM while a file is being written: the temporary file is removed, the old file kept
    work = fresh("fault-signal-during-write")
    subprocess.run([WTASIM, "simulate", "m.h5", "--trace", "trace.h5"], cwd=work, check=True, capture_output=True)
    good = hashes(work)[os.path.join(work, "trace.h5")]
    seen = 0
    for attempt in range(20):
        sig = signal.SIGINT if attempt % 2 else signal.SIGTERM
        p = subprocess.Popen([WTASIM, "simulate", "m.h5", "--trace", "trace.h5", "--text", "In the beginning " * 6],
                             cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None:
            if any(t.endswith(f".tmp.{p.pid}") for t in temps(work)):  # this run is writing
                p.send_signal(sig)
                seen += 1
                break
        p.wait()
        if temps(work) or hashes(work)[os.path.join(work, "trace.h5")] not in (good,) and p.returncode != 0:
            failures.append(f"fault-signal-during-write: status {p.returncode}, temporary files {temps(work)}")
            print("FAIL fault-signal-during-write")
            return
        good = hashes(work)[os.path.join(work, "trace.h5")]
    print(f"ok   fault-signal-during-write: {seen} of 20 runs signalled mid-write; no temporary file left, "
          "the trace whole")

    # kill -9 while a trace or an export is written: the old file stays byte-identical; the temporary file
    # the killed process leaves is removed by the next write of the same file, which succeeds
    for what, args, target in [("trace", ["simulate", "m.h5", "--trace", "out.h5", "--text", "In the beginning " * 6],
                                "out.h5"),
                               ("export", ["export", "m.h5", "out.h5"], "out.h5")]:
        work = fresh(f"fault-kill9-{what}")
        subprocess.run([WTASIM] + args, cwd=work, check=True, capture_output=True)
        old = hashes(work)[os.path.join(work, target)]
        killed = 0
        for _ in range(20):
            p = subprocess.Popen([WTASIM] + args, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while p.poll() is None:
                if any(t.endswith(f".tmp.{p.pid}") for t in temps(work)):  # this run is writing
                    p.kill()
                    break
            p.wait()
            if p.returncode == -signal.SIGKILL:
                killed += 1
                if hashes(work).get(os.path.join(work, target)) != old:
                    failures.append(f"fault-kill9-{what}: the old {target} changed after kill -9 mid-write")
                    print(f"FAIL fault-kill9-{what}: {target} changed")
                    break
            else:
                old = hashes(work)[os.path.join(work, target)]
        r = subprocess.run([WTASIM] + args, cwd=work, capture_output=True)
        if r.returncode != 0 or temps(work):
            failures.append(f"fault-kill9-{what}: the next run: status {r.returncode}, temporary files {temps(work)}")
            print(f"FAIL fault-kill9-{what}: next run")
        else:
            print(f"ok   fault-kill9-{what}: {killed} of 20 runs killed mid-write, {target} whole every time; "
                  "the next run removed the dead run's temporary file")


# ---- disk full: a small tmpfs (root) and a file-size limit (anyone) ----------------------------------------
def disk_full():
    def attempt(name, folder, prefix_cmd, words):
        # a good trace and checkpoint exist; writing them again fails part-way; both stay as they were
        if not os.path.exists(os.path.join(folder, "trace.h5")):
            subprocess.run([WTASIM, "simulate", "m.h5", "--trace", "trace.h5"], cwd=folder, check=True,
                           capture_output=True)
        before = hashes(folder)
        for what, args in [("trace", ["simulate", "m.h5", "--trace", "trace.h5", "--text", "In the beginning " * 8]),
                           ("export", ["export", "m.h5", "e.h5"])]:
            cmd = prefix_cmd + [WTASIM] + args
            r = subprocess.run(cmd, cwd=folder, capture_output=True, timeout=120)
            msg = r.stderr.decode().strip()
            bad = []
            if r.returncode <= 0 or r.returncode >= 128:
                bad.append(f"status {r.returncode}")
            for w in words + [("trace.h5" if what == "trace" else "e.h5")]:
                if w.lower() not in msg.lower():
                    bad.append(f"lacks {w!r}")
            if re.search(r"\.tmp\.\d+", msg):
                bad.append("names the temporary file")
            after = hashes(folder)
            for p, h in before.items():
                if after.get(p) != h:
                    bad.append(f"{os.path.basename(p)} changed")
            if temps(folder):
                bad.append(f"temporary files left {temps(folder)}")
            if bad:
                failures.append(f"{name}-{what}: {'; '.join(bad)} -- {msg!r}")
                print(f"FAIL {name}-{what}: {'; '.join(bad)}: {msg}")
            else:
                print(f"ok   {name}-{what}: {msg}")

    # RLIMIT_FSIZE with SIGXFSZ ignored: writes past the limit fail with EFBIG, as on a full disk
    work = fresh("disk-fsize")
    for f in os.listdir(work):
        if f != "m.h5":
            p = os.path.join(work, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    attempt("disk-fsize", work, ["bash", "-c", "trap '' XFSZ; ulimit -f 120; exec \"$@\"", "limit"],
            ["File too large"])
    # a small tmpfs, nearly full
    if os.geteuid() != 0:
        print("skip disk-tmpfs: not root (mounting a small tmpfs needs root); the file-size limit case ran")
        return
    mnt = os.path.join(WORK, "disk-tmpfs")
    subprocess.run(["umount", mnt], capture_output=True)
    shutil.rmtree(mnt, ignore_errors=True)
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], capture_output=True).returncode != 0:
        print("skip disk-tmpfs: mount -t tmpfs refused (no CAP_SYS_ADMIN in this container)")
        return
    try:
        shutil.copy(MODEL, os.path.join(mnt, "m.h5"))
        subprocess.run([WTASIM, "simulate", "m.h5", "--trace", "trace.h5"], cwd=mnt, check=True, capture_output=True)
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        with open(os.path.join(mnt, "filler"), "wb") as f:
            f.write(b"\0" * max(0, free - 150 * 1024))
        attempt("disk-tmpfs", mnt, [], ["No space left on device"])
    finally:
        subprocess.run(["umount", mnt], capture_output=True)


if GROUP == "cases":
    cases()
elif GROUP == "faults":
    faults()
elif GROUP == "disk-full":
    disk_full()
if failures:
    print(f"\n{len(failures)} failure(s):")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("\nall passed")
