#!/usr/bin/env python3
"""Converts a PyTorch checkpoint (.pth/.pt, zip or legacy format) or a .safetensors file into
Lucent's weight format (weights/FORMAT.md).

    python3 converters/convert.py IN OUT [--graph ssr|red|compact] [--act lrelu|relu]
    python3 converters/convert.py MODEL.param OUT [--bin MODEL.bin]      (ncnn models)

No pickle code is executed and PyTorch is not needed: checkpoint_reader.py reads the files with
an allow-list unpickler. The state dict is taken from `params_ema` (preferred), `params`,
`state_dict` or `model`, or the top level; `module.` / `netG.` prefixes are stripped. SSR accepts
the BasicSR, original-ESRGAN and oldest `model.N` layouts; every hyper-parameter is inferred
from the tensors (RED's pyramid bins come from a `config` entry beside the weights). Compact SR
models (Real-ESRGAN's SRVGGNetCompact: body.N keys) are detected from their keys. ncnn models
(a text .param and its .bin) are read by ncnn_reader.py, which recognises the compact and RRDBNet
graphs from the blob graph and refuses anything else by layer. float16
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
import compact_layout  # noqa: E402
import lcw  # noqa: E402
import ncnn_reader  # noqa: E402
import red_layout  # noqa: E402
import ssr_layout  # noqa: E402
from layout_check import ConvertError, check_exact  # noqa: E402

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
    if compact_layout.is_compact(sd):
        return "compact"
    raise ConvertError("cannot tell the graph: no conv_first / model.0 (SSR), enc0 (RED) or body.N (compact) "
                       "weights; pass --graph")


def to_storable(name, arr):
    if arr.dtype == np.float16 or arr.dtype == np.float32:
        return arr
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    raise ConvertError(f"tensor {name} has dtype {arr.dtype}; only floating-point weights are supported")


MAX_NCNN_PARAM = 16 << 20
MAX_NCNN_BIN = 4 << 30


def read_ncnn(param, bin_path=None):
    """(graph, layout, meta, tensors) of an ncnn .param and its .bin (beside it by default)."""
    if bin_path is None:
        bin_path = param[:-len(".param")] + ".bin"
    if os.path.getsize(param) > MAX_NCNN_PARAM:
        raise ConvertError(f"the .param file is over {MAX_NCNN_PARAM >> 20} MiB; not a model description")
    if os.path.getsize(bin_path) > MAX_NCNN_BIN:
        raise ConvertError(f"{bin_path} is over {MAX_NCNN_BIN >> 30} GiB")
    with open(param, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ConvertError("the .param file is not ASCII text (binary .param.bin files are not read)") from None
    with open(bin_path, "rb") as f:
        data = f.read()
    graph, meta, tensors = ncnn_reader.convert(text, data)
    return graph, "ncnn", meta, tensors


def prepare(src, graph=None, act=None, bin_path=None):
    """Reads a checkpoint: (graph, layout, hyper-parameters, {canonical name: array}) in the
    graph's tensor order, checked; what convert() writes, and what audit.py loads into PyTorch."""
    if src.endswith(".param"):
        graph_found, layout, meta, tensors = read_ncnn(src, bin_path)
        if graph is not None and graph != graph_found:
            raise ConvertError(f"the ncnn model is {graph_found}, not {graph}")
        shapes = (ssr_layout.expected_shapes(meta) if graph_found == "ssr"
                  else compact_layout.expected_shapes(meta))
        check_exact(tensors, shapes, graph_found)
        ordered = {k: to_storable(k, tensors[k]) for k in shapes}
        for k, t in ordered.items():
            if not np.all(np.isfinite(t)):
                raise ConvertError(f"tensor {k} holds NaN or infinity")
        return graph_found, layout, dict(meta), ordered
    obj = checkpoint_reader.load(src)
    sd, config = unwrap(obj)
    graph = graph or detect_graph(sd)
    if graph == "compact":
        layout = "real-esrgan compact"
        meta, tensors = compact_layout.convert(sd, act)
        shapes = compact_layout.expected_shapes(meta)
    elif graph == "ssr":
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


def convert(src, dst, graph=None, act=None, bin_path=None):
    graph, layout, meta, ordered = prepare(src, graph, act, bin_path)
    meta["source"] = os.path.basename(src)[:200].encode("ascii", "replace").decode("ascii")
    meta["converter"] = f"lucent-convert {VERSION}"
    lcw.write(dst, graph, meta, ordered)
    return graph, layout, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--graph", choices=("ssr", "red", "compact"), help="graph kind (detected when omitted)")
    ap.add_argument("--act", choices=("prelu", "lrelu", "relu"),
                    help="a compact model's activation when its checkpoint has no PReLU slopes (default lrelu)")
    ap.add_argument("--bin", help="an ncnn model's .bin (default: beside the .param)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        graph, layout, meta = convert(args.input, args.output, args.graph, args.act, args.bin)
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
