#!/usr/bin/env python3
"""Lucent fp32 beside ONNX Runtime (onnxruntime-node, CPU) and PyTorch fp32, in one run, on the
models of the fp32 speed issue: a 6-block x4 RRDBNet and the 23-block x4plus shape at 128x128,
and RED at widths 64/128/256 at 576x576, each at 1 and 2 threads. Medians of --reps.

The measures run in --reps interleaved rounds, so that a slow minute of a shared machine lands
on every contender alike: each round runs, per thread count, ONNX Runtime, Lucent warm and
Lucent cold back to back, each in its own process. ORT: session.run alone on an ONNX export of
the same weights (opset 13, static shapes), the median of --inner runs after one warm-up in
the same session (its first run after the warm-up is still ~20 % slow at 576x576, so one run
is not its steady state). Lucent: the graph's run as `--verbose` reports it; "warm" is the
median of --inner copies after a first one through one CLI process (-o DIR), as ORT's figure is
taken (the model keeps its plan and arena from the first run, Options::keep_working_memory);
"cold" is a fresh process's run (planning and first-touch page faults included) and "cmd" that
whole process (load, read, run, write).
Cells are medians over the rounds; the ratio is the median of each round's ORT / Lucent warm
(its range in brackets), the cold ratio beside it; the scaling lines likewise take each round's
1-thread / 2-thread warm pair. PyTorch: forward under no_grad after one warm-up,
torch.set_num_threads, --reps runs after the rounds.
Paired scaling (--pair-rounds, --pairs): the figures above pair a 1-thread and a 2-thread
process run half a minute apart, and a shared VM's load changes on that scale, so the scaling
is measured again in time-adjacent pairs: bench_scaling (build/bench, public API) holds the
model at both thread counts in one process and alternates them, ort_run.js does the same with
two sessions; Lucent's and ORT's pair rounds alternate, and the line gives the median of all
pairs' 1-thread / 2-thread ratios with the quartiles. bench_scaling also times a cache line's
round trip between the two cores after each pair: the host moves a VM's vCPUs, and the pairs
are split by it as well (--far-ns: the round trip above which the cores count as far apart;
about 125 ns near and 340 ns far on the Zen 4 guests here). ORT's pair rounds count as near or
far when `bench_scaling --rtt` agrees before and after the round, else as mixed.
Before each round, bench/host_noise.py measures for --probe-seconds how much of each core the
host (hypervisor) took; the scaling lines print the worse core per round beside each engine's
own 1 -> 2 thread scaling, since a VM's two-thread figures move with it.

    bash bench/setup_ort.sh            # once: npm install onnxruntime-node into build-bench/ort
    python3 bench/compare_ort.py [--reps 3] [--inner 3] [--models ssr6,ssr23,red64] [--no-torch]
        [--competing-load]   # a busy loop on the last core throughout: a core shared with another process
        [--pair-rounds 3] [--pairs 4]   # paired scaling; needs build/bench/bench_scaling (0: skip)
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
import host_noise  # noqa: E402
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
    ap.add_argument("--reps", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--inner", type=int, default=3,
                    help="runs per round after a warm-up run, in one process (ORT, Lucent warm)")
    ap.add_argument("--models", default="ssr6,ssr23,red64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-torch", action="store_true",
                    help="skip PyTorch fp32 (RED at 576x576 takes it ~50 s a repetition)")
    ap.add_argument("--probe-seconds", type=float, default=3.0,
                    help="host-noise probe (bench/host_noise.py) before each round; 0: none")
    ap.add_argument("--pair-rounds", type=int, default=3,
                    help="rounds of paired 1/2-thread scaling (Lucent then ORT); 0: none")
    ap.add_argument("--pairs", type=int, default=4, help="pairs per engine and pair round")
    ap.add_argument("--far-ns", type=float, default=200.0,
                    help="core-to-core round trip above which a pair counts as 'far' (ns)")
    ap.add_argument("--competing-load", action="store_true",
                    help="run a busy loop pinned to the last core throughout (a shared machine)")
    args = ap.parse_args()
    load = None
    if args.competing_load:
        last = max(os.sched_getaffinity(0))
        load = subprocess.Popen(["taskset", "-c", str(last), sys.executable, "-c", "while True: pass"])
        print(f"a busy loop runs on core {last} throughout")
    try:
        measure(args)
    finally:
        if load is not None:
            load.kill()


def measure(args):
    import torch
    ort_dir = os.path.join(profile_layers.WORK, "ort")
    have_ort = os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node"))
    if not have_ort:
        print("ONNX Runtime not installed (bash bench/setup_ort.sh); its column is left empty")
    print("| model | input | threads | ORT run | Lucent warm | Lucent cold | Lucent cmd | PyTorch fp32 "
          "| ORT / Lucent warm | ORT / Lucent cold |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    threads = [int(v) for v in args.threads.split(",")]
    scaling_lines = []
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
        for i in range(args.inner + 1):
            copies.append(os.path.join(copies_dir, f"in{i:02d}.npy"))
            np.save(copies[-1], x[0].transpose(1, 2, 0))
        lucent = [profile_layers.LUCENT, "upscale" if graph == "ssr" else "enhance", "--model",
                  profile_layers.make_model(name), "--verbose"]
        # Per thread count, one list per measure; entry r is round r's figure.
        ort, warm, cold, cmd = ({t: [] for t in threads} for _ in range(4))
        noise = []
        for _ in range(args.reps):
            if args.probe_seconds > 0 and not args.competing_load:
                noise.append(host_noise.probe(args.probe_seconds))
            for t in threads:
                if have_ort:
                    r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), onnx, raw, "1", "3", str(h),
                                        str(w), str(t), str(args.inner)], capture_output=True, text=True,
                                       env=dict(os.environ, NODE_PATH=os.path.join(ort_dir, "node_modules")))
                    m = re.search(r"ort_ms ([\d.]+)", r.stdout)
                    if m is None:
                        raise SystemExit(f"ORT failed on {name}: {r.stderr.strip()[:300]}")
                    ort[t].append(float(m.group(1)))
                # Warm: --inner copies after a first one through one process (plan and arena kept).
                r = subprocess.run(lucent + ["--threads", str(t), "-o", base + "-out", "--ext", "npy",
                                             "--overwrite"] + copies, capture_output=True, text=True)
                runs = [float(v) for v in re.findall(r"run ([\d.]+) ms", r.stderr)]
                if r.returncode != 0 or len(runs) != args.inner + 1:
                    raise SystemExit(f"lucent -o run failed on {name}: {r.stderr.strip()[-300:]}")
                warm[t].append(statistics.median(runs[1:]))
                t0 = time.perf_counter()
                r = subprocess.run(lucent + ["--threads", str(t), npy, base + "-out.npy"], capture_output=True,
                                   text=True)
                cmd[t].append((time.perf_counter() - t0) * 1e3)
                cold[t].append(float(re.search(r"run ([\d.]+) ms", r.stderr).group(1)))
        med = statistics.median
        for t in threads:
            pt = []
            if not args.no_torch:
                torch.set_num_threads(t)
                with torch.no_grad():
                    module(torch.from_numpy(x))
                    for _ in range(args.reps):
                        t0 = time.perf_counter()
                        module(torch.from_numpy(x))
                        pt.append((time.perf_counter() - t0) * 1e3)
            pt_cell = f"{med(pt):.0f} ms" if pt else "-"
            if have_ort:
                ratios = [o / l for o, l in zip(ort[t], warm[t])]
                ratio = f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
                cold_ratio = f"{med([o / l for o, l in zip(ort[t], cold[t])]):.2f}x"
                ort_cell = f"{med(ort[t]):.0f} ms"
            else:
                ratio = cold_ratio = ort_cell = "-"
            print(f"| {name} | {w}x{h} | {t} | {ort_cell} | {med(warm[t]):.0f} ms | {med(cold[t]):.0f} ms | "
                  f"{med(cmd[t]):.0f} ms | {pt_cell} | {ratio} | {cold_ratio} |", flush=True)
        for t in threads[1:]:
            sc = [a / b for a, b in zip(warm[threads[0]], warm[t])]
            line = (f"{name}: Lucent warm {threads[0]} -> {t} threads: {med(sc):.2f}x "
                    f"(rounds {' '.join(f'{v:.2f}' for v in sc)})")
            if have_ort:
                so = [a / b for a, b in zip(ort[threads[0]], ort[t])]
                line += f"; ORT {med(so):.2f}x (rounds {' '.join(f'{v:.2f}' for v in so)})"
            if noise:
                # The worst core of each round's probe: the host's share of a core just before.
                line += "; host took " + " ".join(
                    f"{100 * max(f for f, _, _ in r.values()):.1f}%" for r in noise) + " of a core"
            scaling_lines.append(line)
        if args.pair_rounds > 0 and len(threads) == 2:
            scaling_lines.append(paired_scaling(args, name, onnx if have_ort else None, raw, w, h,
                                                threads, ort_dir))
    for line in scaling_lines:
        print(line)


def core_rtt(exe):
    """The two cores' cache-line round trip in ns (bench_scaling --rtt), -1 if unknown."""
    r = subprocess.run([exe, "--rtt"], capture_output=True, text=True)
    m = re.search(r"rtt (-?[\d.]+) ns", r.stdout)
    return float(m.group(1)) if m else -1.0


