#!/usr/bin/env python3
"""Writes PyTorch golden fixtures for every Lucent op.

Each case is a set of .npy files (float32, C order) named <case>.<role>.npy plus one line in
manifest.txt: "<case> <op> key=value ...". tests/test_golden_ops.cpp replays every case through
Lucent on each ISA tier and compares with PyTorch's output.

The committed fixtures in tests/golden/ops were made with the default seed; CTest's live
check runs this script again with another seed into the build tree when PyTorch is installed.

Usage: python3 converters/export_op_golden.py --out DIR [--seed N]
Needs python3-torch and python3-numpy (build/test time only, never at run time).
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.lines = []

    def case(self, name, op, tensors, **params):
        for role, t in tensors.items():
            arr = t.detach().cpu().numpy().astype(np.float32) if torch.is_tensor(t) else np.asarray(t, np.float32)
            np.save(os.path.join(self.out_dir, f"{name}.{role}.npy"), np.ascontiguousarray(arr))
        kv = " ".join(f"{k}={v}" for k, v in params.items())
        self.lines.append(f"{name} {op} {kv}".rstrip())

    def finish(self):
        with open(os.path.join(self.out_dir, "manifest.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def rand(*shape):
    """Inputs uniform in [-1, 1] with a few exact zeros, as the C++ tests use."""
    t = torch.rand(*shape) * 2 - 1
    t.view(-1)[:: 17] = 0.0
    return t


ACT = {"none": lambda t: t, "relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.2)}


def conv_cases(w):
    # (name, N, Cin, Cout, H, W, kh, kw, stride, (top, bottom, left, right), dilation, act)
    cases = [
        ("conv_ssr_dense", 1, 64, 32, 9, 11, 3, 3, 1, (1, 1, 1, 1), 1, "leaky_relu"),
        ("conv_3x3_odd", 2, 13, 17, 7, 13, 3, 3, 1, (1, 1, 1, 1), 1, "none"),
        ("conv_stride2", 1, 17, 9, 13, 15, 3, 3, 2, (1, 1, 1, 1), 1, "leaky_relu"),
        ("conv_1x1", 1, 3, 5, 5, 7, 1, 1, 1, (0, 0, 0, 0), 1, "relu"),
        ("conv_7x7_sa", 2, 2, 1, 9, 6, 7, 7, 1, (3, 3, 3, 3), 1, "none"),
        ("conv_dilated_asym", 1, 3, 4, 11, 12, 3, 5, 1, (0, 2, 1, 3), 2, "none"),
        ("conv_1px", 1, 8, 3, 1, 1, 3, 3, 1, (1, 1, 1, 1), 1, "none"),
    ]
    for name, n, cin, cout, h, wd, kh, kw, s, pad, d, act in cases:
        conv = torch.nn.Conv2d(cin, cout, (kh, kw), stride=s, dilation=d, bias=True)
        x = rand(n, cin, h, wd)
        t, b, l, r = pad
        y = ACT[act](conv(F.pad(x, (l, r, t, b))))
        w.case(name, "conv2d", {"in": x, "w": conv.weight, "b": conv.bias, "out": y},
               cout=cout, kh=kh, kw=kw, stride=s, dilation=d, pt=t, pb=b, pl=l, pr=r, act=act)


def deconv_cases(w):
    cases = [("deconv_red", 1, 32, 16, 6, 7, 4, 2, 1, 0, 1, "leaky_relu"),
             ("deconv_k3s2_opad", 2, 5, 3, 4, 5, 3, 2, 1, 1, 1, "none"),
             ("deconv_k3s3_dil", 1, 3, 4, 3, 2, 3, 3, 0, 0, 2, "none")]
    for name, n, cin, cout, h, wd, k, s, p, op, d, act in cases:
        m = torch.nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op, dilation=d)
        x = rand(n, cin, h, wd)
        y = ACT[act](m(x))
        w.case(name, "conv_transpose2d", {"in": x, "w": m.weight, "b": m.bias, "out": y},
               cout=cout, k=k, stride=s, pad=p, opad=op, dilation=d, act=act)


def simple_cases(w):
    x = rand(2, 3, 7, 19) * 6
    w.case("act_relu", "activation", {"in": x, "out": F.relu(x)}, act="relu")
    w.case("act_leaky", "activation", {"in": x, "out": F.leaky_relu(x, 0.2)}, act="leaky_relu")
    w.case("act_sigmoid", "activation", {"in": x, "out": torch.sigmoid(x)}, act="sigmoid")
    y = rand(2, 3, 7, 19)
    w.case("add_residual", "add_scaled", {"in": x, "in2": y, "out": x * 0.2 + y}, a=0.2, b=1.0)
    for r in (2, 3, 4):
        t = rand(1, 2 * r * r, 5, 7)
        w.case(f"pixel_shuffle_r{r}", "pixel_shuffle", {"in": t, "out": F.pixel_shuffle(t, r)}, r=r)
        u = rand(2, 3, 4 * r, 3 * r)
        w.case(f"pixel_unshuffle_r{r}", "pixel_unshuffle", {"in": u, "out": F.pixel_unshuffle(u, r)}, r=r)
    t = rand(1, 4, 13, 11)
    w.case("maxpool_k3s2p1", "pool2d", {"in": t, "out": F.max_pool2d(t, 3, 2, 1)}, kind="max", k=3, stride=2, pad=1)
    w.case("avgpool_k2s2", "pool2d", {"in": t, "out": F.avg_pool2d(t, 2, 2)}, kind="avg", k=2, stride=2, pad=0)
    w.case("avgpool_k3s1p1", "pool2d", {"in": t, "out": F.avg_pool2d(t, 3, 1, 1)}, kind="avg", k=3, stride=1, pad=1)
    for b in (1, 2, 3, 6):
        t = rand(2, 3, 13, 17)
        w.case(f"adaptive_avg_b{b}", "adaptive_pool2d", {"in": t, "out": F.adaptive_avg_pool2d(t, b)}, kind="avg", bins=b)
        w.case(f"adaptive_max_b{b}", "adaptive_pool2d", {"in": t, "out": F.adaptive_max_pool2d(t, b)}, kind="max", bins=b)
    t = rand(1, 3, 5, 6)
    w.case("nearest_x2", "upsample_nearest", {"in": t, "out": F.interpolate(t, scale_factor=2, mode="nearest")}, r=2)
    w.case("nearest_x3", "upsample_nearest", {"in": t, "out": F.interpolate(t, scale_factor=3, mode="nearest")}, r=3)
    for name, src, size in [("bilinear_ppm_b2", (1, 4, 2, 2), (13, 17)), ("bilinear_ppm_b6", (1, 4, 6, 6), (13, 17)),
                            ("bilinear_up", (2, 2, 5, 7), (11, 16)), ("bilinear_down", (1, 2, 9, 8), (4, 5))]:
        t = rand(*src)
        y = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
        w.case(name, "upsample_bilinear", {"in": t, "out": y}, oh=size[0], ow=size[1])
    t = rand(1, 2, 5, 7)
    w.case("reflect_pad", "reflect_pad", {"in": t, "out": F.pad(t, (2, 3, 1, 4), mode="reflect")}, pt=1, pb=4, pl=2, pr=3)
    a, b = rand(2, 3, 4, 5), rand(2, 5, 4, 5)
    w.case("concat", "concat", {"in": a, "in2": b, "out": torch.cat([a, b], 1)})


class CA(torch.nn.Module):
    """SSR channel attention (docs/GRAPHS.md CA) and RED's channel gate (with_max=True)."""

    def __init__(self, c, reduction, with_max):
        super().__init__()
        self.fc1 = torch.nn.Conv2d(c, c // reduction, 1)
        self.fc2 = torch.nn.Conv2d(c // reduction, c, 1)
        self.with_max = with_max

    def forward(self, y):
        mlp = lambda v: self.fc2(F.relu(self.fc1(v)))
        m = mlp(F.adaptive_avg_pool2d(y, 1))
        if self.with_max:
            m = m + mlp(F.adaptive_max_pool2d(y, 1))
        return y * torch.sigmoid(m)


def attention_cases(w):
    for name, c, red, with_max in [("ca_ssr", 64, 16, False), ("ca_red", 48, 16, True), ("ca_odd", 17, 4, True)]:
        m = CA(c, red, with_max)
        x = rand(2, c, 7, 9)
        w.case(name, "channel_attention",
               {"in": x, "fc1w": m.fc1.weight, "fc1b": m.fc1.bias, "fc2w": m.fc2.weight, "fc2b": m.fc2.bias, "out": m(x)},
               hidden=c // red, pooling="avgmax" if with_max else "avg")
    sa = torch.nn.Conv2d(2, 1, 7, padding=3)
    x = rand(2, 19, 9, 12)
    s = sa(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1))
    w.case("spatial_attention", "spatial_attention", {"in": x, "w": sa.weight, "b": sa.bias, "out": x * torch.sigmoid(s)}, k=7)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=20261121)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    w = Writer(args.out)
    with torch.no_grad():
        conv_cases(w)
        deconv_cases(w)
        simple_cases(w)
        attention_cases(w)
    w.finish()
    print(f"wrote {len(w.lines)} cases to {args.out} (seed {args.seed}, torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
