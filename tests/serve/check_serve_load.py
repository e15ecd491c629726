#!/usr/bin/env python3
"""wtasim serve under load and faults (docs/serve.md), on loopback only, bounded in count and time.

Usage: check_serve_load.py <wtasim> <source dir> <scratch dir> [clients] [seconds]

  - load: `clients` threads (64) each submit runs and poll their status and the list for `seconds` (8) over
    keep-alive connections; then every accepted run must be listed exactly once, with distinct ids, and end
    done; no request may fail;
  - kill -9: a training (checkpointing every few steps), a long simulation and a queued one; the server is
    killed with SIGKILL once the training has a checkpoint; its children die with it; the restarted server
    marks the simulation failed with a one-line reason, resumes the training from its checkpoint to its last
    step, starts the queued run, and still serves every earlier run and artefact.
"""
import json
import os
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server, fail, keep_alive_connection  # noqa: E402

CHECKPOINT = "models/wd-kjv-small.h5"


def load(srv, clients, seconds):
    accepted, errors = [], []
    lock = threading.Lock()
    stop_at = time.time() + seconds
    auth = {"Authorization": "Bearer " + srv.token, "Content-Type": "application/json"}

    def client(n):
        conn = keep_alive_connection(srv.port)
        mine = []
        polls = 0
        try:
            while time.time() < stop_at:
                if len(mine) < 2:
                    body = json.dumps({"model": {"checkpoint": CHECKPOINT},
                                       "input": {"text": "client %d run %d" % (n, len(mine)), "generate": 1}})
                    conn.request("POST", "/v1/runs", body, auth)
                    r = conn.getresponse()
                    data = r.read()
                    if r.status != 201:
                        raise RuntimeError(f"POST /v1/runs: {r.status} {data[:200]!r}")
                    mine.append(json.loads(data)["id"])
                else:
                    path = "/v1/runs/" + mine[polls % 2] if polls % 3 else "/v1/runs"
                    conn.request("GET", path, headers=auth)
                    r = conn.getresponse()
                    data = r.read()
                    if r.status != 200:
                        raise RuntimeError(f"GET {path}: {r.status} {data[:200]!r}")
                    json.loads(data)
                    polls += 1
                    time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 — every failure is reported below
            with lock:
                errors.append(f"client {n}: {e}")
        finally:
            conn.close()
            with lock:
                accepted.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(f"{len(errors)} clients failed, e.g. {errors[:3]}")
    if len(accepted) != 2 * clients or len(set(accepted)) != len(accepted):
        fail(f"{len(accepted)} runs accepted ({len(set(accepted))} distinct), expected {2 * clients}")
    deadline = time.time() + 240
    while True:
        runs = srv.json("GET", "/v1/runs")["runs"]
        states = {}
        for r in runs:
            states[r["state"]] = states.get(r["state"], 0) + 1
        if states.get("done", 0) == len(accepted) or time.time() > deadline:
            break
        time.sleep(0.5)
    ids = [r["id"] for r in runs]
    if sorted(ids) != sorted(accepted) or len(set(ids)) != len(ids):
        fail(f"the list holds {len(ids)} runs ({len(set(ids))} distinct), {len(accepted)} were accepted")
    if states.get("done", 0) != len(accepted):
        fail(f"not every run ended done: {states}")
    return len(accepted)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def kill9(wtasim, source, scratch):
    data = os.path.join(scratch, "kill")
    srv = Server(wtasim, source, data, "--max-simulations", "1")
    try:
        first = srv.json("POST", "/v1/runs", {"model": {"checkpoint": CHECKPOINT}, "input": {"text": "Before"}},
                         expect=201)["id"]
        srv.wait(first)
        steps = 400
        train = {"model": {"d_model": 32, "heads": 2, "d_ff": 64, "layers": 1, "T": 2, "max_len": 32,
                           "spiking": True, "causal": True, "neuron": "lif", "attention": {"kind": "wta", "k": 1}},
                 "data": {"corpus": "kjv", "max_documents": 120},
                 "tokenizer": {"vocab_size": 300},
                 "train": {"objective": "clm", "steps": steps, "batch": 4, "seq_len": 24, "lr": 0.003, "warmup": 2,
                           "log_every": 10, "eval_every": 200, "eval_batches": 2, "checkpoint_every": 10, "seed": 1,
                           "threads": 1}}
        tid = srv.json("POST", "/v1/runs", train, expect=201)["id"]
        long_run = {"model": {"checkpoint": CHECKPOINT},
                    "input": {"corpus": "kjv", "split": "train", "sequences": 100000, "seq_len": 64}, "threads": 1}
        sid = srv.json("POST", "/v1/runs", long_run, expect=201)["id"]
        qid = srv.json("POST", "/v1/runs", {"model": {"checkpoint": CHECKPOINT}, "input": {"text": "After"}},
                       expect=201)["id"]
        srv.wait(sid, ("running",), 30)
        deadline = time.time() + 120
        ckpt = os.path.join(data, "runs", tid, "checkpoint.h5")
        while not os.path.exists(ckpt):
            if time.time() > deadline:
                fail("the training wrote no checkpoint within 120 s")
            time.sleep(0.2)
        t = srv.json("GET", "/v1/runs/" + tid)
        if t["state"] != "running" or srv.json("GET", "/v1/runs/" + qid)["state"] != "queued":
            fail(f"before the kill: training {t['state']}, queued run "
                 f"{srv.json('GET', '/v1/runs/' + qid)['state']}")
        pids = []
        for x in (tid, sid):
            with open(os.path.join(data, "runs", x, "run.json")) as f:
                pids.append(json.load(f)["pid"])
        srv.stop(signal.SIGKILL)
        deadline = time.time() + 10
        while any(alive(p) for p in pids):
            if time.time() > deadline:
                fail(f"children {pids} outlived the killed server")
            time.sleep(0.1)

        srv.start()
        banner = " ".join(srv.banner)
        if "1 trainings resumed, 1 marked failed" not in banner or "1 queued" not in banner:
            fail(f"restart banner: {banner}")
        s = srv.json("GET", "/v1/runs/" + sid)
        if s["state"] != "failed" or "server stopped while this run was running" not in s["error"]:
            fail(f"the interrupted simulation: {s['state']} {s['error']!r}")
        q = srv.wait(qid)
        if q["state"] != "done":
            fail(f"the queued run: {q}")
        t = srv.wait(tid, timeout=300)
        if t["state"] != "done" or t["restarts"] != 1:
            fail(f"the resumed training: {t['state']} restarts {t['restarts']} {t['error']}")
        if t["metrics"]["train"]["step"] != steps or t["metrics"]["eval"]["step"] != steps:
            fail(f"the resumed training's metrics end at {t['metrics']}")
        with open(os.path.join(data, "runs", tid, "stdout.log")) as f:
            if "resum" not in f.read().lower():
                fail("the training's log does not say it resumed")
        f = srv.json("GET", "/v1/runs/" + first)
        status, _, body = srv.request("GET", f"/v1/runs/{first}/report.json")
        if f["state"] != "done" or status != 200 or json.loads(body)["tokens"] < 2:
            fail(f"the run from before the kill: {f['state']} {status}")
        return t
    finally:
        srv.stop()


def main():
    wtasim, source, scratch = sys.argv[1:4]
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 8
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    srv = Server(wtasim, source, os.path.join(scratch, "load"), "--threads", "2")
    try:
        t0 = time.time()
        n = load(srv, clients, seconds)
        load_s = time.time() - t0
    finally:
        srv.stop()
    t = kill9(wtasim, source, scratch)
    print(f"serve.load: ok ({clients} clients, {n} runs accepted, listed once and done in {load_s:.0f} s; "
          f"after kill -9 the training resumed to step {t['metrics']['train']['step']})")


if __name__ == "__main__":
    main()
