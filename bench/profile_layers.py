#!/usr/bin/env python3
"""Per-layer time and effective GFLOP/s of Lucent's graphs, at several thread counts.

    python3 bench/profile_layers.py [--model ssr6] [--size 128x128] [--threads 1,2] [--reps 3]

Models: default-ssr, default-red (the embedded defaults), ssr6 (6-block x4 RRDBNet, nf 64,
gc 32), ssr23 (the RealESRGAN_x4plus shape), red64 (RED at widths 64/128/256), or a .lcw
path. Random-weight models are made once (PyTorch reference modules + convert.py) under
build-bench/. Runs `lucent upscale|enhance --profile` on a random image `--reps` times per
thread count (warm: one process over --reps + 1 copies, the first run dropped; --cold: a
process per run) and prints, per layer, the median time (since the previous reported layer, so it
includes unnamed steps in between, e.g. the trunk residual add lands in conv_up1), the
direct-convolution FLOPs (2 x MACs; Winograd layers therefore show an *effective* rate) and
GFLOP/s, then the totals and each layer group's share.
"""
import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
import lcw  # noqa: E402

LUCENT = os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent"))
WORK = os.path.join(ROOT, "build-bench")
PEAK_GFLOPS_PER_CORE = 170.0  # fp32 FMA peak of one core of these machines, measured


def make_model(name):
    if name in ("default-ssr", "default-red"):
        return os.path.join(ROOT, "models", "default", "ssr_x4.lcw" if name == "default-ssr" else "red_lowlight.lcw")
    if name.endswith(".lcw"):
        return name
    path = os.path.join(WORK, f"{name}.lcw")
    if os.path.exists(path):
        return path
    import torch
    import convert
    from reference_models import RED, SSR
    os.makedirs(WORK, exist_ok=True)
    torch.manual_seed(0)
    if name == "ssr6":
        m, wrap = SSR(nf=64, nb=6, gc=32, n_up=2), None
    elif name == "ssr23":
        m, wrap = SSR(nf=64, nb=23, gc=32, n_up=2), None
    elif name == "red64":
        m, wrap = RED(c0=64, c1=128, c2=256), "params"
    else:
        raise SystemExit(f"unknown model {name}")
    pth = os.path.join(WORK, f"{name}.pth")
    sd = m.state_dict()
    torch.save({wrap: sd} if wrap else sd, pth)
    convert.convert(pth, path)
    return path


