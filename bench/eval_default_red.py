#!/usr/bin/env python3
"""Quality of `lucent enhance` (the embedded default RED model, run by the engine itself) on
the held-out photos, beside the simple baselines, at the seed's canonical degradation and at
heavier ones, with the default-model issue's acceptance checks at the end.

Degradation (as converters/train_red.py): dark = clip(clean ** gamma + N(0, sigma^2), 0, 1),
then quantised to an 8-bit PNG, which is what a user has. Baselines on the same 8-bit dark
image: the plain curve x ** (1/2.2), the oracle curve x ** (1/gamma) with the true gamma,
and the dark input itself. PSNR and SSIM on 8-bit RGB against the clean photo.

    /usr/bin/python3 bench/eval_default_red.py [--lucent build/lucent] [--model FILE.lcw]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
import photos  # noqa: E402

CANONICAL = [(2.2, 0.01)]
HEAVIER = [(2.6, 0.02), (2.6, 0.04), (3.0, 0.02), (3.0, 0.04)]


def scores(out, ref):
    a, b = photos.to_u8(out), photos.to_u8(ref)
    return photos.psnr(a, b), float(structural_similarity(a, b, channel_axis=2, data_range=255))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lucent", default=os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent")))
    ap.add_argument("--model", help="a RED .lcw instead of the embedded default")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lucent-eval-red-")
    rng = np.random.default_rng(2024)
    rows = []
    print("| photo | gamma | sigma | dark | x^(1/2.2) | oracle x^(1/gamma) | Lucent | Lucent - x^(1/2.2) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for gamma, sigma in CANONICAL + HEAVIER:
        for name in photos.HELD_OUT:
            clean = photos.load(name).astype(np.float64)
            dark = np.clip(clean ** gamma + rng.normal(0, sigma, clean.shape), 0, 1)
            dark8 = photos.to_u8(dark).astype(np.uint8)
            src, dst = os.path.join(tmp, "dark.png"), os.path.join(tmp, "out.png")
            Image.fromarray(dark8).save(src)
            cmd = [args.lucent, "enhance", src, dst] + (["--model", args.model] if args.model else [])
            subprocess.run(cmd, check=True)
            out = np.asarray(Image.open(dst)).astype(np.float64) / 255.0
            d = dark8.astype(np.float64) / 255.0
            r = {"photo": name, "gamma": gamma, "sigma": sigma, "dark": scores(d, clean),
                 "curve": scores(d ** (1 / 2.2), clean), "oracle": scores(d ** (1 / gamma), clean),
                 "model": scores(out, clean)}
            rows.append(r)
            cell = lambda s: f"{s[0]:.2f} / {s[1]:.3f}"  # noqa: E731
            print(f"| {name} | {gamma} | {sigma} | {cell(r['dark'])} | {cell(r['curve'])} | {cell(r['oracle'])} | "
                  f"{cell(r['model'])} | {r['model'][0] - r['curve'][0]:+.2f} dB |")
    canon = [r for r in rows if (r["gamma"], r["sigma"]) in CANONICAL]
    heavy = [r for r in rows if (r["gamma"], r["sigma"]) in HEAVIER]
    worst = min(r["model"][0] - r["curve"][0] for r in canon)
    ssim_better = all(r["model"][1] > r["curve"][1] for r in canon)
    heavy_gain = float(np.mean([r["model"][0] - r["curve"][0] for r in heavy]))
    print(f"\ncanonical (gamma 2.2, sigma 0.01): worst photo {worst:+.2f} dB against x^(1/2.2) "
          f"(target >= -0.30) [{'ok' if worst >= -0.3 else 'FAILS'}]; SSIM better on every photo: "
          f"{ssim_better} [{'ok' if ssim_better else 'FAILS'}]")
    print(f"heavier (gamma 2.6-3.0, sigma 0.02-0.04): mean {heavy_gain:+.2f} dB against x^(1/2.2) "
          f"(target >= +1.00) [{'ok' if heavy_gain >= 1.0 else 'FAILS'}]")


if __name__ == "__main__":
    main()
