#!/usr/bin/env python3
"""Lucent fp32 beside ONNX Runtime (onnxruntime-node, CPU) and PyTorch fp32, in one run, on the
models of the fp32 speed issue: a 6-block x4 RRDBNet and the 23-block x4plus shape at 128x128,
and RED at widths 64/128/256 at 576x576, each at 1 and 2 threads. Medians of --reps.

ORT: session.run alone on an ONNX export of the same weights (opset 13, static shapes), median
of --reps after one warm-up run in the same session. Lucent: "run" is the graph alone as
`--verbose` reports it. "warm" runs --reps + 1 copies of the input through one CLI process
(-o DIR) and takes the median of the runs after the first, as ORT's figure is taken: the model
keeps its plan and arena from the first run (Options::keep_working_memory). "cold" is the run of
a fresh process per repetition (planning and first-touch page faults included) and "cmd" that
whole process (load, read, run, write). The ratio is ORT / Lucent warm; the cold ratio beside it.
Last, Lucent's two-thread scaling from its warm medians.
PyTorch: forward under no_grad after one warm-up, torch.set_num_threads.

    bash bench/setup_ort.sh            # once: npm install onnxruntime-node into build-bench/ort
    python3 bench/compare_ort.py [--reps 3] [--models ssr6,ssr23,red64] [--no-torch]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "converters"))
import profile_layers  # noqa: E402  (model cache and lucent path)

SIZES = {"ssr6": (128, 128), "ssr23": (128, 128), "red64": (576, 576), "default-ssr": (256, 256),
         "default-red": (512, 512)}


def reference_module(name):
    import torch
    import lcw
    from reference_models import RED, SSR
    graph, meta, tensors = lcw.read(profile_layers.make_model(name))
    one = lambda v: v[0] if isinstance(v, list) and len(v) == 1 else v  # noqa: E731
    meta = {k: (v if k in ("up_factors", "ppm_bins") else one(v)) for k, v in meta.items()}
    if graph == "ssr":
        m = SSR(in_ch=meta["in_ch"], out_ch=meta["out_ch"], nf=meta["nf"], nb=meta["nb"], gc=meta["gc"],
                n_up=len(meta["up_factors"]))
    else:
        m = RED(in_ch=meta["in_ch"], out_ch=meta["out_ch"], c0=meta["c0"], c1=meta["c1"], c2=meta["c2"],
                bins=tuple(meta["ppm_bins"]), reduction=meta["reduction"], sa_kernel=meta["sa_kernel"])
    m.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()})
    return graph, m.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models", default="ssr6,ssr23,red64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-torch", action="store_true",
                    help="skip PyTorch fp32 (RED at 576x576 takes it ~50 s a repetition)")
    args = ap.parse_args()
    import torch
    ort_dir = os.path.join(profile_layers.WORK, "ort")
    have_ort = os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node"))
    if not have_ort:
        print("ONNX Runtime not installed (bash bench/setup_ort.sh); its column is left empty")
    print("| model | input | threads | ORT run | Lucent warm | Lucent cold | Lucent cmd | PyTorch fp32 "
          "| ORT / Lucent warm | ORT / Lucent cold |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    warm_by = {}  # (model, threads) -> Lucent warm median, for the scaling lines
    for name in args.models.split(","):
        w, h = SIZES[name]
        graph, module = reference_module(name)
        x = np.random.default_rng(0).random((1, 3, h, w)).astype(np.float32)
        base = os.path.join(profile_layers.WORK, f"{name}-{w}x{h}")
        onnx, raw, npy = base + ".onnx", base + ".f32", base + ".npy"
        if not os.path.exists(onnx):
            torch.onnx.export(module, torch.from_numpy(x), onnx, input_names=["x"], output_names=["y"],
                              opset_version=13)
        x.tofile(raw)
        np.save(npy, x[0].transpose(1, 2, 0))
        copies_dir = base + "-copies"
        os.makedirs(copies_dir, exist_ok=True)
        copies = []
        for i in range(args.reps + 1):
            copies.append(os.path.join(copies_dir, f"in{i:02d}.npy"))
            np.save(copies[-1], x[0].transpose(1, 2, 0))
        for t in (int(v) for v in args.threads.split(",")):
            ort_ms = ""
            if have_ort:
                r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), onnx, raw, "1", "3", str(h), str(w),
                                    str(t), str(args.reps)], capture_output=True, text=True,
                                   env=dict(os.environ, NODE_PATH=os.path.join(ort_dir, "node_modules")))
                m = re.search(r"ort_ms ([\d.]+)", r.stdout)
                ort_ms = float(m.group(1)) if m else None
                if m is None:
                    print(f"ORT failed on {name}: {r.stderr.strip()[:300]}")
            runs, cmds = [], []
            for _ in range(args.reps):
                t0 = time.perf_counter()
                r = subprocess.run([profile_layers.LUCENT, "upscale" if graph == "ssr" else "enhance", "--model",
                                    profile_layers.make_model(name), "--threads", str(t), "--verbose", npy,
                                    base + "-out.npy"], capture_output=True, text=True)
                cmds.append((time.perf_counter() - t0) * 1e3)
                runs.append(float(re.search(r"run ([\d.]+) ms", r.stderr).group(1)))
            r = subprocess.run([profile_layers.LUCENT, "upscale" if graph == "ssr" else "enhance", "--model",
                                profile_layers.make_model(name), "--threads", str(t), "--verbose", "-o",
                                base + "-out", "--ext", "npy", "--overwrite"] + copies,
                               capture_output=True, text=True)
            warm = [float(v) for v in re.findall(r"run ([\d.]+) ms", r.stderr)][1:]
            if len(warm) != args.reps:
                raise SystemExit(f"lucent -o run failed on {name}: {r.stderr.strip()[-300:]}")
            pt = []
            if not args.no_torch:
                torch.set_num_threads(t)
                with torch.no_grad():
                    module(torch.from_numpy(x))
                    for _ in range(args.reps):
                        t0 = time.perf_counter()
                        module(torch.from_numpy(x))
                        pt.append((time.perf_counter() - t0) * 1e3)
            run_ms, cmd_ms, warm_ms = statistics.median(runs), statistics.median(cmds), statistics.median(warm)
            warm_by[(name, t)] = warm_ms
            pt_cell = f"{statistics.median(pt):.0f} ms" if pt else "-"
            ratio = f"{ort_ms / warm_ms:.2f}x" if ort_ms else "-"
            cold_ratio = f"{ort_ms / run_ms:.2f}x" if ort_ms else "-"
            ort_cell = f"{ort_ms:.0f} ms" if ort_ms else "-"
            print(f"| {name} | {w}x{h} | {t} | {ort_cell} | {warm_ms:.0f} ms | {run_ms:.0f} ms | {cmd_ms:.0f} ms | "
                  f"{pt_cell} | {ratio} | {cold_ratio} |", flush=True)
    threads = [int(v) for v in args.threads.split(",")]
    for name in args.models.split(","):
        for t in threads[1:]:
            print(f"{name}: Lucent warm {threads[0]} -> {t} threads: "
                  f"{warm_by[(name, threads[0])] / warm_by[(name, t)]:.2f}x")


if __name__ == "__main__":
    main()
