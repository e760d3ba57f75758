#!/usr/bin/env python3
"""What the Python package costs and gives, in one run on this machine:

1. Overhead: lucent.Model.run on a SIZE x SIZE uint8 array against the same run_image call made
   from C++ inside the extension (no Python between the calls), interleaved rounds, medians.
2. Throughput: a folder of IMAGES SIZE x SIZE photos through lucent.dask with 1 and 2 worker
   processes (LocalCluster on 127.0.0.1, one thread each, --threads 1 per task) beside one
   `lucent upscale -o` process (--threads 2), images/s, interleaved rounds.

Run with the interpreter the package is installed for (a venv made with
--system-site-packages, README "Python"):

    VENV/bin/python bench/bench_python.py [--size 512] [--images 6] [--rounds 3] [--task upscale]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def photo(size, seed):
    """A smooth, photo-like test image (low-pass noise), so codecs and models see real structure."""
    rng = np.random.default_rng(seed)
    small = rng.random((size // 16 + 2, size // 16 + 2, 3))
    from PIL import Image
    img = Image.fromarray((small * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    noise = rng.normal(0, 6, (size, size, 3))
    return np.clip(np.asarray(img).astype(np.float64) + noise, 0, 255).astype(np.uint8)


def overhead(args):
    import lucent
    m = lucent.Model(task=args.task, threads=args.threads)
    x = photo(args.size, 1)
    out = np.empty(m.output_shape(x.shape), np.uint8)
    m.run(x)  # plan and warm
    py, cpp = [], []
    for _ in range(args.rounds * 2):
        t = time.perf_counter()
        m.run(x)
        py.append(time.perf_counter() - t)
        cpp.extend(m._m.time_cpp_runs(x, out, 1))
    mp, mc = statistics.median(py), statistics.median(cpp)
    print(f"overhead: Model.run {mp * 1e3:.1f} ms, C++ run_image {mc * 1e3:.1f} ms (medians of {len(py)} "
          f"interleaved runs, {args.size}x{args.size} uint8, {m.threads} threads): {100 * (mp / mc - 1):+.2f} %")


def throughput(args):
    import distributed

    import lucent.dask
    lucent_bin = os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent"))
    with tempfile.TemporaryDirectory(prefix="lucent-bench-") as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        from PIL import Image
        for i in range(args.images):
            Image.fromarray(photo(args.size, 10 + i)).save(os.path.join(src, f"p{i:02d}.png"))
        clusters = {}
        for n in (1, 2):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                               dashboard_address=":0", silence_logs=40)
            clusters[n] = (cluster, distributed.Client(cluster))
            # Warm each worker's model once, outside the timing.
            lucent.dask.process_files(clusters[n][1], src, os.path.join(tmp, f"warm{n}"), task=args.task)
        rates = {"cli": [], 1: [], 2: []}
        for r in range(args.rounds):
            out = os.path.join(tmp, f"cli{r}")
            t = time.perf_counter()
            subprocess.run([lucent_bin, args.task, "--threads", "2", "-o", out, src], check=True,
                           capture_output=True)
            rates["cli"].append(args.images / (time.perf_counter() - t))
            for n in (1, 2):
                out = os.path.join(tmp, f"dask{n}_{r}")
                t = time.perf_counter()
                res = lucent.dask.process_files(clusters[n][1], src, out, task=args.task)
                assert all(x.status == "written" for x in res), res
                rates[n].append(args.images / (time.perf_counter() - t))
        for n in (1, 2):
            clusters[n][1].close()
            clusters[n][0].close()
    cli = statistics.median(rates["cli"])
    print(f"throughput ({args.images} x {args.size}x{args.size} PNG, {args.task}, medians of {args.rounds} "
          f"interleaved rounds):")
    print(f"  lucent {args.task} -o, one process, --threads 2: {cli:.3f} images/s")
    for n in (1, 2):
        v = statistics.median(rates[n])
        print(f"  lucent.dask, {n} worker(s) x 1 thread:      {v:.3f} images/s ({v / cli:.2f}x the CLI)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads for the overhead runs")
    ap.add_argument("--task", choices=["upscale", "enhance"], default="upscale")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, machine: {os.cpu_count()} cores")
    overhead(args)
    if not args.skip_dask:
        throughput(args)


if __name__ == "__main__":
    main()
