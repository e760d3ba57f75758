#!/usr/bin/env python3
"""Peak memory and time of `lucent upscale` / `lucent enhance` streaming, beside the one-stripe
and the whole-image runs, in one run.

    /usr/bin/python3 bench/stream_memory.py [--graph ssr|red] [--size 2000x1500] [--blocks 6]
        [--threads 2] [--stripes auto,16,256] [--max-memory MIB] [--reps N]
        [--lucent build/lucent]

Model: SSR, an x4 RRDBNet with nf 64, gc 32 and --blocks RRDBs; RED, the docs/GRAPHS.md default
widths 64/128/256 with bins 1,2,3,6 (random weights as PyTorch initialises them; the time does
not depend on the values). RED runs in passes: "passes" forces the three-pass stream (encoder
computed again per pass, as when memory is short) through a small --max-memory. Input: scipy's public-domain
raccoon photo resized to --size, as an 8-bit PNG. Each configuration runs the whole CLI under
/usr/bin/time; the table gives peak RSS (MiB) and wall time (s), plus the output's SHA-256 so
equal bits are visible. "auto" is Lucent's default stripe; "whole" is one stripe of the whole
output height (chunks are still capped at ~64k pixels per layer, so rings stay small);
"unstreamed" is the whole-image plan (every layer once over the whole image, layers not alive
together sharing memory; taken through --profile, which traces that plan), the baseline for the
speed promise.
Needs python3-torch, python3-numpy, python3-pil, python3-scipy and GNU time (/usr/bin/time).
"""
import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import warnings
from statistics import median

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
from reference_models import RED, SSR  # noqa: E402


def photo(path, w, h):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import scipy.misc
        img = scipy.misc.face()
    Image.fromarray(img).resize((w, h), Image.BICUBIC).save(path)


def run(cmd):
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %M %e"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, r.stderr.strip().splitlines()[-2] if r.stderr.strip() else "failed"
    rss_kib, wall = r.stderr.strip().splitlines()[-1].split()[1:]
    return int(rss_kib) / 1024.0, float(wall), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lucent", default=os.path.join(ROOT, "build", "lucent"))
    ap.add_argument("--graph", choices=["ssr", "red"], default="ssr")
    ap.add_argument("--size", default="2000x1500")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stripes", default="auto,16,whole,unstreamed")
    ap.add_argument("--max-memory", type=int, default=0, help="also run with --max-memory MIB")
    ap.add_argument("--reps", type=int, default=1, help="rounds of every configuration (medians)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    tmp = tempfile.mkdtemp(prefix="lucent-stream-")
    torch.manual_seed(0)
    red = args.graph == "red"
    model = RED(c0=64, c1=128, c2=256) if red else SSR(nf=64, nb=args.blocks, gc=32, n_up=2)
    pth, lcw = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.lcw")
    torch.save({"params": model.state_dict(), "config": {"ppm_bins": [1, 2, 3, 6]}} if red
               else model.state_dict(), pth)
    subprocess.run([sys.executable, os.path.join(ROOT, "converters", "convert.py"), pth, lcw], check=True,
                   capture_output=True)
    src = os.path.join(tmp, "in.png")
    photo(src, w, h)
    scale = 1 if red else 4
    if red:
        print(f"RED 64/128/256, bins 1,2,3,6, {w}x{h}, --threads {args.threads}\n")
    else:
        print(f"x4 RRDBNet nf 64 gc 32, {args.blocks} blocks, {w}x{h} -> {4 * w}x{4 * h}, "
              f"--threads {args.threads}\n")
    configs = [(s, []) for s in args.stripes.split(",")]
    if args.max_memory:
        configs.append((f"auto, --max-memory {args.max_memory}", ["--max-memory", str(args.max_memory)]))
    # Rounds: every configuration once per round, in a shuffled order, so that the machine's drift (10-20 %
    # within minutes on shared VMs) hits them alike; the table gives medians, and each
    # configuration's time against the unstreamed run of the same round (median of the ratios).
    rows = {stripe: {"rss": [], "wall": [], "digest": None, "err": None} for stripe, _ in configs}
    order = random.Random(0)
    for _ in range(args.reps):
        # A fresh order each round: the slot in a round can matter too (page cache, clocks).
        for stripe, extra in order.sample(configs, len(configs)):
            out = os.path.join(tmp, "out.png")
            cmd = [args.lucent, "enhance" if red else "upscale", "--model", lcw, "--threads", str(args.threads),
                   *extra]
            if stripe == "whole":
                cmd += ["--stripe-rows", str(scale * h)]
            elif stripe == "passes":
                cmd += ["--max-memory", "200"]
            elif stripe == "unstreamed":
                cmd += ["--profile"]  # traced runs take the whole-image plan
            elif stripe.isdigit():
                cmd += ["--stripe-rows", stripe]
            rss, wall, err = run(cmd + [src, out])
            r = rows[stripe]
            if err:
                r["err"] = err
                r["wall"].append(None)
                continue
            with open(out, "rb") as f:
                r["digest"] = hashlib.sha256(f.read()).hexdigest()[:12]
            os.remove(out)
            r["rss"].append(rss)
            r["wall"].append(wall)
    base = rows.get("unstreamed", {}).get("wall", [])
    print(f"{args.reps} rounds, medians\n")
    print("| stripe | peak RSS (MiB) | wall (s) | time / unstreamed | output SHA-256 (first 12) |")
    print("| --- | --- | --- | --- | --- |")
    for stripe, _ in configs:
        r = rows[stripe]
        if r["err"]:
            print(f"| {stripe} | refused | - | - | {r['err']} |")
            continue
        ratios = [w / b for w, b in zip(r["wall"], base) if w and b]
        ratio = f"{median(ratios):.3f}" if ratios and stripe != "unstreamed" else "-"
        print(f"| {stripe} | {median(r['rss']):.0f} | {median(r['wall']):.1f} | {ratio} | {r['digest']} |",
              flush=True)
    print("\nwall per round (s): " + "; ".join(
        f"{stripe} " + " ".join(f"{w:.1f}" if w else "-" for w in rows[stripe]["wall"]) for stripe, _ in configs))

if __name__ == "__main__":
    main()
