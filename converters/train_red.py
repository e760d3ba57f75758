#!/usr/bin/env python3
"""Trains Lucent's embedded default RED low-light model on public-domain photos (photos.py).

    /usr/bin/python3 converters/train_red.py --out build-train-red --minutes 45 --threads 2 \
        --patch 192 --batch 8 --lr 5e-4 --seed 5 --dark-photos --fixed-curve
    /usr/bin/python3 converters/convert.py build-train-red/red_lowlight.pth models/default/red_lowlight.lcw
    /usr/bin/python3 bench/eval_default_red.py      # the shipped binary on the held-out photos

The shipped default continues that run with two MSE fine-tunes (--init, --loss mse, --warmup):
README, "Default RED low-light", has the exact commands.

Synthetic low light, as a user has it: dark = clip(clean ** gamma + N(0, sigma^2), 0, 1),
quantised to 8 bits: half the crops near the canonical gamma 2.2 / sigma 0.01 that users meet
most, the rest anywhere in gamma [1.8, 3.2] and sigma [0.005, 0.045].
Loss: L1, or MSE (--loss mse: what PSNR measures, and what the shipped fine-tunes used). The
forward pass runs in bf16 autocast (training.py), except enc0 and out, which carry the start
curve and run in fp32 (Fp32Conv); the weights stay fp32.

Start: the skip path x -> enc0 -> lrelu -> (+ d0) -> out -> sigmoid is set up as the plain curve
x ** (1 / 2.2) per channel (a least-squares fit of its logit by lrelu hinge units on enc0's
centre taps), and the decoder's last conv starts small. A net without a global skip otherwise
spends its first thousands of steps learning the tone curve and colour; this way it starts at
the simple baseline and learns what the baseline misses (the right curve for each image from
the pooled statistics, and denoising).

Evaluation (metrics.json): every HELD_OUT photo at the canonical degradation (gamma 2.2,
sigma 0.01) and heavier ones, PSNR and SSIM on 8-bit RGB for the dark input, the plain curve
x ** (1 / 2.2), the oracle curve x ** (1 / gamma) and the model (the same table as
bench/eval_default_red.py, which runs the shipped binary instead of PyTorch).
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
CURVE_GAMMA = 2.2
CURVE_UNITS = 8  # enc0 channels per colour channel that start as the curve
CANONICAL = [(2.2, 0.01)]
HEAVIER = [(2.6, 0.02), (2.6, 0.04), (3.0, 0.02), (3.0, 0.04)]
# Darkened, a night sky at gamma 2.2 looks like a daylight scene at gamma 3: the model, which
# must read the degradation from the image's pooled statistics, cannot always tell them apart.
# With plain L1 it learned to split the difference (-9.7 dB at the canonical setting on dark
# photos); without dark photos it brightened every dark scene (-4.8 dB on the held-out rocket).
# The hinge term (--hinge) instead charges every crop where the model does worse than the plain
# curve, so where the degradation is ambiguous the model stays near the curve; --dark-photos adds
# the dark photos (Hubble deep field, moon, coins) and validates on one. The shipped default was
# trained with neither (README's command). A 40-minute fine-tune of it with both (--init ...
# --dark-photos --hinge 4 --lr 2e-4 --seed 4) reached, on the held-out photos, a canonical worst
# of -2.24 dB (shipped: -4.79) with SSIM better on all three, but a heavier mean of +0.80 dB
# (shipped: +1.40): it still misses, so it was not shipped.
RED_TRAIN = ["astronaut", "motorcycle_left", "motorcycle_right", "brick", "grass", "gravel", "camera",
             "scipy_face", "scipy_ascent"]
DARK_TRAIN = ["hubble_deep_field", "moon", "coins"]
# Checkpoints are chosen on these training photos (never on photos.HELD_OUT).
VALIDATION = ["astronaut", "motorcycle_left", "scipy_face"]


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


class Fp32Conv(torch.nn.Module):
    """A Conv2d (same parameters, same state_dict keys) that runs in fp32 under bf16 autocast.
    For enc0 and out: the curve they start as needs fp32 (hinge scales up to 50); in bf16 the
    start scores 24 dB instead of 34 on chelsea, and a net trained through that learns to undo
    bf16's rounding, which fp32 inference then does not have (v1/v2 of this trainer: -9.7 dB)."""

    def __init__(self, conv):
        super().__init__()
        self.weight, self.bias, self.padding = conv.weight, conv.bias, conv.padding

    def forward(self, x):
        with torch.autocast("cpu", enabled=False):
            return F.conv2d(x.float(), self.weight, self.bias, padding=self.padding)


