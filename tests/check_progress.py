#!/usr/bin/env python3
"""Checks the progress display of the real command line (core/progress.hpp).

Usage: check_progress.py <wtasim> <source dir> <scratch dir>

Checked, with WTASIM_PROGRESS_EVERY short so that plain lines come at once:
  - `train` in a log (stderr a pipe): plain lines from the data preparation on (the tokenizer stage), then
    "k/n steps" with tokens/s and ETA; none of them on stdout, which keeps the training log only;
  - WTASIM_PROGRESS=off: nothing on stderr;
  - `train` on a terminal (stderr a pty): a bar redrawn in place ("\\r", erase to end of line);
  - `run` on 960 training windows (about 0.8 s of simulation here, several of the ticker's intervals): the
    simulation (k/960 sequences, tokens/s, ETA), and on stdout its tokens/s and wall time;
  - `task`: fine-tuning is shown with examples/s, and stdout says the simulation's tokens/s.
"""
import json
import os
import pty
import re
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, env_extra, stderr_tty=False):
    env = dict(os.environ, **env_extra)
    if not stderr_tty:
        p = subprocess.run(args, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            fail(" ".join(args) + f" exited {p.returncode}: {p.stderr.strip()[-400:]}")
        return p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the pty closes when the process ends
            break
        if not data:
            break
        chunks.append(data)
    out = p.stdout.read().decode()
    if p.wait() != 0:
        fail(" ".join(args) + f" exited {p.returncode}")
    os.close(master)
    return out, b"".join(chunks).decode(errors="replace")


def main():
    wtasim, src, scratch = sys.argv[1:4]
    os.makedirs(scratch, exist_ok=True)
    train = [wtasim, "train", os.path.join(src, "scenarios/train-tiny-wd.json"), "--steps", "200", "--output"]
    lines = {"WTASIM_PROGRESS": "lines", "WTASIM_PROGRESS_EVERY": "0.05"}

    out, err = run(train + [os.path.join(scratch, "lines")], lines)
    if "progress:" in out:
        fail("progress lines reached stdout:\n" + out)
    if "progress: train: training the tokenizer" not in err:
        fail("no progress line during the tokenizer's training:\n" + err)
    counted = re.findall(r"progress: train: \d+% (\d+)/200 steps, [\d.]+ tokens/s, ETA \S+, elapsed \S+", err)
    if not counted:
        fail("no progress line with steps, tokens/s and ETA:\n" + err)
    if [int(c) for c in counted] != sorted(int(c) for c in counted):
        fail("the step count went backwards: " + str(counted))
    if not re.search(r"step 200/200 ", out):
        fail("the training log is not on stdout:\n" + out)

    _, err = run(train + [os.path.join(scratch, "off")], {"WTASIM_PROGRESS": "off"})
    if err:
        fail("WTASIM_PROGRESS=off still wrote to stderr:\n" + err)

    _, err = run(train + [os.path.join(scratch, "bar")], {"WTASIM_PROGRESS": "auto"}, stderr_tty=True)
    if "\rtrain: " not in err or "\x1b[K" not in err:
        fail("no bar redrawn in place on a terminal:\n" + repr(err[:2000]))

    scenario = os.path.join(scratch, "many.json")
    with open(scenario, "w") as f:
        json.dump({"model": {"checkpoint": os.path.join(src, "models/wd-kjv-small.h5")},
                   "input": {"corpus": "kjv", "split": "train", "sequences": 960, "seq_len": 64,
                             "data_dir": os.path.join(src, "data")},
                   "batch": 32}, f)
    out, err = run([wtasim, "run", scenario], lines)
    if not re.search(r"progress: simulate: \d+% \d+/960 sequences, [\d.]+ tokens/s, ETA ", err):
        fail("simulating many sequences shows no progress:\n" + err)
    if not re.search(r"simulation: 960 sequences, 61440 tokens in [\d.]+ s wall: \d+ tokens/s", out):
        fail("run does not print the simulation's tokens/s:\n" + out)

    task = [wtasim, "task", os.path.join(src, "tests/data/tasks/scenarios/glue-sst2.json"), "--steps", "30",
            "--max-train", "48", "--max-eval", "24", "--output", os.path.join(scratch, "task")]
    out, err = run(task, lines)
    if not re.search(r"fine-tune sst2: \d+% \d+/30 steps, [\d.]+ examples/s", err):
        fail("fine-tuning shows no progress with examples/s:\n" + err)
    if not re.search(r"simulation: \d+ sequences, \d+ tokens in [\d.]+ s wall: \d+ tokens/s", out):
        fail("task does not print the simulation's tokens/s:\n" + out)
    print("progress: train (log, off, terminal), run and task checked")


if __name__ == "__main__":
    main()
