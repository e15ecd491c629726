"""A client of wtasim serve for the tests: starts the real server on an ephemeral loopback port and talks to
it with Python's standard library only (urllib, http.client, socket), as any outside client would."""
import http.client
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


class Server:
    def __init__(self, wtasim, source, data_dir, *extra):
        self.wtasim, self.source, self.data_dir, self.extra = wtasim, source, data_dir, list(extra)
        self.proc = None
        self.start()

    def start(self):
        args = [self.wtasim, "serve", "--port", "0", "--data-dir", self.data_dir, "--root", self.source] + self.extra
        self.log = open(os.path.join(os.path.dirname(self.data_dir.rstrip("/")), os.path.basename(self.data_dir) +
                                     ".server.log"), "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=self.source)
        self.banner = []
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                fail("the server ended before listening: " + " ".join(self.banner))
            self.banner.append(line.strip())
            if "listening on http://127.0.0.1:" in line:
                self.port = int(line.split("127.0.0.1:")[1].split("/")[0])
            if line.startswith("wtasim serve: runs in "):
                break
        if self.port is None:
            fail("no port in the server's banner: " + " ".join(self.banner))
        with open(os.path.join(self.data_dir, "token")) as f:
            self.token = f.read().strip()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail("the server did not stop within 30 s of signal %d" % sig)
        self.proc = None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, token=True, headers=None, timeout=60):
        """(status, headers, body bytes)"""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + (self.token if token is True else token)
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, expect=200, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        if status != expect:
            fail(f"{method} {path}: status {status}, expected {expect}: {data[:300]!r}")
        try:
            return json.loads(data)
        except ValueError:
            fail(f"{method} {path}: not JSON: {data[:300]!r}")

    def wait(self, run_id, states=("done", "failed", "cancelled"), timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.json("GET", "/v1/runs/" + run_id)
            if r["state"] in states:
                return r
            time.sleep(0.2)
        fail(f"run {run_id} still {r['state']} after {timeout} s")


def keep_alive_connection(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)
