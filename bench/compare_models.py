#!/usr/bin/env python3
"""End-to-end model timings beside PyTorch, measured in the same run (medians).

    /usr/bin/python3 bench/compare_models.py ssr [--lucent build/lucent] [--reps 3] [--size 256]
    /usr/bin/python3 bench/compare_models.py red [--reps 3]

ssr:
  * convert.py on a 23-block x4 checkpoint (RealESRGAN_x4plus shape, random weights, zip format)
  * `lucent upscale --threads T` of a size x size PNG, wall time of the whole command (load,
    decode, run, encode) and the run alone (--verbose), for the embedded default model and the
    23-block model, T = 1 and 2
  * PyTorch (Debian's python3-torch) forward of the same model on the same input with
    torch.set_num_threads(T), under torch.no_grad().
red: `lucent enhance --threads T` of 512x512 and 1920x1080 PNGs with the embedded default
  low-light model beside PyTorch's forward of the same model (T = 1 and 2).
Prints a Markdown table. Needs python3-torch, python3-numpy, python3-pil.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
import lcw  # noqa: E402
from reference_models import RED, SSR  # noqa: E402


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def model_from_lcw(path):
    kind, meta, tensors = lcw.read(path)
    if kind == "red":
        model = RED(in_ch=meta["in_ch"][0], out_ch=meta["out_ch"][0], c0=meta["c0"][0], c1=meta["c1"][0],
                    c2=meta["c2"][0], bins=meta["ppm_bins"], reduction=meta["reduction"][0],
                    sa_kernel=meta["sa_kernel"][0])
        model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()})
        return model.eval()
    model = SSR(in_ch=meta["in_ch"][0], out_ch=meta["out_ch"][0], nf=meta["nf"][0], nb=meta["nb"][0],
                gc=meta["gc"][0], n_up=len(meta["up_factors"]))
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()})
    return model.eval()


def time_pair(args, cmd_base, src, tmp, model, x, t):
    """(lucent command wall time, lucent run time, PyTorch forward time), medians."""
    runs = []
    cmd = cmd_base + ["--threads", str(t), "--verbose", src, os.path.join(tmp, "out.png")]

    def lucent_once():
        r = subprocess.run(cmd, check=True, capture_output=True, text=True)
        runs.append(float(re.search(r"run ([0-9.]+) ms", r.stderr).group(1)) / 1000)

    wall = median_time(lucent_once, args.reps)
    torch.set_num_threads(t)
    with torch.no_grad():
        model(x)  # warm-up
        pt = median_time(lambda: model(x), args.reps)
    return wall, statistics.median(runs), pt


def print_table(rows, note):
    print("\n| model | input | threads | lucent command | lucent run | PyTorch forward | PyTorch / lucent run |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, size, t, wall, run_only, pt in rows:
        print(f"| {label} | {size} | {t} | {wall:.3f} s | {run_only:.3f} s | {pt:.3f} s | {pt / run_only:.2f}x |")
    print(f"\n({note}; medians of the repetitions; torch {torch.__version__})")


def red_main(args):
    tmp = tempfile.mkdtemp(prefix="lucent-bench-")
    model = model_from_lcw(os.path.join(ROOT, "models", "default", "red_lowlight.lcw"))
    rng = np.random.default_rng(0)
    rows = []
    for w, h in ((512, 512), (1920, 1080)):
        img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        src = os.path.join(tmp, f"in_{w}.png")
        Image.fromarray(img).save(src)
        x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None].contiguous()
        for t in (int(v) for v in args.threads.split(",")):
            wall, run_only, pt = time_pair(args, [args.lucent, "enhance"], src, tmp, model, x, t)
            rows.append(("default RED low-light", f"{w}x{h}", t, wall, run_only, pt))
    print_table(rows, "random RGB input")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("suite", choices=("ssr", "red"))
    ap.add_argument("--lucent", default=os.path.join(ROOT, "build", "lucent"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    if args.suite == "red":
        return red_main(args)
    tmp = tempfile.mkdtemp(prefix="lucent-bench-")
    rows = []

    torch.manual_seed(0)
    big = SSR(nf=64, nb=23, gc=32, n_up=2).eval()
    pth, big_lcw = os.path.join(tmp, "x4_23.pth"), os.path.join(tmp, "x4_23.lcw")
    torch.save({"params_ema": big.state_dict()}, pth)
    conv = median_time(lambda: subprocess.run([sys.executable, os.path.join(ROOT, "converters", "convert.py"),
                                               pth, big_lcw], check=True, capture_output=True), args.reps)
    print(f"convert.py, 23-block x4 checkpoint ({os.path.getsize(pth) / 2**20:.1f} MiB): "
          f"{conv:.2f} s (median of {args.reps})")

    rng = np.random.default_rng(0)
    src = os.path.join(tmp, "in.png")
    img = (rng.random((args.size, args.size, 3)) * 255).astype(np.uint8)
    Image.fromarray(img).save(src)
    x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None].contiguous()
    default_lcw = os.path.join(ROOT, "models", "default", "ssr_x4.lcw")
    for label, path, model in (("default x4", None, model_from_lcw(default_lcw)),
                               ("23-block x4", big_lcw, big)):
        for t in (int(v) for v in args.threads.split(",")):
            base = [args.lucent, "upscale"] + (["--model", path] if path else [])
            wall, run_only, pt = time_pair(args, base, src, tmp, model, x, t)
            rows.append((label, f"{args.size}x{args.size}", t, wall, run_only, pt))
    print_table(rows, "random RGB input")


if __name__ == "__main__":
    main()