def paired_scaling(args, name, onnx, raw, w, h, threads, ort_dir):
    """The median 1-thread / 2-thread ratio over time-adjacent pairs, Lucent's and ORT's rounds
    alternating (see the module text)."""
    exe = os.environ.get("LUCENT_BENCH_SCALING",
                         os.path.join(os.path.dirname(profile_layers.LUCENT), "bench", "bench_scaling"))
    if not os.path.exists(exe):
        return f"{name}: paired scaling skipped: {exe} missing (configure with -DLUCENT_BUILD_BENCH=ON)"
    ta, tb = threads
    lucent, rtt, ort = [], [], []
    for _ in range(args.pair_rounds):
        r = subprocess.run([exe, profile_layers.make_model(name), str(w), str(h), str(args.pairs), str(ta),
                            str(tb)], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"bench_scaling failed on {name}: {r.stderr.strip()[-300:]}")
        for ratio, ns in re.findall(r"threads [\d.]+ ms, ([\d.]+)x, rtt (-?[\d.]+) ns", r.stdout):
            lucent.append(float(ratio))
            rtt.append(float(ns))
        if onnx is not None:
            before = core_rtt(exe)
            r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), onnx, raw, "1", "3", str(h), str(w),
                                str(ta), str(args.pairs), str(tb)], capture_output=True, text=True,
                               env=dict(os.environ, NODE_PATH=os.path.join(ort_dir, "node_modules")))
            m = re.search(r"ort_pairs ([\d. ]+)", r.stdout)
            if m is None:
                raise SystemExit(f"ORT pairs failed on {name}: {r.stderr.strip()[:300]}")
            after = core_rtt(exe)
            where = ("far" if before > args.far_ns else "near") if (before > args.far_ns) == (
                after > args.far_ns) and min(before, after) >= 0 else "mixed"
            ort += [(float(v), where) for v in m.group(1).split()]

    def summary(v):
        q = sorted(v)
        return (f"{statistics.median(v):.2f}x (quartiles {q[(len(q) - 1) // 4]:.2f}-"
                f"{q[(len(q) - 1) * 3 // 4]:.2f}, {len(v)} pairs)")
    line = f"{name}: paired {ta} -> {tb} threads: Lucent {summary(lucent)}"
    near = [v for v, ns in zip(lucent, rtt) if 0 <= ns <= args.far_ns]
    far = [v for v, ns in zip(lucent, rtt) if ns > args.far_ns]
    if near and far:
        line += f" [cores near: {summary(near)}; far: {summary(far)}]"
    elif rtt:
        line += f" [all pairs {'far' if far else 'near'}: core round trip median {statistics.median(rtt):.0f} ns]"
    if ort:
        line += f"; ORT {summary([v for v, _ in ort])}"
        parts = [f"{w}: {summary([v for v, x in ort if x == w])}" for w in ("near", "far", "mixed")
                 if any(x == w for _, x in ort)]
        line += f" [{'; '.join(parts)}]"
    return line


if __name__ == "__main__":
    main()
