#!/usr/bin/env python3
"""Times Lucent's conv kernels and PyTorch's CPU convolution (oneDNN where the build has it)
on the same shapes, in one run, and prints them side by side with medians.

Usage: python3 bench/compare_torch.py [--bench build/bench/bench_ops] [--reps 7] [--markdown]
Needs python3-torch (benchmarking only; never a run-time dependency of Lucent).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch

CONV_SHAPES = [(64, 32), (96, 32), (128, 32), (160, 32), (192, 64), (64, 64)]
HW = 128
DECONV = (256, 128, 64)
ISAS = ["scalar", "avx2", "avx512"]


def torch_median_ms(module, x, threads, reps):
    torch.set_num_threads(threads)
    with torch.no_grad():
        for _ in range(3):
            module(x)
        times = []
        for _ in range(reps):
            # Each sample averages several calls so that short layers are not timer-bound.
            n = 5
            start = time.perf_counter()
            for _ in range(n):
                module(x)
            times.append((time.perf_counter() - start) / n)
    return statistics.median(times) * 1e3


def torch_times(reps):
    out = {}
    for cin, cout in CONV_SHAPES:
        conv = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.LeakyReLU(0.2))
        x = torch.rand(1, cin, HW, HW)
        for t in (1, 2):
            out[("conv", cin, cout, t)] = torch_median_ms(conv, x, t, reps)
    cin, cout, hw = DECONV
    deconv = torch.nn.Sequential(torch.nn.ConvTranspose2d(cin, cout, 4, 2, 1), torch.nn.LeakyReLU(0.2))
    x = torch.rand(1, cin, hw, hw)
    for t in (1, 2):
        out[("deconv", cin, cout, t)] = torch_median_ms(deconv, x, t, reps)
    return out


def lucent_times(bench, reps):
    cmd = [bench, "--benchmark_format=json", f"--benchmark_repetitions={reps}",
           "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.2"]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    data = json.loads(res.stdout)
    out = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median" or b.get("error_occurred"):
            continue
        name = b["run_name"]
        kind = "conv" if name.startswith("BM_Conv2d3x3") else "deconv"
        fields = dict(part.split(":") for part in name.split("/")[1:] if ":" in part)
        key = (kind, int(fields["cin"]), int(fields["cout"]), int(fields["threads"]), ISAS[int(fields["isa"])])
        out[key] = b["real_time"]  # milliseconds (bench unit)
    return out, data.get("context", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default="build/bench/bench_ops")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    tt = torch_times(args.reps)
    lt, ctx = lucent_times(args.bench, args.reps)
    print(f"torch {torch.__version__}, oneDNN: {torch.backends.mkldnn.is_available()}; "
          f"Lucent hardware ISA: {ctx.get('lucent_hardware_isa', '?')}; CPUs: {ctx.get('num_cpus', '?')}; "
          f"medians of {args.reps}")
    rows = []
    for (kind, cin, cout, t), torch_ms in sorted(tt.items()):
        hw = HW if kind == "conv" else DECONV[2]
        k = 9 if kind == "conv" else 16
        gflop = 2 * cin * cout * k * hw * hw / 1e9
        cells = []
        for isa in ISAS:
            ms = lt.get((kind, cin, cout, t, isa))
            cells.append(f"{ms:.2f} ms ({gflop / ms * 1e3:.0f} GF/s)" if ms else "n/a")
        best = lt.get((kind, cin, cout, t, "avx512"))
        ratio = f"{torch_ms / best:.2f}x" if best else "n/a"
        layer = f"{'conv3x3' if kind == 'conv' else 'deconv4x4s2'} {cin}->{cout} @{hw}"
        rows.append([layer, str(t), f"{torch_ms:.2f} ms ({gflop / torch_ms * 1e3:.0f} GF/s)", *cells, ratio])
    header = ["layer", "threads", "PyTorch", "Lucent scalar", "Lucent avx2", "Lucent avx512", "avx512 speed-up vs PyTorch"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        for r in [header] + rows:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
