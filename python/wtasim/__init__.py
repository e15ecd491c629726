"""wtasim from Python: load a checkpoint, simulate it event by event, count its energy, read traces.

    import wtasim
    m = wtasim.load("models/wd-kjv-small.h5")
    r = m.simulate(m.tokenize("In the beginning God created"))
    r.logits.shape, r.counts["AC"], r.energy("horowitz45-fp32")["total"]

The walk-through is docs/python.md. The simulation runs in C++ (the module _wtasim, built with the rest of
wtasim); arrays come back as numpy views of the simulator's buffers wherever one buffer holds them.
"""
import json

import numpy as np

from . import _wtasim

__version__ = _wtasim.__version__
__all__ = ["load", "Model", "Result", "BatchResult", "read_trace", "Trace", "profile_costs"]


def load(path):
    """The checkpoint at `path` (a wtasim HDF5 checkpoint, spiking or ANN twin) as a Model."""
    return Model(path)


class Model:
    """A checkpoint, loaded once: its config, tokenizer and folded network."""

    def __init__(self, path):
        self._m = _wtasim.Model(str(path))
        self.path = str(path)
        self.config = json.loads(self._m.config_json)  # the model config (docs/model.md §12)
        self.step = self._m.step

    def __repr__(self):
        c = self.config
        kind = ("WD" if c["causal"] else "WE") if c["spiking"] else "ANN twin"
        return (f"wtasim.Model({self.path!r}: {kind}, D {c['d_model']}, L {c['layers']}, T {c['T']}, "
                f"vocabulary {c['vocab']}, step {self.step})")

    def tokenize(self, text, bos=True):
        """The token ids of `text` (int32), after <s> (id 2) unless bos=False."""
        return self._m.tokenize(text, bos)

    def detokenize(self, ids):
        """The text of token ids (special ids skipped)."""
        return self._m.detokenize([int(i) for i in ids])

    def simulate(self, tokens, backend="cpu", record=False):
        """Runs the event-driven simulator on one sequence ([N] ids) or a batch ([B, N], or a list of sequences
        of any lengths). One sequence gives a Result, a batch a BatchResult. record=True keeps every neuron
        layer's spike events (Result.spikes)."""
        if isinstance(tokens, (list, tuple)) and tokens and not np.isscalar(tokens[0]):
            return BatchResult([Result(r) for r in self._m.simulate([np.asarray(t) for t in tokens], backend,
                                                                     record)])
        a = np.asarray(tokens)
        if a.ndim == 1:
            return Result(self._m.simulate([a], backend, record)[0])
        if a.ndim == 2:
            return BatchResult([Result(r) for r in self._m.simulate(list(a), backend, record)])
        raise ValueError(f"tokens: an array of {a.ndim} dimensions, expected [N] or [B, N]")

    def generate(self, text, tokens, temperature=0.0, top_k=0, seed=0, profile="horowitz45-fp32", backend="cpu"):
        """Streams a decoder (WD) model after the prompt `text`, with the K/V spike cache: yields one dict per new
        token, {"id", "text" (what it adds to the decoded text), "energy_pj" (its cost under `profile`),
        "counts"}, as `wtasim generate` prints them. temperature 0 (or top_k 1) is greedy. backend: as for
        simulate ("cuda" keeps the spike cache on the GPU)."""
        push = self._m.stream(backend)
        ids = list(self.tokenize(text))
        for t in ids:
            logits, _ = push(int(t))
        costs = profile_costs(profile)
        shown = self.detokenize(ids)
        for step in range(tokens):
            if len(ids) >= self.config["max_len"]:
                return
            nxt = _wtasim.Model.sample(logits, float(temperature), int(top_k), int(seed), step)
            ids.append(nxt)
            full = self.detokenize(ids)
            added = full[len(shown):] if full.startswith(shown) else full
            shown = full
            if len(ids) < self.config["max_len"]:
                logits, counts = push(nxt)
            else:
                counts = {}
            yield {"id": nxt, "text": added, "counts": counts,
                   "energy_pj": sum(n * costs[c] for c, n in counts.items())}


def profile_costs(profile="horowitz45-fp32"):
    """pJ per operation of each class under `profile` (a shipped name or a JSON file), as the reports use."""
    return _wtasim.profile_costs(profile)


