#!/usr/bin/env python3
"""Benchmark of wtasim serve (docs/benchmarks.md, "Serving"), all in one run on this machine:

  - requests/s of GET /v1/health and GET /v1/runs/{id} (a finished run's status) with ApacheBench
    (Debian's apache2-utils: `ab -k -c C -n N`), keep-alive connections, C concurrent clients;
  - POST /v1/generate against `wtasim generate` on the same checkpoint and prompt: time to first token (the
    first generated token's line on the wire, against the first generated token on the process's stdout,
    process start and model loading included) and tokens/s; medians of R repetitions.

Usage: bench_serve.py <wtasim> <source dir> [--clients 16] [--requests 20000] [--tokens 48] [--repeat 7]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "serve"))
from serve_client import Server  # noqa: E402

CHECKPOINT = "models/wd-kjv-small.h5"
PROMPT = "In the beginning God created"


def ab(url, token, clients, requests):
    if not shutil.which("ab"):
        sys.exit("bench_serve: ApacheBench (ab) is missing: apt-get install apache2-utils")
    args = ["ab", "-k", "-q", "-c", str(clients), "-n", str(requests)]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests per second:\s+([0-9.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    mean_ms = float(re.search(r"Time per request:\s+([0-9.]+) \[ms\] \(mean\)", out).group(1))
    return rate, failed + (int(non2xx.group(1)) if non2xx else 0), mean_ms


def http_generate(port, token, tokens):
    """(seconds to the first token event, tokens/s from the first to the last token event, events)"""
    body = json.dumps({"checkpoint": CHECKPOINT, "text": PROMPT, "tokens": tokens}).encode()
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    data, first, last = b"", None, None
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        now = time.perf_counter()
        data += chunk
        n = data.count(b'"event":"token"')
        if n and first is None:
            first = now
        if n == tokens and last is None:
            last = now
    s.close()
    return first - t0, (tokens - 1) / max(last - first, 1e-9) if tokens > 1 else 0.0


def cli_generate(wtasim, source, tokens):
    """(seconds from the process's start to its first generated token, its own tokens/s line)"""
    t0 = time.perf_counter()
    p = subprocess.Popen([wtasim, "generate", CHECKPOINT, "--text", PROMPT, "--tokens", str(tokens)],
                         cwd=source, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    seen, first = b"", None
    while True:
        chunk = p.stdout.read1(65536) if hasattr(p.stdout, "read1") else p.stdout.read(1)
        if not chunk:
            break
        seen += chunk
        if first is None and len(seen) > len(PROMPT):  # the prompt is echoed first, then the tokens
            first = time.perf_counter()
    p.wait()
    rate = float(re.search(rb"generation: \d+ tokens in [0-9.]+ s wall: ([0-9.]+) tokens/s", seen).group(1))
    return first - t0, rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wtasim")
    ap.add_argument("source")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="wtasim_bench_serve_")
    srv = Server(os.path.abspath(a.wtasim), os.path.abspath(a.source), os.path.join(scratch, "data"))
    try:
        rid = srv.json("POST", "/v1/runs", {"model": {"checkpoint": CHECKPOINT}, "input": {"text": PROMPT}},
                       expect=201)["id"]
        srv.wait(rid)
        print(f"wtasim serve on 127.0.0.1:{srv.port}; {os.cpu_count()} CPUs; ab -k -c {a.clients} -n {a.requests}")
        for name, path, token in (("GET /v1/health", "/v1/health", None),
                                  ("GET /v1/runs/{id}", f"/v1/runs/{rid}", srv.token)):
            rate, bad, mean_ms = ab(srv.url(path), token, a.clients, a.requests)
            print(f"  {name:20s} {rate:9.0f} requests/s  ({mean_ms:.2f} ms per request at {a.clients} clients, "
                  f"{bad} failed)")
        http_generate(srv.port, srv.token, 2)  # the server loads and caches the model once
        h = [http_generate(srv.port, srv.token, a.tokens) for _ in range(a.repeat)]
        c = [cli_generate(a.wtasim, a.source, a.tokens) for _ in range(a.repeat)]
        ht, hr = statistics.median(x[0] for x in h), statistics.median(x[1] for x in h)
        ct, cr = statistics.median(x[0] for x in c), statistics.median(x[1] for x in c)
        print(f"generation, {a.tokens} tokens of {CHECKPOINT} after {PROMPT!r}, medians of {a.repeat}:")
        print(f"  POST /v1/generate     time to first token {ht * 1e3:8.2f} ms   {hr:8.0f} tokens/s (on the wire)")
        print(f"  wtasim generate       time to first token {ct * 1e3:8.2f} ms   {cr:8.0f} tokens/s (its own line)")
        print(f"  ratio (CLI / server)  time to first token {ct / ht:8.1f} x")
    finally:
        srv.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
