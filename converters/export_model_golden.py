#!/usr/bin/env python3
"""Writes small PyTorch golden cases for tests/test_models.cpp: per case a converted weight file
<case>.lcw, a batch input <case>.in.npy [N, C, H, W] and PyTorch's output <case>.out.npy.

    /usr/bin/python3 converters/export_model_golden.py --out tests/golden/models [--seed N]

The committed fixtures use the default seed. Needs python3-torch (test time only).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert  # noqa: E402
from reference_models import RED, SSR  # noqa: E402

CASES = {
    # name: (graph, constructor kwargs, input shape N, C, H, W)
    "ssr_nearest_x4": ("ssr", dict(nf=16, nb=1, gc=8, n_up=2), (2, 3, 11, 9)),
    "ssr_unshuffle2_ca": ("ssr", dict(nf=16, nb=1, gc=8, n_up=2, unshuffle=2, attention="channel",
                                      reduction=4), (2, 3, 9, 7)),
    "ssr_pixelshuffle_x3": ("ssr", dict(nf=12, nb=1, gc=6, upsampler="pixelshuffle", ps_scale=3), (1, 3, 6, 5)),
    "red_bins1236": ("red", dict(c0=16, c1=24, c2=32, bins=[1, 2, 3, 6], reduction=8), (2, 3, 13, 10)),
    "red_nobins": ("red", dict(c0=8, c1=16, c2=16, bins=[], reduction=4, sa_kernel=3), (1, 3, 5, 7)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i, (name, (graph, kwargs, shape)) in enumerate(CASES.items()):
        torch.manual_seed(args.seed + i)
        model = (SSR if graph == "ssr" else RED)(**kwargs).eval()
        pth = os.path.join(args.out, name + ".pth")
        torch.save({"params": model.state_dict(), "config": {"ppm_bins": kwargs.get("bins", [])}}, pth)
        convert.convert(pth, os.path.join(args.out, name + ".lcw"), graph)
        os.unlink(pth)
        x = torch.rand(*shape)
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(args.out, name + ".in.npy"), x.numpy())
        np.save(os.path.join(args.out, name + ".out.npy"), y.numpy())
    with open(os.path.join(args.out, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