class Result:
    """One simulated sequence: logits [N, O] (numpy view, no copy), counts (class -> int), layers (per layer
    counts, events and firing rate), energy(profile), and spikes(layer) when recorded."""

    def __init__(self, native):
        self._r = native

    @property
    def tokens(self):
        return self._r.tokens

    @property
    def logits(self):
        return self._r.logits

    @property
    def counts(self):
        return self._r.counts

    @property
    def layers(self):
        return self._r.layers

    def energy(self, profile="horowitz45-fp32"):
        """{"total", "paper_convention", "by_class", "by_layer", "ann_twin", ...} in pJ under `profile` (a shipped
        name or a JSON file)."""
        return self._r.energy(profile)

    def layer_names(self):
        return self._r.layer_names()

    def spikes(self, layer):
        """(step, token, neuron) uint32 arrays of the layer's events, sorted by step then token (record=True)."""
        return self._r.spikes(layer)


class BatchResult:
    """A batch: logits [B, N, O] when every sequence has the same length (a list otherwise); counts summed;
    per-sequence results by index."""

    def __init__(self, results):
        self.results = results

    def __len__(self):
        return len(self.results)

    def __getitem__(self, i):
        return self.results[i]

    @property
    def logits(self):
        shapes = {r.logits.shape for r in self.results}
        if len(shapes) == 1:
            return np.stack([r.logits for r in self.results])  # one copy into the batch array
        return [r.logits for r in self.results]

    @property
    def counts(self):
        total = {}
        for r in self.results:
            for c, n in r.counts.items():
                total[c] = total.get(c, 0) + n
        return total

    @property
    def layers(self):
        return [r.layers for r in self.results]

    def energy(self, profile="horowitz45-fp32"):
        out = None
        for r in self.results:
            e = r.energy(profile)
            if out is None:
                out = e
                continue
            for k in ("total", "paper_convention", "ann_twin", "ann_twin_paper_convention"):
                out[k] += e[k]
            for k in ("by_class", "by_layer"):
                for name, v in e[k].items():
                    out[k][name] += v
        return out

    def spikes(self, layer, sequence=0):
        return self.results[sequence].spikes(layer)


class Trace:
    """A trace written by `wtasim simulate --trace` or `wtasim run` (docs/model.md §8.2), read with h5py."""

    def __init__(self, path):
        import h5py

        self._f = h5py.File(path, "r")
        if self._f.attrs.get("format") not in ("wtasim-trace", b"wtasim-trace"):
            raise ValueError(f"{path}: not a wtasim trace (root attribute format != 'wtasim-trace')")
        self.path = path
        self.config = json.loads(self._f.attrs["config"])
        self.scenario = json.loads(self._f.attrs["scenario"])
        self.sequences = sorted(self._f["sequences"], key=int)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tokens(self, sequence="0"):
        return self._f[f"sequences/{sequence}/tokens"][()]

    def token_text(self, sequence="0"):
        d = self._f.get(f"sequences/{sequence}/token_text")
        return list(d.asstr()[()]) if d is not None else None

    def logits(self, sequence="0"):
        return self._f[f"sequences/{sequence}/logits"][()]

    def layers(self, sequence="0"):
        return list(self._f[f"sequences/{sequence}/layers"])

    def spikes(self, layer, sequence="0"):
        g = self._f[f"sequences/{sequence}/layers/{layer}/spikes"]
        return g["step"][()], g["token"][()], g["neuron"][()]

    def energy(self, unit="operations", sequence=None):
        """{layer: {class: value}} of the summed table (or one sequence's): operation counts, or pJ (unit="pJ")."""
        base = "energy" if sequence is None else f"sequences/{sequence}/energy"
        table = self._f[f"{base}/layers" + ("_pj" if unit == "pJ" else "")][()]
        names = json.loads(self._f["energy"].attrs["layer_names"])
        classes = json.loads(self._f["energy"].attrs["classes"])
        return {n: dict(zip(classes, row.tolist())) for n, row in zip(names, table)}


def read_trace(path):
    """The trace at `path` as a Trace (use it in a `with` block, or call close())."""
    return Trace(path)