def conv_flops(graph, meta, name, shape):
    """2 x MACs of the layer as a direct convolution, from its output shape [n, c, h, w]."""
    _, cout, h, w = shape
    one = lambda m: m[0] if isinstance(m, list) else m  # noqa: E731
    if graph == "ssr":
        nf, gc, u, cin0 = one(meta["nf"]), one(meta["gc"]), one(meta["unshuffle"]), one(meta["in_ch"])
        m = re.match(r"body\.\d+\.rdb\d\.conv(\d)$", name)
        if m:
            cin = nf + (int(m.group(1)) - 1) * gc
        elif name == "conv_first":
            cin = cin0 * u * u
        elif name in ("conv_body", "conv_hr", "conv_last") or name.startswith("conv_up"):
            cin = nf
        else:
            return 0
        return 2 * cin * cout * 9 * h * w
    c0, c1, c2 = one(meta["c0"]), one(meta["c1"]), one(meta["c2"])
    k = len(meta["ppm_bins"])
    cin = {"enc0": one(meta["in_ch"]), "down": c0, "enc2": c1, "dec1": c1, "out": c0}.get(name)
    if cin is not None:
        return 2 * cin * cout * 9 * h * w
    if name == "ppm.fuse":
        return 2 * (c2 + k * (c2 // 4)) * cout * h * w
    if name == "up":  # ConvTranspose2d k4 s2: 2x2 of the 4x4 taps reach each output pixel
        return 2 * c2 * cout * 4 * h * w
    return 0


def group_of(name):
    if re.match(r"body\.\d+\.rdb\d\.conv\d$", name):
        return "dense-block convs"
    if re.match(r"body(\.\d+(\.rdb\d)?)?$", name) or name.endswith(".ca"):
        return "residual adds / attention"
    return name if not name.startswith("conv_up") else "conv_up*"


def parse_profile(stderr):
    """Profile lines as one list of (name, op, dims, ms) per image, in order."""
    images = []
    for line in stderr.splitlines():
        if line.startswith("profile: "):
            parts = line[len("profile: "):].split(" ")  # NAME OP (may hold spaces) DIMS MS
            name, op, dims, ms = parts[0], " ".join(parts[1:-2]), parts[-2], parts[-1]
            if name == "input":
                images.append([])
            images[-1].append((name, op, [int(v) for v in dims.split("x")], float(ms)))
    return images


def run_profile(model, command, image, threads):
    """One cold run: a fresh process (planning and first-touch page faults land in the first layers)."""
    r = subprocess.run([LUCENT, command, "--model", model, "--threads", str(threads), "--profile", image,
                        os.path.join(WORK, "profile-out.png")], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return parse_profile(r.stderr)[0]


def run_profile_warm(model, command, image, threads, reps):
    """reps warm runs: reps + 1 copies of the image through one process, the first dropped (the
    model keeps its plan and arena between them)."""
    copies = os.path.join(WORK, "profile-copies")
    os.makedirs(copies, exist_ok=True)
    paths = []
    for i in range(reps + 1):
        paths.append(os.path.join(copies, f"in{i:02d}.png"))
        shutil.copyfile(image, paths[-1])
    r = subprocess.run([LUCENT, command, "--model", model, "--threads", str(threads), "--profile", "-o",
                        os.path.join(WORK, "profile-out"), "--overwrite"] + paths, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    images = parse_profile(r.stderr)
    if len(images) != reps + 1:
        raise SystemExit(f"expected {reps + 1} profiled runs, got {len(images)}")
    return images[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="ssr6")
    ap.add_argument("--size", default="128x128")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cold", action="store_true",
                    help="a fresh process per repetition (default: warm runs in one process)")
    args = ap.parse_args()
    model = make_model(args.model)
    graph, meta, _ = lcw.read(model)
    command = "upscale" if graph == "ssr" else "enhance"
    w, h = (int(v) for v in args.size.split("x"))
    os.makedirs(WORK, exist_ok=True)
    image = os.path.join(WORK, f"profile-{w}x{h}.png")
    Image.fromarray((np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)).save(image)
    threads = [int(t) for t in args.threads.split(",")]
    if args.cold:
        runs = {t: [run_profile(model, command, image, t) for _ in range(args.reps)] for t in threads}
    else:
        runs = {t: run_profile_warm(model, command, image, t, args.reps) for t in threads}
    names = [r[0] for r in runs[threads[0]][0] if r[0] not in ("input", "output")]
    print(f"{args.model} ({os.path.basename(model)}), {w}x{h}, medians of {args.reps} {'cold' if args.cold else 'warm'} runs; GF/s = direct-conv "
          f"FLOPs / time (Winograd layers are effective rates); one core's FMA peak ~{PEAK_GFLOPS_PER_CORE:.0f}")
    header = "| layer | op | output | GFLOP |" + "".join(f" {t}T ms | {t}T GF/s |" for t in threads)
    print(header)
    print("|" + " --- |" * (4 + 2 * len(threads)))
    totals = collections.defaultdict(float)
    groups = {t: collections.defaultdict(float) for t in threads}
    flops_total = 0
    for i, name in enumerate(names):
        row = runs[threads[0]][0][i + 1]
        flops = conv_flops(graph, meta, name, row[2])
        flops_total += flops
        cells = []
        for t in threads:
            ms = statistics.median(run[i + 1][3] for run in runs[t])
            totals[t] += ms
            groups[t][group_of(name)] += ms
            cells.append(f" {ms:.2f} | {flops / ms / 1e6:.0f} |" if flops and ms > 0 else f" {ms:.2f} | - |")
        print(f"| {name} | {row[1]} | {'x'.join(map(str, row[2][1:]))} | {flops / 1e9:.3f} |" + "".join(cells))
    print()
    for t in threads:
        print(f"{t} thread(s): {totals[t]:.1f} ms in the graph, {flops_total / totals[t] / 1e6:.0f} GF/s overall "
              f"({flops_total / totals[t] / 1e6 / (PEAK_GFLOPS_PER_CORE * t) * 100:.0f} % of {t}-core FMA peak)")
        for g, ms in sorted(groups[t].items(), key=lambda kv: -kv[1])[:6]:
            print(f"   {g}: {ms:.1f} ms ({ms / totals[t] * 100:.0f} %)")
    if len(threads) >= 2:
        print(f"scaling {threads[0]} -> {threads[-1]} threads: {totals[threads[0]] / totals[threads[-1]]:.2f}x")


if __name__ == "__main__":
    main()
