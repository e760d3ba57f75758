#!/usr/bin/env python3
"""Trains Lucent's embedded default SSR x4 model on skimage's public-domain photos.

    /usr/bin/python3 converters/train_ssr.py --out build/train_ssr [--minutes 20] [--seed 1]
    /usr/bin/python3 converters/train_ssr.py --out build/train_ssr2 --resume build/train_ssr/ssr_x4.pth --lr 3e-4
    /usr/bin/python3 converters/convert.py build/train_ssr2/ssr_x4.pth models/default/ssr_x4.lcw
    /usr/bin/python3 converters/train_ssr.py --out build-train-ssr --resume models/default/ssr_x4.lcw \
        --bf16 --threads 1 --patch 128 --lr 2e-4 --minutes 40     # continue the shipped model

Degradation: HR crops are downscaled x4 with antialiased bicubic (MATLAB imresize style); the
loss is L1. The RGB path starts as a two-stage bilinear upscaler (channels 0-2 carry the image
through conv_first, the upsampling convs, conv_hr and conv_last; the RRDB body starts with a
small contribution), so training only learns the residual detail and a short CPU run suffices.

Evaluation (written to metrics.json and printed): PSNR on 8-bit RGB of the HELD_OUT photos,
cropped to a multiple of 4, against bicubic upscaling of the same low-resolution input.
Needs python3-torch, python3-numpy, python3-skimage.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photos  # noqa: E402
import training  # noqa: E402
from reference_models import SSR  # noqa: E402

SCALE = 4
CONFIG = dict(nf=32, nb=3, gc=16, upsampler="nearest", n_up=2)


def downscale(hr):
    return F.interpolate(hr, scale_factor=1.0 / SCALE, mode="bicubic", align_corners=False,
                         antialias=True).clamp(0, 1)


def bicubic_up(lr):
    return F.interpolate(lr, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0, 1)


def init_bilinear_path(model):
    """Channels 0-2 carry RGB: identity in conv_first/conv_hr/conv_last, a [1,2,1]/4 blur after
    each nearest x2 (which together make bilinear x2), nothing from the other channels."""
    blur = torch.tensor([1.0, 2.0, 1.0]) / 4.0
    blur2 = torch.outer(blur, blur)
    with torch.no_grad():
        def carry(conv, taps):
            conv.weight[:3].zero_()
            conv.bias[:3].zero_()
            for c in range(3):
                conv.weight[c, c] = taps
        ident = torch.zeros(3, 3)
        ident[1, 1] = 1.0
        carry(model.conv_first, ident)
        for k in range(1, len(model.factors) + 1):
            carry(getattr(model, f"conv_up{k}"), blur2)
        carry(model.conv_hr, ident)
        model.conv_last.weight.zero_()
        model.conv_last.bias.zero_()
        for c in range(3):
            model.conv_last.weight[c, c, 1, 1] = 1.0
        model.conv_body.weight.mul_(0.1)
        model.conv_body.bias.zero_()


def evaluate(model):
    model.eval()
    rows = []
    with torch.no_grad():
        for name in photos.HELD_OUT:
            img = photos.load(name)
            h, w = img.shape[0] // SCALE * SCALE, img.shape[1] // SCALE * SCALE
            hr = torch.from_numpy(img[:h, :w]).permute(2, 0, 1)[None].contiguous()
            lr = downscale(hr)
            ref = photos.to_u8(hr[0].permute(1, 2, 0).numpy())
            bic = photos.to_u8(bicubic_up(lr)[0].permute(1, 2, 0).numpy())
            sr = photos.to_u8(model(lr)[0].permute(1, 2, 0).numpy())
            rows.append({"photo": name, "size": [w, h], "bicubic_psnr": photos.psnr(bic, ref),
                         "model_psnr": photos.psnr(sr, ref)})
    model.train()
    mean_b = float(np.mean([r["bicubic_psnr"] for r in rows]))
    mean_m = float(np.mean([r["model_psnr"] for r in rows]))
    return {"photos": rows, "bicubic_psnr_mean": mean_b, "model_psnr_mean": mean_m,
            "gain_db": mean_m - mean_b}


def batches(imgs, patch, batch, gen):
    while True:
        hr = photos.random_crops(imgs, patch, batch, gen)
        yield downscale(hr), hr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (checkpoint, metrics.json, log)")
    ap.add_argument("--minutes", type=float, default=20.0, help="training time budget")
    ap.add_argument("--max-iters", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=96, help="HR crop size (multiple of 4)")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--resume", help="continue from a checkpoint this script wrote (.pth) or a shipped .lcw")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast forward pass (training.py)")
    ap.add_argument("--loss", choices=("l1", "mse"), default="l1")
    ap.add_argument("--warmup", type=int, default=0, help="linear learning-rate warm-up steps (for fine-tunes)")
    ap.add_argument("--later-photos", action="store_true",
                    help="train on photos.LATER too (grace_hopper; stage 6 on)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)

    model = SSR(**CONFIG)
    if args.resume:
        training.load_weights(model, args.resume)
    else:
        init_bilinear_path(model)
    start = evaluate(model)
    print(f"init: model {start['model_psnr_mean']:.2f} dB, bicubic {start['bicubic_psnr_mean']:.2f} dB",
          flush=True)
    names = photos.TRAIN + (photos.LATER if args.later_photos else [])
    imgs = photos.train_photos(names)
    loss_fn = F.l1_loss if args.loss == "l1" else F.mse_loss
    it, seconds = training.train(model, batches(imgs, args.patch, args.batch, gen), loss_fn,
                                 args.lr, args.minutes, args.max_iters, bf16=args.bf16,
                                 warmup_iters=args.warmup)
    model.to(memory_format=torch.contiguous_format)
    metrics = evaluate(model)
    metrics.update({"resumed_from": args.resume, "iterations": it, "train_seconds": seconds, "config": CONFIG,
                    "seed": args.seed, "loss": args.loss, "batch": args.batch, "patch": args.patch, "lr": args.lr,
                    "init_psnr_mean": start["model_psnr_mean"], "torch": torch.__version__,
                    "bf16": args.bf16, "warmup": args.warmup, "train_photos": names})
    torch.save({"params": model.state_dict()}, os.path.join(args.out, "ssr_x4.pth"))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps(metrics, indent=1))
    if metrics["gain_db"] < 0.5:
        print("warning: the model beats bicubic by less than 0.5 dB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
