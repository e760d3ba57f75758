#!/usr/bin/env python3
"""Trains Lucent's embedded default RED low-light model on skimage's public-domain photos.

    /usr/bin/python3 converters/train_red.py --out build-train-red --minutes 12 --patch 64 --seed 1
    /usr/bin/python3 converters/convert.py build-train-red/red_lowlight.pth models/default/red_lowlight.lcw

Synthetic low light: dark = clip(clean ** gamma + N(0, sigma^2), 0, 1) with gamma drawn from
[1.8, 3.2] and sigma from [0.005, 0.04] per training crop. Loss: L1.

Evaluation (metrics.json): every HELD_OUT photo at gamma 2, 2.5, 3 and sigma 0.01, 0.03 (fixed
noise seed), PSNR and SSIM on 8-bit RGB for the dark input, the plain gamma-correction baseline
dark ** (1 / 2.5) (one fixed gamma, what a user without the model would do), the same with the
true gamma of each pair (an oracle, for reference), and the model.
Needs python3-torch, python3-numpy, python3-skimage.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photos  # noqa: E402
import training  # noqa: E402
from reference_models import RED  # noqa: E402

CONFIG = dict(c0=24, c1=48, c2=96, bins=[1, 2, 3, 6], reduction=8)
BASELINE_GAMMA = 2.5
EVAL_GAMMAS = (2.0, 2.5, 3.0)
EVAL_SIGMAS = (0.01, 0.03)


class FastDeconv(torch.nn.Module):
    """ConvTranspose2d(k=4, s=2, p=1) computed as a 3x3 convolution to 4x the channels and a
    pixel shuffle: the same function and the same parameters (state_dict keys up.weight /
    up.bias in ConvTranspose2d layout), but this PyTorch build has no fast transposed
    convolution and the training would spend most of its time there."""

    def __init__(self, deconv):
        super().__init__()
        self.weight, self.bias = deconv.weight, deconv.bias

    def forward(self, x):
        w = self.weight  # [c2, c1, 4, 4]
        c2, c1 = w.shape[:2]
        zeros = w.new_zeros(c1, c2)
        phases = []
        for ry in (0, 1):
            for rx in (0, 1):
                rows = []
                for a in range(3):
                    ky = ry + 3 - 2 * a
                    row = [w[:, :, ky, rx + 3 - 2 * b].t() if 0 <= ky < 4 and 0 <= rx + 3 - 2 * b < 4 else zeros
                           for b in range(3)]
                    rows.append(torch.stack(row, -1))
                phases.append(torch.stack(rows, -2))  # [c1, c2, 3, 3]
        kernel = torch.stack(phases, 1).reshape(4 * c1, c2, 3, 3)
        return F.pixel_shuffle(F.conv2d(x, kernel, self.bias.repeat_interleave(4), padding=1), 2)


def darken(clean, gamma, sigma, gen):
    noise = torch.randn(clean.shape, generator=gen) * sigma
    return (clean.clamp(0, 1) ** gamma + noise).clamp(0, 1)


def scores(out, ref):
    a, b = photos.to_u8(out), photos.to_u8(ref)
    return photos.psnr(a, b), float(structural_similarity(a, b, channel_axis=2, data_range=255))


def evaluate(model):
    model.eval()
    gen = torch.Generator().manual_seed(12345)
    rows = []
    with torch.no_grad():
        for name in photos.HELD_OUT:
            clean = torch.from_numpy(photos.load(name)).permute(2, 0, 1)[None]
            for g in EVAL_GAMMAS:
                for s in EVAL_SIGMAS:
                    dark = darken(clean, g, s, gen)
                    ref = clean[0].permute(1, 2, 0).numpy()
                    outs = {"dark": dark, "gamma_baseline": dark ** (1.0 / BASELINE_GAMMA),
                            "gamma_oracle": dark ** (1.0 / g), "model": model(dark)}
                    row = {"photo": name, "gamma": g, "sigma": s}
                    for k, v in outs.items():
                        row[k] = scores(v[0].permute(1, 2, 0).numpy(), ref)
                    rows.append(row)
    model.train()
    summary = {}
    for k in ("dark", "gamma_baseline", "gamma_oracle", "model"):
        summary[k] = {"psnr": float(np.mean([r[k][0] for r in rows])),
                      "ssim": float(np.mean([r[k][1] for r in rows]))}
    return {"pairs": rows, "mean": summary}


def batches(imgs, patch, batch, gen):
    while True:
        clean = photos.random_crops(imgs, patch, batch, gen)
        gamma = 1.8 + 1.4 * torch.rand(batch, 1, 1, 1, generator=gen)
        sigma = 0.005 + 0.035 * torch.rand(batch, 1, 1, 1, generator=gen)
        dark = (clean ** gamma + torch.randn(clean.shape, generator=gen) * sigma).clamp(0, 1)
        yield dark, clean


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--max-iters", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--patch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model = RED(**CONFIG)
    fast = FastDeconv(model.up)
    probe = torch.rand(1, CONFIG["c2"], 5, 7)
    with torch.no_grad():
        assert torch.allclose(fast(probe), model.up(probe), atol=1e-5), "FastDeconv is not ConvTranspose2d"
    model.up = fast
    imgs = photos.train_photos()
    it, seconds = training.train(model, batches(imgs, args.patch, args.batch, gen),
                                 F.l1_loss, args.lr, args.minutes, args.max_iters)
    metrics = evaluate(model)
    metrics.update({"iterations": it, "train_seconds": seconds, "config": CONFIG,
                    "seed": args.seed, "batch": args.batch, "patch": args.patch, "lr": args.lr,
                    "baseline_gamma": BASELINE_GAMMA, "torch": torch.__version__})
    torch.save({"params": model.state_dict(), "config": {"ppm_bins": CONFIG["bins"]}},
               os.path.join(args.out, "red_lowlight.pth"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps(metrics["mean"], indent=1))
    m, b = metrics["mean"]["model"], metrics["mean"]["gamma_baseline"]
    if m["psnr"] <= b["psnr"] or m["ssim"] <= b["ssim"]:
        print("warning: the model does not beat the gamma baseline on both PSNR and SSIM", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
