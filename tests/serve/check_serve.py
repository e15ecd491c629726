#!/usr/bin/env python3
"""wtasim serve's API, driven by Python's standard library (docs/serve.md).

Usage: check_serve.py <wtasim> <source dir> <scratch dir>

Checked:
  - health without a token; every other route 401 without it or with a wrong one; the token file's mode 0600;
  - the OpenAPI description names every route the server answers;
  - a run scenario goes queued -> running -> done; its detail has the energy metrics and its artefacts, which
    download with their media types; the report.json downloaded equals the file the run wrote;
  - a run that fails at run time is "failed" with the same error line the command line prints for the same
    scenario; cancelling a queued and a running run; cancelling again is 409;
  - no path escapes: absolute paths, "..", a symbolic link out of the roots (in a scenario and in a
    generation request's checkpoint and profile), a FIFO inside the roots, and artefact names with "..",
    encoded or not;
  - streamed generation: chunked JSON lines (and server-sent events) whose text and energy per token equal
    `wtasim generate` on the same prompt;
  - bad HTTP on raw sockets: garbage, an oversized header (431) and body (413), a truncated body and a client
    that sends its header a byte at a time (both dropped after the read timeout), the wrong content type (415),
    unusable JSON, an unknown key, a wrong method (405), an encoded NUL; the server still answers after all;
  - a shipped scenario (paths written from its own folder) runs when posted with ?base=scenarios, and a base
    outside the roots is refused;
  - a restarted server lists the same runs in the same states.
"""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server, fail  # noqa: E402

CHECKPOINT = "models/wd-kjv-small.h5"


