#!/usr/bin/env python3
"""PSNR of `lucent upscale` (the embedded default x4 model, run by the engine, not PyTorch) on
the held-out photos against bicubic, with the same degradation as converters/train_ssr.py.

    /usr/bin/python3 bench/eval_default_ssr.py [--lucent build/lucent]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
import photos  # noqa: E402
from train_ssr import SCALE, bicubic_up, downscale  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lucent", default=os.path.join(ROOT, "build", "lucent"))
    ap.add_argument("--model", help="an SSR x4 .lcw instead of the embedded default")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lucent-eval-")
    gains = []
    print("| photo | size | bicubic PSNR | lucent default x4 PSNR | gain |")
    print("| --- | --- | --- | --- | --- |")
    for name in photos.HELD_OUT:
        img = photos.load(name)
        h, w = img.shape[0] // SCALE * SCALE, img.shape[1] // SCALE * SCALE
        hr = torch.from_numpy(img[:h, :w]).permute(2, 0, 1)[None].contiguous()
        lr = downscale(hr)
        np.save(os.path.join(tmp, "lr.npy"), lr[0].permute(1, 2, 0).numpy().astype(np.float32))
        subprocess.run([args.lucent, "upscale", os.path.join(tmp, "lr.npy"), os.path.join(tmp, "sr.npy")] +
                       (["--model", args.model] if args.model else []), check=True)
        ref = photos.to_u8(hr[0].permute(1, 2, 0).numpy())
        bic = photos.psnr(photos.to_u8(bicubic_up(lr)[0].permute(1, 2, 0).numpy()), ref)
        got = photos.psnr(photos.to_u8(np.load(os.path.join(tmp, "sr.npy"))), ref)
        gains.append((bic, got))
        print(f"| {name} | {w}x{h} | {bic:.2f} dB | {got:.2f} dB | {got - bic:+.2f} dB |")
    b, m = np.mean([g[0] for g in gains]), np.mean([g[1] for g in gains])
    print(f"| mean | | {b:.2f} dB | {m:.2f} dB | {m - b:+.2f} dB |")


if __name__ == "__main__":
    main()
