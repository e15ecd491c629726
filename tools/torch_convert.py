#!/usr/bin/env python3
"""Converts between wtasim checkpoints and PyTorch state_dict files, both ways, with the same names (docs/python.md,
"PyTorch interop").

  torch_convert.py to-torch CHECKPOINT.h5 OUT.pt
      OUT.pt is a state_dict (torch.save of an ordered dict of tensors): every parameter and buffer of the checkpoint
      under its wtasim name (docs/model.md §8.1: "embed.tok.weight", "blocks.0.attn.q.bn.running_mean", ...), plus
      two uint8 tensors under reserved names: "_wtasim.config" (the model config JSON, UTF-8) and "_wtasim.tokenizer"
      (the serialised SentencePiece model). The optimizer state is not carried.
  torch_convert.py to-wtasim IN.pt OUT.h5 [--config CONFIG.json] [--tokenizer-from CHECKPOINT.h5] [--step N]
      OUT.h5 is a wtasim checkpoint that `wtasim simulate | run | generate`, the Python module and fine-tuning read.
      The config comes from IN.pt's "_wtasim.config" or --config (a model config, docs/model.md §12); the tokenizer
      from "_wtasim.tokenizer" or the checkpoint given (the model's ids must be that tokenizer's). Every name the
      config implies must be in the state_dict with its shape, and no other (the error names the first ones).
      Written atomically (a temporary file, then a rename); needs h5repack (Debian hdf5-tools).

A model of this architecture trained in PyTorch code (SpikingJelly, snnTorch or plain torch) is simulated and its
energy counted by saving its state_dict under these names. Exit status 0 on success, 2 with one line on stderr
when an input cannot be used.
"""
import argparse
import json
import os
import subprocess
import sys
from collections import OrderedDict

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_twin  # noqa: E402  (param_shapes / buffer_shapes: the names a config implies)

CONFIG_KEY, TOKENIZER_KEY = "_wtasim.config", "_wtasim.tokenizer"


class Unusable(Exception):
    pass


def to_torch(src, dst):
    with h5py.File(src, "r") as f:
        if torch_twin.read_attr_str(f.attrs.get("format", "")) != "wtasim-checkpoint":
            raise Unusable(f"{src}: not a wtasim checkpoint (root attribute format != \"wtasim-checkpoint\")")
        sd = OrderedDict()
        for group in ("params", "buffers"):
            if group in f:
                for name in sorted(f[group]):
                    sd[name] = torch.from_numpy(np.asarray(f[group][name][()], dtype=np.float32))
        sd[CONFIG_KEY] = torch.frombuffer(bytearray(torch_twin.read_attr_str(f.attrs["config"]).encode()), dtype=torch.uint8)
        if "tokenizer/model" in f:
            sd[TOKENIZER_KEY] = torch.from_numpy(np.asarray(f["tokenizer/model"][()], dtype=np.uint8))
    tmp = dst + ".tmp"
    torch.save(sd, tmp)
    os.replace(tmp, dst)
    n = len([k for k in sd if not k.startswith("_wtasim.")])
    print(f"torch_convert: {src} -> {dst}: {n} tensors")