def raw(port, data, read_for=5.0, pace=None):
    """Sends `data` (all at once, or one byte per `pace` seconds) and returns (reply bytes, seconds until the
    server closed the connection, or None when it stayed open)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_for)
    t0 = time.time()
    closed_at = None
    try:
        if pace:
            for b in data:
                try:
                    s.sendall(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.time() - t0
                    break
                time.sleep(pace)
        else:
            s.sendall(data)
        reply = b""
        s.settimeout(read_for)
        while closed_at is None:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed_at = time.time() - t0
                break
            if not chunk:
                closed_at = time.time() - t0
                break
            reply += chunk
        return reply, closed_at
    finally:
        s.close()


def status_of(reply):
    m = re.match(rb"HTTP/1\.1 (\d+)", reply)
    return int(m.group(1)) if m else None


def main():
    wtasim, source, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    data = os.path.join(scratch, "data")
    srv = Server(wtasim, source, data, "--read-timeout-ms", "1500", "--max-body", "65536")
    try:
        # --- the token and authentication
        mode = stat.S_IMODE(os.stat(os.path.join(data, "token")).st_mode)
        if mode != 0o600:
            fail(f"token file mode {oct(mode)}, expected 0o600")
        h = srv.json("GET", "/v1/health", token=False)
        if h.get("status") != "ok" or not h.get("version"):
            fail(f"health: {h}")
        for path in ("/v1/runs", "/v1/runs/r000001", "/v1/openapi.json"):
            for token in (False, "x" * len(srv.token), srv.token[:-1]):
                status, headers, body = srv.request("GET", path, token=token)
                if status != 401 or "error" not in json.loads(body):
                    fail(f"GET {path} with token {token!r}: {status}, expected 401 with an error")
        status, _, _ = srv.request("POST", "/v1/generate", {"checkpoint": CHECKPOINT}, token=False)
        if status != 401:
            fail(f"POST /v1/generate without a token: {status}")

        # --- the API description
        spec = srv.json("GET", "/v1/openapi.json")
        if not spec.get("openapi", "").startswith("3."):
            fail("openapi.json: no OpenAPI 3 version")
        want = {"/v1/health": {"get"}, "/v1/runs": {"get", "post"}, "/v1/runs/{id}": {"get", "delete"},
                "/v1/runs/{id}/{artefact}": {"get"}, "/v1/generate": {"post"}, "/v1/openapi.json": {"get"}}
        for path, methods in want.items():
            if path not in spec["paths"] or not methods <= set(spec["paths"][path]):
                fail(f"openapi.json does not describe {sorted(methods)} {path}")

        # --- a run, start to end
        scenario = {"model": {"checkpoint": CHECKPOINT}, "input": {"text": "In the beginning", "generate": 4},
                    "report": {"json": "/etc/elsewhere.json"}}  # outputs are put in the run's folder
        status, headers, body = srv.request("POST", "/v1/runs", scenario)
        if status != 201:
            fail(f"POST /v1/runs: {status} {body[:300]!r}")
        created = json.loads(body)
        rid = created["id"]
        if headers.get("Location") != "/v1/runs/" + rid or created["state"] != "queued":
            fail(f"POST /v1/runs: {created} {headers.get('Location')}")
        r = srv.wait(rid)
        if r["state"] != "done" or r["exit_code"] != 0:
            fail(f"run {rid}: {r}")
        for a in ("report.json", "report.md", "report.html", "scenario.json"):
            if a not in r["artefacts"]:
                fail(f"run {rid} lists no {a}: {r['artefacts']}")
        if r["metrics"]["tokens"] != 5 or r["metrics"]["energy_pj"]["full_profile"] <= 0:
            fail(f"run {rid} metrics: {r['metrics']}")
        status, headers, body = srv.request("GET", f"/v1/runs/{rid}/report.json")
        with open(os.path.join(data, "runs", rid, "report.json"), "rb") as f:
            if status != 200 or body != f.read() or not headers["Content-Type"].startswith("application/json"):
                fail("report.json download differs from the file the run wrote")
        status, headers, body = srv.request("GET", f"/v1/runs/{rid}/report.html")
        if status != 200 or "text/html" not in headers["Content-Type"] or \
                "default-src 'none'" not in headers.get("Content-Security-Policy", ""):
            fail(f"report.html: {status} {headers}")
        status, headers, body = srv.request("GET", f"/v1/runs/{rid}/report.md")
        if status != 200 or not body.startswith(b"## Energy report"):
            fail(f"report.md: {status} {body[:80]!r}")
        if os.path.exists("/etc/elsewhere.json"):
            fail("a scenario's report path outside the run's folder was written")
        listed = srv.json("GET", "/v1/runs")["runs"]
        if [x["id"] for x in listed] != [rid]:
            fail(f"GET /v1/runs: {listed}")

        # --- path escapes
        os.symlink("/etc/passwd", os.path.join(data, "link.h5"))
        for bad in ("/etc/passwd", "../../../../../../etc/passwd", os.path.join(data, "link.h5"),
                    os.path.join(source, "..", "escape.h5"), "models/../../escape.h5"):
            for kind, body in (("run", {"model": {"checkpoint": bad}, "input": {"text": "a"}}),
                               ("generate", {"checkpoint": bad, "text": "a"})):
                path = "/v1/runs" if kind == "run" else "/v1/generate"
                status, _, reply = srv.request("POST", path, body)
                msg = json.loads(reply).get("error", "")
                if status != 400 or "outside the allowed folders" not in msg or "/checkpoint" not in msg:
                    fail(f"{kind} with checkpoint {bad}: {status} {msg}")
        for bad in ("/etc/passwd.json", "../../../../etc/x.json", os.path.join(data, "link.h5")):
            status, _, reply = srv.request("POST", "/v1/generate", {"checkpoint": CHECKPOINT, "profile": bad})
            msg = json.loads(reply).get("error", "")
            if status != 400 or "outside the allowed folders" not in msg or "/profile" not in msg:
                fail(f"generate with profile {bad}: {status} {msg}")
        os.mkfifo(os.path.join(data, "fifo.json"))  # inside the roots, but not a file: refused, never read
        status, _, reply = srv.request("POST", "/v1/generate", {"checkpoint": CHECKPOINT,
                                                                "profile": os.path.join(data, "fifo.json")})
        if status != 400 or "not a regular file" not in json.loads(reply).get("error", ""):
            fail(f"generate with a FIFO as its profile: {status} {reply[:200]!r}")
        for name in ("../token", "..%2f..%2ftoken", "%2e%2e/%2e%2e/token", "run.json", "stdout.log/../../token"):
            status, _, reply = srv.request("GET", f"/v1/runs/{rid}/{name}")
            if status != 404 or srv.token.encode() in reply:
                fail(f"artefact {name!r}: {status} {reply[:200]!r}")

        # --- a run that fails at run time: the CLI's own error line
        empty = os.path.join(data, "no-corpora")
        os.makedirs(empty)
        failing = {"model": {"checkpoint": CHECKPOINT},
                   "input": {"corpus": "kjv", "data_dir": empty, "sequences": 2, "seq_len": 16}}
        fid = srv.json("POST", "/v1/runs", failing, expect=201)["id"]
        f = srv.wait(fid)
        cli = subprocess.run([wtasim, "--paths-from", source, "--confine-to", source, "--confine-to", data, "run",
                              os.path.join(data, "runs", fid, "scenario.json")], capture_output=True, text=True,
                             cwd=source)
        cli_line = cli.stderr.strip().splitlines()[-1]
        if f["state"] != "failed" or f["error"] != cli_line or not cli_line.startswith("wtasim: "):
            fail(f"failed run: {f['state']} {f['error']!r}, the CLI says {cli_line!r}")

        # --- cancelling: two long runs fill the simulation slots, a third waits in the queue
        long_run = {"model": {"checkpoint": CHECKPOINT},
                    "input": {"corpus": "kjv", "split": "train", "sequences": 100000, "seq_len": 64}}
        a = srv.json("POST", "/v1/runs", long_run, expect=201)["id"]
        b = srv.json("POST", "/v1/runs", long_run, expect=201)["id"]
        c = srv.json("POST", "/v1/runs", long_run, expect=201)["id"]
        srv.wait(a, ("running",), 30)
        srv.wait(b, ("running",), 30)
        if srv.json("GET", "/v1/runs/" + c)["state"] != "queued":
            fail("a third simulation started while two ran (--max-simulations 2)")
        srv.json("DELETE", "/v1/runs/" + c, expect=202)
        if srv.json("GET", "/v1/runs/" + c)["state"] != "cancelled":
            fail("a queued run is not cancelled at once")
        # a running run's progress: the simulation's sequences with a rate
        deadline = time.time() + 60
        while True:
            p = srv.json("GET", "/v1/runs/" + a)["progress"]
            if p and p.get("unit") == "sequences" and p.get("rate") and p.get("total", 0) > 0:
                break
            if time.time() > deadline:
                fail(f"no simulation progress for run {a}: {p}")
            time.sleep(0.3)
        for x in (a, b):
            srv.json("DELETE", "/v1/runs/" + x, expect=202)
        for x in (a, b):
            if srv.wait(x, timeout=30)["state"] != "cancelled":
                fail(f"run {x} was not cancelled")
        status, _, _ = srv.request("DELETE", "/v1/runs/" + a)
        if status != 409:
            fail(f"cancelling an ended run: {status}, expected 409")
        status, _, _ = srv.request("DELETE", "/v1/runs/r999999")
        if status != 404:
            fail(f"cancelling no run: {status}, expected 404")

        # --- streamed generation equals the command line's
        prompt = "And God said"
        cli = subprocess.run([wtasim, "generate", CHECKPOINT, "--text", prompt, "--tokens", "12"],
                             capture_output=True, text=True, cwd=source, check=True)
        conn = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        body = json.dumps({"checkpoint": CHECKPOINT, "text": prompt, "tokens": 12}).encode()
        conn.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + srv.token.encode() +
                     b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        reply = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
        conn.close()
        head, _, payload = reply.partition(b"\r\n\r\n")
        if b"Transfer-Encoding: chunked" not in head or b"application/x-ndjson" not in head:
            fail(f"generate: not a chunked JSON-lines stream: {head!r}")
        # undo the chunked framing
        events, rest = [], payload
        text = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            text += rest[:size]
            rest = rest[size + 2:]
        events = [json.loads(line) for line in text.decode().splitlines()]
        kinds = [e["event"] for e in events]
        if kinds != ["prompt"] + ["token"] * 12 + ["done"]:
            fail(f"generate events: {kinds}")
        streamed = events[0]["text"] + "".join(e["text"] for e in events[1:-1])
        cli_text = cli.stdout.split("\n\nprompt ")[0].rstrip("\n")
        if streamed != cli_text:
            fail(f"generate text {streamed!r} differs from the CLI's {cli_text!r}")
        per_token = re.search(r"generated 12 tokens: ([0-9.]+) nJ per token", cli.stdout).group(1)
        if "%.3f" % (events[-1]["energy_pj_per_token"] * 1e-3) != per_token:
            fail(f"generate energy per token {events[-1]['energy_pj_per_token']} pJ, the CLI says {per_token} nJ")
        if abs(sum(e["energy_pj"] for e in events[1:-1]) - events[-1]["energy_pj"]) > 1e-6 * events[-1]["energy_pj"]:
            fail("the tokens' energies do not add up to the total")
        status, headers, sse = srv.request("POST", "/v1/generate", {"checkpoint": CHECKPOINT, "text": prompt,
                                                                    "tokens": 3},
                                           headers={"Accept": "text/event-stream"})
        if status != 200 or not headers["Content-Type"].startswith("text/event-stream") or \
                sse.count(b"event: token\ndata: {") != 3:
            fail(f"server-sent events: {status} {sse[:200]!r}")
        status, _, reply = srv.request("POST", "/v1/generate", {"checkpoint": CHECKPOINT, "tokens": -1})
        if status != 400 or "/tokens" not in json.loads(reply)["error"]:
            fail(f"generate with tokens -1: {status} {reply!r}")

        # --- bad HTTP
        reply, closed = raw(srv.port, b"HELLO THERE\r\n\r\n")
        if status_of(reply) != 400 or closed is None:
            fail(f"garbage: {reply[:100]!r}, closed {closed}")
        reply, closed = raw(srv.port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        if status_of(reply) != 431:
            fail(f"oversized header: {reply[:100]!r}")
        reply, closed = raw(srv.port, b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            srv.token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
                            b"\r\n" + b"{" * 70000)
        if status_of(reply) != 413:
            fail(f"oversized body: {reply[:100]!r}")
        reply, closed = raw(srv.port, b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"mo",
                            read_for=6)
        if closed is None or closed > 5 or status_of(reply) is not None:
            fail(f"a truncated body was not dropped after the read timeout (closed after {closed} s): {reply!r}")
        reply, closed = raw(srv.port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 40 + b"\r\n\r\n",
                            read_for=6, pace=0.2)
        if closed is None or closed > 6 or status_of(reply) is not None:
            fail(f"a client sending a byte every 0.2 s was not dropped (closed after {closed} s): {reply!r}")
        status, _, reply = srv.request("POST", "/v1/runs", "{}", headers={"Content-Type": "text/plain"})
        if status != 415:
            fail(f"wrong content type: {status}")
        status, _, reply = srv.request("POST", "/v1/runs", '{"model": ', headers={"Content-Type": "application/json"})
        if status != 400 or not json.loads(reply)["error"].startswith("request body"):
            fail(f"truncated JSON: {status} {reply!r}")
        status, _, reply = srv.request("POST", "/v1/runs", {"model": {"checkpoint": CHECKPOINT},
                                                            "input": {"text": "a", "genrate": 3}})
        if status != 400 or "/input/genrate" not in json.loads(reply)["error"]:
            fail(f"unknown key: {status} {reply!r}")
        status, _, reply = srv.request("POST", "/v1/runs", {"hello": 1})
        if status != 422:
            fail(f"not a scenario: {status} {reply!r}")
        status, headers, _ = srv.request("PUT", "/v1/runs", {})
        if status != 405 or "POST" not in headers.get("Allow", ""):
            fail(f"PUT /v1/runs: {status} {headers}")
        reply, _ = raw(srv.port, b"GET /v1/runs/%00 HTTP/1.1\r\nHost: x\r\n\r\n")
        if status_of(reply) != 400:
            fail(f"an encoded NUL: {reply[:100]!r}")
        if srv.json("GET", "/v1/health", token=False)["status"] != "ok":
            fail("the server stopped answering after bad requests")

        # --- a shipped scenario, whose paths are written from its own folder: POSTed with ?base=scenarios
        with open(os.path.join(source, "scenarios", "run-main-wd.json")) as f:
            shipped = f.read()
        status, _, reply = srv.request("POST", "/v1/runs", shipped, headers={"Content-Type": "application/json"})
        if status != 400 or "outside the allowed folders" not in json.loads(reply)["error"]:
            fail(f"a shipped scenario without ?base: {status} {reply[:200]!r}")
        status, _, reply = srv.request("POST", "/v1/runs?base=scenarios", shipped,
                                       headers={"Content-Type": "application/json"})
        if status != 201:
            fail(f"a shipped scenario with ?base=scenarios: {status} {reply[:300]!r}")
        shipped_run = srv.wait(json.loads(reply)["id"])
        if shipped_run["state"] != "done" or "report.html" not in shipped_run["artefacts"]:
            fail(f"the shipped scenario's run: {shipped_run['state']} {shipped_run['error']}")
        for bad in ("/etc", "..", "../..", "no-such-folder", "%2e%2e"):
            status, _, reply = srv.request("POST", "/v1/runs?base=" + bad, shipped,
                                           headers={"Content-Type": "application/json"})
            if status != 400 or "?base=" not in json.loads(reply)["error"]:
                fail(f"?base={bad}: {status} {reply[:200]!r}")

        # --- a restarted server knows its runs
        before = {x["id"]: x["state"] for x in srv.json("GET", "/v1/runs")["runs"]}
        srv.stop()
        srv.start()
        after = {x["id"]: x["state"] for x in srv.json("GET", "/v1/runs")["runs"]}
        if before != after:
            fail(f"after a restart the runs are {after}, before {before}")
        ids = sorted(before)
        if len(set(ids)) != len(ids) or len(ids) != 6:
            fail(f"runs {ids}: expected 6 distinct ids")
    finally:
        srv.stop()
    print(f"serve.api: ok ({len(ids)} runs; generation equals the CLI; every bad request refused)")


if __name__ == "__main__":
    main()
