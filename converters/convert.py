#!/usr/bin/env python3
"""Converts a PyTorch checkpoint (.pth/.pt, zip or legacy format) or a .safetensors file into
Lucent's weight format (weights/FORMAT.md).

    python3 converters/convert.py IN OUT [--graph ssr|red]

No pickle code is executed and PyTorch is not needed: checkpoint_reader.py reads the files with
an allow-list unpickler. The state dict is taken from `params_ema` (preferred), `params`,
`state_dict` or `model`, or the top level; `module.` / `netG.` prefixes are stripped. SSR accepts
the BasicSR, original-ESRGAN and oldest `model.N` layouts; every hyper-parameter is inferred
from the tensors (RED's pyramid bins come from a `config` entry beside the weights). float16
tensors stay float16; bfloat16 becomes float32. Exit status 0 on success, 1 with a message on
any problem; OUT is written atomically or not at all.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_reader  # noqa: E402
import lcw  # noqa: E402
import red_layout  # noqa: E402
import ssr_layout  # noqa: E402
from layout_check import ConvertError  # noqa: E402

VERSION = "0.1.0"
WRAPPERS = ("params_ema", "params", "state_dict", "model")
PREFIXES = ("module.", "netG.")


def unwrap(obj):
    """(flat name -> array dict, config dict or None)."""
    config = None
    for _ in range(3):  # e.g. {"state_dict": {"params_ema": {...}}} in some trainers' exports
        if not isinstance(obj, dict):
            break
        if isinstance(obj.get("config"), dict):
            config = obj["config"]
        inner = next((obj[w] for w in WRAPPERS if isinstance(obj.get(w), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict) or not obj:
        raise ConvertError("the file holds no state dict (a dict of tensor names to tensors)")
    sd = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise ConvertError(f"state dict key {key!r} is not a string")
        if not checkpoint_reader.is_tensor(value):
            raise ConvertError(f"state dict entry {key} is not a tensor ({type(value).__name__})")
        name = key
        for p in PREFIXES:
            if name.startswith(p):
                name = name[len(p):]
        if name in sd:
            raise ConvertError(f"two entries map to {name} after stripping prefixes")
        sd[name] = value
    return sd, config


def detect_graph(sd):
    if "enc0.weight" in sd:
        return "red"
    if "conv_first.weight" in sd or "model.0.weight" in sd:
        return "ssr"
    raise ConvertError("cannot tell the graph: no conv_first / model.0 (SSR) or enc0 (RED) weights; "
                       "pass --graph")


def to_storable(name, arr):
    if arr.dtype == np.float16 or arr.dtype == np.float32:
        return arr
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    raise ConvertError(f"tensor {name} has dtype {arr.dtype}; only floating-point weights are supported")


def prepare(src, graph=None):
    """Reads a checkpoint: (graph, layout, hyper-parameters, {canonical name: array}) in the
    graph's tensor order, checked; what convert() writes, and what audit.py loads into PyTorch."""
    obj = checkpoint_reader.load(src)
    sd, config = unwrap(obj)
    graph = graph or detect_graph(sd)
    if graph == "ssr":
        layout, meta, tensors = ssr_layout.convert(sd)
        shapes = ssr_layout.expected_shapes(meta)
    else:
        layout = "red"
        meta, tensors = red_layout.convert(sd, config)
        shapes = red_layout.expected_shapes(meta)
    ordered = {k: to_storable(k, tensors[k]) for k in shapes}
    for k, t in ordered.items():
        if not np.all(np.isfinite(t)):
            raise ConvertError(f"tensor {k} holds NaN or infinity")
    return graph, layout, dict(meta), ordered


def convert(src, dst, graph=None):
    graph, layout, meta, ordered = prepare(src, graph)
    meta["source"] = os.path.basename(src)[:200].encode("ascii", "replace").decode("ascii")
    meta["converter"] = f"lucent-convert {VERSION}"
    lcw.write(dst, graph, meta, ordered)
    return graph, layout, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--graph", choices=("ssr", "red"), help="graph kind (detected when omitted)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        graph, layout, meta = convert(args.input, args.output, args.graph)
    except (checkpoint_reader.CheckpointError, ConvertError) as e:
        print(f"convert.py: {args.input}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert.py: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"convert.py: {args.input}: out of memory while reading it (hostile or far too large)",
              file=sys.stderr)
        return 1
    except RecursionError:
        print(f"convert.py: {args.input}: nested too deeply to be a checkpoint", file=sys.stderr)
        return 1
    except Exception as e:  # a bug or an unforeseen hostile file: one line, never a traceback
        print(f"convert.py: {args.input}: cannot convert it ({type(e).__name__}: {e}); "
              f"if this is a genuine checkpoint, please report it", file=sys.stderr)
        return 1
    shown = {k: v for k, v in meta.items() if k not in ("source", "converter")}
    print(f"{args.input} -> {args.output}: {graph.upper()} ({layout} layout) {shown} "
          f"in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
