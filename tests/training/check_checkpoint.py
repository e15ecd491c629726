#!/usr/bin/env python3
"""Opens a wtasim checkpoint with h5py (Debian python3-h5py), independently of wtasim, and checks the
docs/model.md §8 layout: root attributes, /params and /buffers float32 with PyTorch state_dict names,
/tokenizer/model uint8. Usage: check_checkpoint.py FILE"""
import json
import sys

import h5py
import numpy as np

path = sys.argv[1]
with h5py.File(path, "r") as f:
    attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    assert attrs["format"] == "wtasim-checkpoint", attrs
    assert int(attrs["format_version"]) == 1, attrs
    assert int(attrs["step"]) == 7, attrs
    config = json.loads(attrs["config"])
    assert config["model"]["D"] == 8, config
    assert json.loads(attrs["rng"])["seed"] == 7
    assert set(f["params"].keys()) == {"embed.tok.weight", "blocks.0.attn.q.weight", "head.bias"}, list(f["params"])
    for name, ds in f["params"].items():
        assert ds.dtype == np.float32, (name, ds.dtype)
    assert f["params/embed.tok.weight"].shape == (800, 8)
    assert f["params/head.bias"][0] == 7.0
    assert f["buffers/blocks.0.attn.q.bn.running_var"].shape == (8,)
    tok = f["tokenizer/model"]
    assert tok.dtype == np.uint8 and list(tok[:]) == [1, 2, 3, 0, 255], tok[:]
print("h5py: checkpoint layout as docs/model.md §8")