def darken(clean, gamma, sigma, gen):
    """The degradation, 8-bit quantised (what a user's dark photo holds)."""
    noise = torch.randn(clean.shape, generator=gen) * sigma
    return torch.round((clean.clamp(0, 1) ** gamma + noise).clamp(0, 1) * 255.0) / 255.0


def curve_fit(units, gamma):
    """Hinge units h_j = lrelu(s_j (x - k_j)) (knots dense near black, where the curve is steep,
    each scaled to be O(1) over its range) and output weights so that
    sigmoid(sum_j w_j h_j + b) fits x ** (1 / gamma) on the 256 8-bit levels (L-BFGS on the
    squared error). Returns (knots, scales, weights, bias, max error in 8-bit levels)."""
    x = torch.arange(256, dtype=torch.float64) / 255
    target = x ** (1.0 / gamma)
    knots = torch.tensor([-1e-3] + torch.logspace(-2.1, -0.2, units - 1, dtype=torch.float64).tolist(),
                         dtype=torch.float64)
    scales = (1.0 / knots.abs().clamp(min=1 / 255)).clamp(max=50.0)
    h = F.leaky_relu((x[:, None] - knots) * scales, 0.2)
    wb = torch.zeros(units + 1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([wb], lr=1, max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((torch.sigmoid(h @ wb[:-1] + wb[-1]) - target) ** 2).mean()
        loss.backward()
        return loss
    for _ in range(5):
        opt.step(closure)
    wb = wb.detach()
    fit = torch.sigmoid(h @ wb[:-1] + wb[-1])
    err = ((fit * 255).round() - (target * 255).round()).abs().max().item()
    return knots, scales, wb[:-1], wb[-1], err


def init_curve(model, gamma=CURVE_GAMMA, units=CURVE_UNITS):
    knots, scales, w, b, err = curve_fit(units, gamma)
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.fill_(float(b))
        for c in range(3):
            for j in range(units):
                u = c * units + j
                model.enc0.weight[u].zero_()
                model.enc0.weight[u, c, 1, 1] = float(scales[j])
                model.enc0.bias[u] = -float(scales[j] * knots[j])
                model.out.weight[c, u, 1, 1] = float(w[j])
        # The decoder's branch into d0 starts at zero (a zero-initialised residual branch): the
        # start is exactly the curve, and gradients reach the decoder from the first step on.
        model.dec1.weight.zero_()
        model.dec1.bias.zero_()
    return err


def scores(out, ref):
    a, b = photos.to_u8(out), photos.to_u8(ref)
    return photos.psnr(a, b), float(structural_similarity(a, b, channel_axis=2, data_range=255))


def evaluate(model, names=None):
    names = names or photos.HELD_OUT
    model.eval()
    gen = torch.Generator().manual_seed(12345)
    rows = []
    with torch.no_grad():
        for gamma, sigma in CANONICAL + HEAVIER:
            for name in names:
                clean = torch.from_numpy(photos.load(name)).permute(2, 0, 1)[None].contiguous()
                dark = darken(clean, gamma, sigma, gen)
                ref = clean[0].permute(1, 2, 0).numpy()
                outs = {"dark": dark, "curve": dark ** (1.0 / CURVE_GAMMA),
                        "oracle": dark ** (1.0 / gamma), "model": model(dark)}
                row = {"photo": name, "gamma": gamma, "sigma": sigma}
                for k, v in outs.items():
                    row[k] = scores(v[0].permute(1, 2, 0).numpy(), ref)
                rows.append(row)
    model.train()
    canon = [r for r in rows if (r["gamma"], r["sigma"]) in CANONICAL]
    heavy = [r for r in rows if (r["gamma"], r["sigma"]) in HEAVIER]
    summary = {"canonical_worst_db_vs_curve": min(r["model"][0] - r["curve"][0] for r in canon),
               "canonical_ssim_better": all(r["model"][1] > r["curve"][1] for r in canon),
               "heavier_mean_db_vs_curve": float(np.mean([r["model"][0] - r["curve"][0] for r in heavy]))}
    return {"pairs": rows, "summary": summary}


def batches(imgs, patch, batch, gen, canonical_frac, gamma_min=1.8, fixed_curve=False, ladder=False):
    """Crops darkened near the canonical degradation (gamma 2.1-2.3, sigma 0.005-0.015) with
    probability canonical_frac, else anywhere in gamma gamma_min-3.2, sigma 0.005-0.045.
    fixed_curve: the target is the noise-free dark crop through the plain curve,
    (clean ** gamma) ** (1 / 2.2), instead of the clean crop (see --fixed-curve).
    ladder: the crops away from the canonical setting get darker and noisier together, as a
    sensor's do (gamma 2.3-3.2, sigma from 0.012 + 0.01 * darkness to 0.045; see --ladder)."""
    while True:
        clean = photos.random_crops(imgs, patch, batch, gen)
        near = (torch.rand(batch, 1, 1, 1, generator=gen) < canonical_frac).float()
        u, v = torch.rand(batch, 1, 1, 1, generator=gen), torch.rand(batch, 1, 1, 1, generator=gen)
        if ladder:
            far_gamma = 2.3 + 0.9 * u
            lo = 0.012 + 0.01 * u
            far_sigma = lo + (0.045 - lo) * v
        else:
            far_gamma = gamma_min + (3.2 - gamma_min) * u
            far_sigma = 0.005 + 0.04 * v
        gamma = near * (2.1 + 0.2 * u) + (1 - near) * far_gamma
        sigma = near * (0.005 + 0.01 * v) + (1 - near) * far_sigma
        dark = darken(clean, gamma, sigma, gen)
        if fixed_curve:
            clean = clean.clamp(0, 1) ** (gamma / CURVE_GAMMA)
        # The target carries the curve's output beside the clean crop for the hinge loss.
        yield dark, torch.cat([clean, dark ** (1.0 / CURVE_GAMMA)], 1)


def hinge_loss(weight, kind="l1"):
    """L1 (or MSE) to the clean crop plus `weight` times how much worse than the plain curve
    each crop is (per-crop errors; zero where the model beats the curve)."""
    def err(a, b):
        d = a - b
        return (d.abs() if kind == "l1" else d * d).mean(dim=(1, 2, 3))

    def loss(out, target):
        clean, curve = target[:, :3], target[:, 3:]
        model_err = err(out, clean)
        return model_err.mean() + weight * F.relu(model_err - err(curve, clean)).mean()
    return loss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--max-iters", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--fp32", action="store_true", help="train in fp32 (default: bf16 autocast)")
    ap.add_argument("--canonical-frac", type=float, default=0.5,
                    help="share of crops darkened near the canonical gamma 2.2, sigma 0.01")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hinge", type=float, default=0.0,
                    help="weight of the per-crop penalty for doing worse than x^(1/2.2)")
    ap.add_argument("--dark-photos", action="store_true",
                    help="train on the dark photos too (and validate on hubble_deep_field)")
    ap.add_argument("--init", help="start from this checkpoint (a .pth saved by this script, or a shipped "
                    ".lcw) instead of the curve")
    ap.add_argument("--gamma-min", type=float, default=1.8,
                    help="lightest gamma of the crops away from the canonical one (up to 3.2)")
    ap.add_argument("--fixed-curve", action="store_true",
                    help="learn to denoise under the fixed x^(1/2.2) curve instead of guessing each "
                    "image's gamma (the target is the noise-free dark crop through the curve)")
    ap.add_argument("--ladder", action="store_true",
                    help="darker crops are noisier too (gamma 2.3-3.2 with sigma >= 0.012-0.022), so "
                    "the noise tells a dark scene at gamma 2.2 from a darker exposure")
    ap.add_argument("--loss", choices=("l1", "mse"), default="l1",
                    help="per-pixel loss (PSNR, the promise's measure, is MSE's)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="iterations over which the learning rate ramps up from zero: a fine-tune's fresh "
                    "Adam moments otherwise throw the start model off (validation -0.4 dB after 500 steps)")
    ap.add_argument("--check-minutes", type=float, default=4.0,
                    help="validation interval; the best checkpoint is what is saved")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    model = RED(**CONFIG)
    fast = FastDeconv(model.up)
    probe = torch.rand(1, CONFIG["c2"], 5, 7)
    with torch.no_grad():
        assert torch.allclose(fast(probe), model.up(probe), atol=1e-5), "FastDeconv is not ConvTranspose2d"
    fit_err = init_curve(model)
    if args.init:
        training.load_weights(model, args.init)
    model.up = fast
    model.enc0, model.out = Fp32Conv(model.enc0), Fp32Conv(model.out)
    start = evaluate(model)
    print(f"start (curve fit within {fit_err:.2f} levels): {json.dumps(start['summary'])}", flush=True)
    train = RED_TRAIN + (DARK_TRAIN if args.dark_photos else [])
    validation = VALIDATION + (["hubble_deep_field"] if args.dark_photos else [])
    imgs = [photos.load(name) for name in train]
    best = {"score": None}

    def checkpoint(it):
        # Best by the promise: the canonical setting must stay within 0.2 dB of the curve on
        # every validation photo; among those, the largest gain at the heavier settings.
        m = evaluate(model, validation)["summary"]
        ok = m["canonical_worst_db_vs_curve"] >= -0.2
        score = m["heavier_mean_db_vs_curve"] if ok else m["canonical_worst_db_vs_curve"] - 100.0
        kept = best["score"] is None or score > best["score"]
        if kept:
            best.update(score=score, it=it, summary=m,
                        state={k: v.detach().clone() for k, v in model.state_dict().items()})
        print(f"validation at iter {it}: {json.dumps(m)}{' (best so far)' if kept else ''}", flush=True)

    checkpoint(0)
    it, seconds = training.train(model, batches(imgs, args.patch, args.batch, gen, args.canonical_frac, args.gamma_min,
                                                            args.fixed_curve, args.ladder),
                                 hinge_loss(args.hinge, args.loss), args.lr, args.minutes, args.max_iters,
                                 bf16=not args.fp32, checkpoint=checkpoint, every_minutes=args.check_minutes,
                                 warmup_iters=args.warmup)
    model.load_state_dict(best["state"])
    model.to(memory_format=torch.contiguous_format)
    metrics = evaluate(model)
    metrics.update({"iterations": it, "train_seconds": seconds, "config": CONFIG, "bf16": not args.fp32,
                    "seed": args.seed, "batch": args.batch, "patch": args.patch, "lr": args.lr,
                    "canonical_frac": args.canonical_frac, "gamma_min": args.gamma_min, "curve_gamma": CURVE_GAMMA, "start": start["summary"],
                    "best_iteration": best["it"], "validation": best["summary"], "validation_photos": validation,
                    "torch": torch.__version__, "hinge": args.hinge, "init": args.init,
                    "fixed_curve": args.fixed_curve, "ladder": args.ladder, "loss": args.loss,
                    "warmup": args.warmup,
                    "train_photos": train})
    torch.save({"params": model.state_dict(), "config": {"ppm_bins": CONFIG["bins"]}},
               os.path.join(args.out, "red_lowlight.pth"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps(metrics["summary"], indent=1))
    m = metrics["summary"]
    if m["canonical_worst_db_vs_curve"] < -0.3 or not m["canonical_ssim_better"] or m["heavier_mean_db_vs_curve"] < 1.0:
        print("warning: the model misses the default-model targets against the x^(1/2.2) curve", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
