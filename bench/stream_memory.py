#!/usr/bin/env python3
"""Peak memory and time of `lucent upscale` / `lucent enhance` streaming, beside the one-stripe
and the whole-image runs, in one run.

    /usr/bin/python3 bench/stream_memory.py [--graph ssr|red] [--size 2000x1500] [--blocks 6]
        [--threads 2] [--stripes auto,16,256] [--max-memory MIB] [--lucent build/lucent]

Model: SSR, an x4 RRDBNet with nf 64, gc 32 and --blocks RRDBs; RED, the docs/GRAPHS.md default
widths 64/128/256 with bins 1,2,3,6 (random weights as PyTorch initialises them; the time does
not depend on the values). RED runs in passes: "passes" forces the three-pass stream (encoder
computed again per pass, as when memory is short) through a small --max-memory. Input: scipy's public-domain
raccoon photo resized to --size, as an 8-bit PNG. Each configuration runs the whole CLI under
/usr/bin/time; the table gives peak RSS (MiB) and wall time (s), plus the output's SHA-256 so
equal bits are visible. "auto" is Lucent's default stripe; "whole" is one stripe of the whole
output height (chunks are still capped at ~16k pixels per layer, so rings stay small);
"unstreamed" is the whole-image plan (every layer once over the whole image, layers not alive
together sharing memory; taken through --profile, which traces that plan), the baseline for the
speed promise.
Needs python3-torch, python3-numpy, python3-pil, python3-scipy and GNU time (/usr/bin/time).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import warnings

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
    print("| stripe | peak RSS (MiB) | wall (s) | output SHA-256 (first 12) |")
    print("| --- | --- | --- | --- |")
    configs = [(s, []) for s in args.stripes.split(",")]
    if args.max_memory:
        configs.append((f"auto, --max-memory {args.max_memory}", ["--max-memory", str(args.max_memory)]))
    for stripe, extra in configs:
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
        if err:
            print(f"| {stripe} | refused | - | {err} |")
            continue
        with open(out, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        os.remove(out)
        print(f"| {stripe} | {rss:.0f} | {wall:.1f} | {digest} |", flush=True)


if __name__ == "__main__":
    main()
