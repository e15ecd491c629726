#!/usr/bin/env python3
"""Checks an energy report as a reader of a paper would use it, independently of the code that wrote it.

Usage: check_report.py <report.html> <report.json> [task]

Checked:
  - report.json: provenance (checkpoint, scenario, command, wtasim version, creation date in ISO 8601 UTC,
    profile and its source); the ANN twin's parts sum to its counts; each layer's per-step events sum to its
    events; with `task`, the task block (name, metric, score, examples) and the energy per example equal to the
    total divided by the examples;
  - report.html: every figure is well-formed SVG (parsed as XML) with a title, axis text and a legend, and its
    download link (base64 data URI) decodes to exactly the SVG drawn on the page; the expected figures are all
    there; the page names the provenance and, for a task, its score.
"""
import base64
import json
import re
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    html_path, json_path = sys.argv[1:3]
    task = len(sys.argv) > 3 and sys.argv[3] == "task"
    j = json.load(open(json_path))
    p = j.get("provenance") or fail("report.json has no provenance")
    for key in ("checkpoint", "scenario", "command", "wtasim_version", "created", "profile", "profile_source"):
        if not p.get(key):
            fail(f"provenance/{key} is empty")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created"]):
        fail("provenance/created is not ISO 8601 UTC: " + p["created"])
    twin = {}
    for part in j["ann_twin"]["parts"]:
        for k, v in part["counts"].items():
            twin[k] = twin.get(k, 0) + v
    if twin != j["ann_twin"]["counts"]:
        fail(f"the twin's parts {twin} do not sum to its counts {j['ann_twin']['counts']}")
    for layer in j["layers"]:
        if layer["neuron_steps"] and sum(layer["step_events"]) != layer["events"]:
            fail(f"{layer['name']}: per-step events do not sum to its events")
    if task:
        t = j.get("task") or fail("a task report without its task")
        if not t["name"] or not t["metric"] or t["examples"] <= 0 or t["score"] is None:
            fail("task block incomplete: " + json.dumps(t))
        per = j["energy_per_example_pj"]["full_profile"]
        if abs(per * t["examples"] - j["energy_pj"]["full_profile"]) > 1e-6 * j["energy_pj"]["full_profile"]:
            fail("energy per example x examples != total")

    html = open(html_path, encoding="utf-8").read()
    figures = re.findall(r'<figure id="([^"]+)">\n(<svg.*?</svg>\n)<figcaption>(.*?)</figcaption>', html, re.S)
    names = [f[0] for f in figures]
    wanted = ["snn-vs-ann-by-part", "energy-by-layer", "operation-mix", "firing-rate-per-layer",
              "firing-rate-per-step", "spike-raster"]
    if names != wanted:
        fail(f"figures {names}, expected {wanted}")
    ns = "{http://www.w3.org/2000/svg}"
    for name, svg, caption in figures:
        try:
            root = ET.fromstring(svg)
        except ET.ParseError as e:
            fail(f"{name}: not well-formed SVG: {e}")
        if root.find(ns + "title") is None:
            fail(f"{name}: no <title>")
        texts = [t.text or "" for t in root.iter(ns + "text")]
        if len(texts) < 4:
            fail(f"{name}: too little text for axes and a legend: {texts}")
        m = re.search(r'<a download="' + re.escape(name) + r'\.svg" href="data:image/svg\+xml;base64,([^"]+)"',
                      caption)
        if not m:
            fail(f"{name}: no download link")
        if base64.b64decode(m.group(1)).decode("utf-8") != svg:
            fail(f"{name}: the downloadable SVG differs from the one drawn")
    axis_units = {"snn-vs-ann-by-part": "energy (nJ)", "energy-by-layer": "energy (nJ)",
                  "operation-mix": "share of the energy (%)", "firing-rate-per-layer": "events per neuron per time step",
                  "firing-rate-per-step": "time step t", "spike-raster": "neuron"}
    for name, svg, _ in figures:
        if axis_units[name] not in svg:
            fail(f"{name}: no axis label naming {axis_units[name]!r}")
    for v in (p["checkpoint"], p["wtasim_version"], p["created"]):
        if v.replace("&", "&amp;") not in html:
            fail(f"the page does not show {v}")
    if task and j["task"]["name"] not in html:
        fail("the page does not name the task")
    print(f"report: {len(figures)} figures, provenance and {'task ' if task else ''}tables checked")


if __name__ == "__main__":
    main()
