#!/usr/bin/env python3
"""The bf16 tier beside fp32 and PyTorch, whole models, measured in one run (medians).

    /usr/bin/python3 bench/bf16_speed.py [--lucent build/lucent] [--reps 5] [--threads 1,2]
        [--models ssr6:128,ssr6:256,ssr23:128,red:512]

For each model and thread count: Lucent's model run alone (`--verbose` "run" time of
`lucent upscale|enhance --threads T` on an .npy input, so no codec is timed) with
`--precision fp32` and `--precision bf16`, and PyTorch's forward of the same module in fp32
and in bf16 channels-last (`model.to(memory_format=torch.channels_last).bfloat16()`, the
fastest PyTorch setting here), torch.set_num_threads(T), under torch.no_grad(). Also the 8-bit
agreement of each bf16 output with Lucent's fp32 output (PSNR, largest difference in levels).
Models: x4 RRDBNet nf 64 gc 32 with 6 or 23 blocks (random weights as PyTorch initialises
them) at SIZE x SIZE, and RED with the default widths (64/128/256, bins 1 2 3 6) at SIZE.
Needs python3-torch and python3-numpy.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
from reference_models import RED, SSR  # noqa: E402


def build(kind, tmp):
    torch.manual_seed(0)
    model = SSR(nf=64, nb=int(kind[3:]), gc=32, n_up=2) if kind.startswith("ssr") else RED()
    model.eval()
    pth, lcw_path = os.path.join(tmp, f"{kind}.pth"), os.path.join(tmp, f"{kind}.lcw")
    state = model.state_dict()
    torch.save({"params": state, "config": {"ppm_bins": [1, 2, 3, 6]}} if kind == "red" else state, pth)
    subprocess.run([sys.executable, os.path.join(ROOT, "converters", "convert.py"), pth, lcw_path], check=True,
                   capture_output=True)
    return model, lcw_path


def to_u8(a):
    return np.round(np.clip(a, 0, 1) * 255).astype(np.int32)


def lucent_run(args, kind, lcw_path, src, out, threads, precision):
    cmd = [args.lucent, "upscale" if kind.startswith("ssr") else "enhance", "--model", lcw_path, "--threads",
           str(threads), "--precision", precision, "--verbose", src, out]
    times = []
    for _ in range(args.reps):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        times.append(float(re.search(r"run ([0-9.]+) ms", r.stderr).group(1)))
    return statistics.median(times), np.load(out)


def torch_run(model, x, threads, reps):
    torch.set_num_threads(threads)
    times = []
    with torch.no_grad():
        y = model(x)
        for _ in range(reps):
            t0 = time.perf_counter()
            y = model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, y.float()


def agreement(a, b):
    d = to_u8(a) - to_u8(b)
    mse = float((d ** 2).mean())
    return (99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)), int(np.abs(d).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lucent", default=os.path.join(ROOT, "build", "lucent"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="ssr6:128,ssr6:256,ssr23:128,red:512")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lucent-bf16-")
    print("| model | size | threads | Lucent fp32 ms | Lucent bf16 ms | PyTorch fp32 ms | PyTorch bf16-CL ms "
          "| bf16 vs Lucent fp32 | PyTorch bf16 vs Lucent fp32 | Lucent bf16 speed-up | vs PyTorch bf16 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    built = {}
    for spec in args.models.split(","):
        kind, size = spec.split(":")
        size = int(size)
        if kind not in built:
            built[kind] = build(kind, tmp)
        model, lcw_path = built[kind]
        rng = np.random.default_rng(1)
        img = rng.random((size, size, 3)).astype(np.float32)
        img = (img * 0.3 + np.linspace(0, 0.7, size, dtype=np.float32)[None, :, None]).astype(np.float32)
        src, out = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(src, img)
        x = torch.from_numpy(img).permute(2, 0, 1)[None].contiguous()
        cl = model.to(memory_format=torch.channels_last)
        xb = x.contiguous(memory_format=torch.channels_last).bfloat16()
        for threads in (int(t) for t in args.threads.split(",")):
            f_ms, f_out = lucent_run(args, kind, lcw_path, src, out, threads, "fp32")
            b_ms, b_out = lucent_run(args, kind, lcw_path, src, out, threads, "bf16")
            model.float().to(memory_format=torch.contiguous_format)
            tf_ms, _ = torch_run(model, x, threads, args.reps)
            try:
                tb_ms, tb_out = torch_run(cl.bfloat16(), xb, threads, args.reps)
                p2, m2 = agreement(tb_out[0].permute(1, 2, 0).numpy(), f_out)
            except RuntimeError:  # PyTorch 1.13's bf16 channels-last ConvTranspose2d fails on RED
                tb_ms, p2, m2 = float("nan"), float("nan"), -1
            model.float().to(memory_format=torch.contiguous_format)
            p1, m1 = agreement(b_out, f_out)
            print(f"| {kind} | {size} | {threads} | {f_ms:.0f} | {b_ms:.0f} | {tf_ms:.0f} | {tb_ms:.0f} "
                  f"| {p1:.1f} dB, max {m1} | {p2:.1f} dB, max {m2} | {f_ms / b_ms:.2f}x | {tb_ms / b_ms:.2f}x |",
                  flush=True)


if __name__ == "__main__":
    main()
