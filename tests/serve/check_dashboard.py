#!/usr/bin/env python3
"""The dashboard of wtasim serve in a real browser: headless Chromium (Debian's `chromium`).

Usage: check_dashboard.py <wtasim> <source dir> <scratch dir> [screenshot.png]

  1. The page, opened with the token in its address ("#token=...&submit=run&generate=1"), submits the example
     run through the API and streams a generation: the rendered page lists the run in the queue, and shows the
     generated tokens (one span each, as many as asked) with the tokens/s and energy per token line.
  2. The run the browser submitted is the server's only run, and it ends done.
  3. The page opened on that run ("#open=<id>") shows its state, its metrics, and its two charts with one bar
     per layer that has energy (and per spiking layer) in the run's report.json.
  4. Without a token the page still loads and says the server is up, and shows no run.
Optionally writes a screenshot of the page of step 3.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server, fail  # noqa: E402


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    fail("no Chromium: install the Debian package 'chromium' (bash tools/setup.sh does)")


def browse(scratch, url, screenshot=None, size="1200,1500"):
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + os.path.join(scratch, "chromium-profile"), "--window-size=" + size,
            "--virtual-time-budget=20000", "--no-first-run", "--disable-extensions"]
    args += ["--screenshot=" + screenshot] if screenshot else ["--dump-dom"]
    p = subprocess.run(args + [url], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail(f"chromium exited {p.returncode}: {p.stderr[-500:]}")
    return p.stdout


def element(dom, element_id):
    m = re.search(r'<[a-z]+ [^>]*id="%s"[^>]*>(.*?)</' % element_id, dom, re.S)
    return m


def main():
    wtasim, source, scratch = sys.argv[1:4]
    shot = sys.argv[4] if len(sys.argv) > 4 else None
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    srv = Server(wtasim, source, os.path.join(scratch, "data"))
    try:
        base = srv.url("/")
        dom = browse(scratch, f"{base}#token={srv.token}&submit=run&generate=1")
        rows = re.findall(r'<tr data-id="(r\d+)" data-state="([a-z]+)"', dom)
        if len(rows) != 1:
            fail(f"the queue shows {rows} after the page submitted one run")
        tokens = re.findall(r'<span class="tok"', dom)
        stats = re.search(r'id="gen-stats"[^>]*data-done="1"[^>]*>([^<]*)<', dom)
        if len(tokens) != 24 or not stats or "tokens/s" not in stats.group(1) or "nJ per token" not in stats.group(1):
            fail(f"generation: {len(tokens)} token spans, stats {stats.group(1) if stats else None!r}")

        runs = srv.json("GET", "/v1/runs")["runs"]
        if [r["id"] for r in runs] != [rows[0][0]]:
            fail(f"the server has runs {[r['id'] for r in runs]}, the page showed {rows}")
        rid = rows[0][0]
        r = srv.wait(rid)
        if r["state"] != "done":
            fail(f"the browser's run ended {r['state']}: {r['error']}")
        report = srv.json("GET", f"/v1/runs/{rid}/report.json")

        dom = browse(scratch, f"{base}#token={srv.token}&open={rid}")
        if not re.search(r'id="run-state"[^>]*data-state="done"', dom):
            fail("the run's panel does not say done")
        energy = re.search(r'<svg id="chart-energy".*?</svg>', dom, re.S)
        rate = re.search(r'<svg id="chart-rate".*?</svg>', dom, re.S)
        want_energy = sum(1 for l in report["layers"] if l["energy_pj"] > 0)
        want_rate = sum(1 for l in report["layers"] if l["neuron_steps"] > 0)
        got_energy = energy.group(0).count('class="bar-mark"') if energy else 0
        got_rate = rate.group(0).count('class="bar-mark"') if rate else 0
        if got_energy != want_energy or got_rate != want_rate or want_energy == 0:
            fail(f"charts: {got_energy} energy bars ({want_energy} layers have energy), {got_rate} firing-rate bars "
                 f"({want_rate} spiking layers)")
        for key in ("energy_pj.full_profile", "energy_per_token_pj.full_profile", "tokens"):
            if f"<td>{key}</td>" not in dom:
                fail(f"the metrics table has no {key}")
        if shot:
            browse(scratch, f"{base}#token={srv.token}&open={rid}&generate=1", screenshot=shot, size="1200,1420")
            with open(shot, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    fail("the screenshot is not a PNG")

        shutil.rmtree(os.path.join(scratch, "chromium-profile"), ignore_errors=True)  # no stored token
        dom = browse(scratch, base)
        health = element(dom, "health")
        if not health or "ok" not in health.group(1) or re.search(r'<tr data-id=', dom):
            fail(f"without a token: health {health.group(1) if health else None!r}")
    finally:
        srv.stop()
    print(f"serve.dashboard: ok (run {rid} submitted by the page, 24 streamed tokens, {want_energy} + {want_rate} "
          f"bars drawn)")


if __name__ == "__main__":
    main()