def to_wtasim(src, dst, config_path=None, tokenizer_from=None, step=0):
    try:
        sd = torch.load(src, map_location="cpu")
    except Exception as e:  # noqa: BLE001  (torch raises many kinds for a file that is not its own)
        raise Unusable(f"{src}: not a PyTorch file torch.load can read ({type(e).__name__})")
    if not isinstance(sd, dict):
        raise Unusable(f"{src}: holds a {type(sd).__name__}, expected a state_dict (a dict of tensors)")
    if config_path:
        with open(config_path, encoding="utf-8") as f:
            raw = f.read()
    elif CONFIG_KEY in sd:
        raw = bytes(sd[CONFIG_KEY].numpy()).decode()
    else:
        raise Unusable(f"{src}: no {CONFIG_KEY} entry; give the model config with --config")
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as e:
        raise Unusable(f"{config_path or src}: the model config is not JSON ({e.msg} at line {e.lineno})")
    if tokenizer_from:
        with h5py.File(tokenizer_from, "r") as f:
            if "tokenizer/model" not in f:
                raise Unusable(f"{tokenizer_from}: has no /tokenizer/model")
            tokenizer = np.asarray(f["tokenizer/model"][()], dtype=np.uint8)
    elif TOKENIZER_KEY in sd:
        tokenizer = sd[TOKENIZER_KEY].numpy().astype(np.uint8)
    else:
        tokenizer = None
    try:
        cfg = torch_twin.normalise_config(dict(config))
    except (KeyError, ValueError, TypeError) as e:
        raise Unusable(f"{config_path or src}: unusable model config: {e}")
    want_p, want_b = torch_twin.param_shapes(cfg), torch_twin.buffer_shapes(cfg)
    given = {k: v for k, v in sd.items() if not k.startswith("_wtasim.")}
    for k, v in given.items():
        if not isinstance(v, torch.Tensor):
            raise Unusable(f"{src}: entry {k!r} is a {type(v).__name__}, expected a tensor")
    missing = [k for k in sorted(set(want_p) | set(want_b)) if k not in given]
    extra = sorted(set(given) - set(want_p) - set(want_b))
    if missing:
        raise Unusable(f"{src}: {len(missing)} tensors the config implies are missing: {', '.join(missing[:4])}"
                       f"{' ...' if len(missing) > 4 else ''}")
    if extra:
        raise Unusable(f"{src}: {len(extra)} tensors the config does not use: {', '.join(extra[:4])}"
                       f"{' ...' if len(extra) > 4 else ''}")
    for name, shape in {**want_p, **want_b}.items():
        if tuple(given[name].shape) != tuple(shape):
            raise Unusable(f"{src}: {name} has shape {tuple(given[name].shape)}, the config implies {tuple(shape)}")
    raw_path, tmp = dst + ".raw.tmp", dst + ".tmp"
    with h5py.File(raw_path, "w") as f:
        f.attrs["format"] = "wtasim-checkpoint"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["config"] = json.dumps(config)
        f.attrs["step"] = np.int64(step)
        for group, names in (("params", want_p), ("buffers", want_b)):
            g = f.create_group(group)
            for name in names:
                g[name] = given[name].detach().to(torch.float32).contiguous().numpy()
        if tokenizer is not None:
            f["tokenizer/model"] = tokenizer
    # h5py writes, h5repack (Debian hdf5-tools) gives the layout wtasim reads (docs/model.md §8: HDF5 1.10 with
    # checksummed metadata, compact links)
    try:
        subprocess.run(["h5repack", "--low=2", "--compact=65535", raw_path, tmp], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise Unusable(f"{dst}: h5repack failed ({e}); install Debian's hdf5-tools")
    finally:
        os.remove(raw_path)
    os.replace(tmp, dst)
    print(f"torch_convert: {src} -> {dst}: {len(want_p)} parameters, {len(want_b)} buffers"
          f"{'' if tokenizer is not None else ', no tokenizer'}")


def main(argv):
    ap = argparse.ArgumentParser(description="wtasim checkpoint <-> PyTorch state_dict, the same names")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-torch")
    a.add_argument("checkpoint")
    a.add_argument("out")
    b = sub.add_parser("to-wtasim")
    b.add_argument("state_dict")
    b.add_argument("out")
    b.add_argument("--config")
    b.add_argument("--tokenizer-from")
    b.add_argument("--step", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "to-torch":
            to_torch(args.checkpoint, args.out)
        else:
            to_wtasim(args.state_dict, args.out, args.config, args.tokenizer_from, args.step)
    except (Unusable, OSError) as e:
        print(f"torch_convert: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
