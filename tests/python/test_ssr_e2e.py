"""SSR end to end: random-weight checkpoints of every variant and key layout, saved by PyTorch,
go through convert.py and `lucent upscale`, and must match PyTorch within the numerics contract
(reference path <= 1e-4; fastest path <= 2e-3 and 8-bit output within one level at <= 0.1 %).
"""
import json
import os
import struct
import unittest

import numpy as np
import torch

from common import TempDir, check_contract, run_convert, run_lucent, to_u8
from reference_models import SSR, ssr_state_dict_as

SEED = int(os.environ.get("LUCENT_TEST_SEED", "1234"))

# name: (constructor kwargs, input H, W)
VARIANTS = {
    "nearest_x2": (dict(nf=16, nb=1, gc=8, n_up=1), 13, 9),
    "nearest_x4": (dict(nf=16, nb=2, gc=8, n_up=2), 11, 7),
    "nearest_x8": (dict(nf=8, nb=1, gc=4, n_up=3), 5, 6),
    "unshuffle2_x2plus": (dict(nf=16, nb=1, gc=8, n_up=2, unshuffle=2), 13, 10),
    "unshuffle4_x1": (dict(nf=16, nb=1, gc=8, n_up=2, unshuffle=4), 15, 9),
    "pixelshuffle_x2": (dict(nf=16, nb=1, gc=8, upsampler="pixelshuffle", ps_scale=2), 9, 12),
    "pixelshuffle_x3": (dict(nf=12, nb=1, gc=8, upsampler="pixelshuffle", ps_scale=3), 7, 9),
    "pixelshuffle_x4": (dict(nf=16, nb=1, gc=8, upsampler="pixelshuffle", ps_scale=4), 8, 5),
    "pixelshuffle_x8": (dict(nf=8, nb=1, gc=4, upsampler="pixelshuffle", ps_scale=8), 4, 3),
    "channel_attention": (dict(nf=32, nb=1, gc=16, n_up=2, attention="channel", reduction=8), 9, 11),
    "no_blocks_odd_widths": (dict(nf=13, nb=0, gc=7, n_up=1), 6, 7),
    "odd_widths": (dict(nf=13, nb=1, gc=7, n_up=1), 7, 5),
    "gray_in_out": (dict(in_ch=1, out_ch=1, nf=16, nb=1, gc=8, n_up=1), 9, 9),
    "realesrgan_widths": (dict(nf=64, nb=1, gc=32, n_up=2), 16, 16),
}


def make_model(kwargs, seed):
    torch.manual_seed(seed)
    return SSR(**kwargs).eval()


def torch_forward(model, x_hwc):
    with torch.no_grad():
        t = torch.from_numpy(x_hwc).permute(2, 0, 1)[None]
        return model(t)[0].permute(1, 2, 0).numpy()


def save_safetensors(path, sd, dtype):
    """A minimal safetensors writer (the format is a JSON header and raw little-endian data)."""
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        if dtype == "BF16":
            raw = v.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            raw = v.numpy().astype({"F32": "<f4", "F16": "<f2"}[dtype]).tobytes()
        header[k] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class SsrEndToEnd(unittest.TestCase):
    def upscale(self, tmp, lcw, x, *extra):
        np.save(os.path.join(tmp, "in.npy"), x)
        out = os.path.join(tmp, "out.npy")
        r = run_lucent("upscale", "--model", lcw, *extra, os.path.join(tmp, "in.npy"), out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return np.load(out)

    def test_every_variant_matches_pytorch(self):
        rng = np.random.default_rng(SEED)
        for i, (name, (kwargs, h, w)) in enumerate(VARIANTS.items()):
            with self.subTest(variant=name), TempDir() as tmp:
                model = make_model(kwargs, SEED + i)
                pth = os.path.join(tmp, "m.pth")
                torch.save({"params_ema": model.state_dict()}, pth)
                lcw = os.path.join(tmp, "m.lcw")
                r = run_convert(pth, lcw)
                self.assertEqual(r.returncode, 0, r.stderr)
                x = rng.random((h, w, kwargs.get("in_ch", 3)), dtype=np.float32)
                ref = torch_forward(model, x)
                ref_path = self.upscale(tmp, lcw, x, "--reference")
                check_contract(self, ref_path, ref, True, f"{name} reference path")
                fast = self.upscale(tmp, lcw, x)
                check_contract(self, fast, ref, False, f"{name} fastest path")
                for isa in ("avx2", "scalar"):
                    check_contract(self, self.upscale(tmp, lcw, x, "--isa", isa), ref, False, f"{name} {isa}")
                # Streaming: every stripe height gives the bits of the default run.
                for stripe, threads in (("1", "1"), ("2", "2"), ("3", "3"), ("5", "2")):
                    got = self.upscale(tmp, lcw, x, "--stripe-rows", stripe, "--threads", threads)
                    self.assertTrue(np.array_equal(got, fast), f"{name}: --stripe-rows {stripe} differs")
                avx2 = self.upscale(tmp, lcw, x, "--isa", "avx2")
                self.assertTrue(np.array_equal(self.upscale(tmp, lcw, x, "--isa", "avx2", "--stripe-rows", "2"),
                                               avx2), f"{name}: avx2 --stripe-rows 2 differs")

    def test_tiny_inputs(self):
        """1x1 and 2x1 inputs, including unshuffle factors larger than the input."""
        for i, name in enumerate(("nearest_x4", "unshuffle2_x2plus", "unshuffle4_x1")):
            kwargs = VARIANTS[name][0]
            model = make_model(kwargs, SEED + 100 + i)
            with TempDir() as tmp:
                pth, lcw = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.lcw")
                torch.save(model.state_dict(), pth)
                self.assertEqual(run_convert(pth, lcw).returncode, 0)
                for h, w in ((1, 1), (2, 1), (1, 3), (3, 2)):
                    with self.subTest(variant=name, size=(h, w)):
                        x = np.random.default_rng(SEED + h * 7 + w).random((h, w, 3), dtype=np.float32)
                        check_contract(self, self.upscale(tmp, lcw, x, "--reference"),
                                       torch_forward(model, x), True, f"{name} {h}x{w}")
                        self.assertTrue(np.array_equal(self.upscale(tmp, lcw, x, "--stripe-rows", "1"),
                                                       self.upscale(tmp, lcw, x)), f"{name} {h}x{w} stripes")

    def test_every_key_layout_and_file_format(self):
        kwargs, h, w = VARIANTS["nearest_x4"]
        model = make_model(kwargs, SEED + 200)
        sd = model.state_dict()
        x = np.random.default_rng(SEED).random((h, w, 3), dtype=np.float32)
        ref = torch_forward(model, x)
        cases = []
        for layout in ("basicsr", "esrgan", "oldest"):
            keyed = ssr_state_dict_as(sd, layout, kwargs["nb"], kwargs["n_up"])
            cases += [(f"{layout}-bare-zip", keyed, True), (f"{layout}-bare-legacy", keyed, False)]
        basic = dict(sd)
        cases += [
            ("params-zip", {"params": basic}, True),
            ("params_ema-preferred", {"params": {k: v * 0 for k, v in basic.items()}, "params_ema": basic}, True),
            ("state_dict-module", {"state_dict": {"module." + k: v for k, v in basic.items()}}, True),
            ("model-netG-legacy", {"model": {"netG." + k: v for k, v in basic.items()}}, False),
            ("esrgan-module-legacy",
             {"module." + k: v for k, v in ssr_state_dict_as(sd, "esrgan", kwargs["nb"], 2).items()}, False),
        ]
        with TempDir() as tmp:
            lcw = os.path.join(tmp, "m.lcw")
            for name, obj, zip_format in cases:
                with self.subTest(case=name):
                    pth = os.path.join(tmp, name + ".pth")
                    torch.save(obj, pth, _use_new_zipfile_serialization=zip_format)
                    r = run_convert(pth, lcw)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    check_contract(self, self.upscale(tmp, lcw, x, "--reference"), ref, True, name)
            for dtype in ("F32", "F16", "BF16"):
                with self.subTest(case=f"safetensors-{dtype}"):
                    st = os.path.join(tmp, f"m-{dtype}.safetensors")
                    save_safetensors(st, sd, dtype)
                    self.assertEqual(run_convert(st, lcw).returncode, 0)
                    cast = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
                    m2 = make_model(kwargs, 0)
                    m2.load_state_dict({k: v.to(cast).float() for k, v in sd.items()})
                    check_contract(self, self.upscale(tmp, lcw, x, "--reference"), torch_forward(m2, x),
                                   True, f"safetensors {dtype}")
            for cast in (torch.float16, torch.bfloat16):
                with self.subTest(case=f"pth-{cast}"):
                    pth = os.path.join(tmp, "half.pth")
                    torch.save({k: v.to(cast) for k, v in sd.items()}, pth)
                    self.assertEqual(run_convert(pth, lcw).returncode, 0)
                    m2 = make_model(kwargs, 0)
                    m2.load_state_dict({k: v.to(cast).float() for k, v in sd.items()})
                    check_contract(self, self.upscale(tmp, lcw, x, "--reference"), torch_forward(m2, x),
                                   True, f"pth {cast}")

    def test_thread_counts_are_bit_identical(self):
        kwargs, _, _ = VARIANTS["realesrgan_widths"]
        model = make_model(kwargs, SEED + 300)
        x = np.random.default_rng(SEED).random((37, 29, 3), dtype=np.float32)
        with TempDir() as tmp:
            pth, lcw = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.lcw")
            torch.save(model.state_dict(), pth)
            self.assertEqual(run_convert(pth, lcw).returncode, 0)
            outs = [self.upscale(tmp, lcw, x, "--threads", str(t)) for t in (1, 2, 3, 5)]
            for t, o in zip((2, 3, 5), outs[1:]):
                self.assertTrue(np.array_equal(outs[0], o), f"--threads {t} differs from --threads 1")
            check_contract(self, outs[0], torch_forward(model, x), False, "37x29 fastest path")

    def test_bf16_packed_dense_blocks(self):
        # Real-ESRGAN widths (nf 64, gc 32) keep each dense block packed in bf16 between its
        # convs (models/ssr_stream.cpp): every thread count and stripe height gives the same
        # bits, and the output keeps the bf16 error contract against the fp32 path.
        kwargs, _, _ = VARIANTS["realesrgan_widths"]
        model = make_model(kwargs, SEED + 301)
        x = np.random.default_rng(SEED + 1).random((37, 29, 3), dtype=np.float32)
        with TempDir() as tmp:
            pth, lcw = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.lcw")
            torch.save(model.state_dict(), pth)
            self.assertEqual(run_convert(pth, lcw).returncode, 0)
            np.save(os.path.join(tmp, "in.npy"), x)
            r = run_lucent("upscale", "--model", lcw, "--precision", "bf16",
                           os.path.join(tmp, "in.npy"), os.path.join(tmp, "probe.npy"))
            if r.returncode != 0 and "AMX" in r.stderr:
                self.skipTest("amx: not available on this CPU/OS")
            ref = self.upscale(tmp, lcw, x, "--precision", "bf16", "--threads", "1")
            for t in (2, 3):
                for rows in ("1", "5", "64"):
                    got = self.upscale(tmp, lcw, x, "--precision", "bf16", "--threads", str(t),
                                       "--stripe-rows", rows)
                    self.assertTrue(np.array_equal(ref, got), f"--threads {t} --stripe-rows {rows}")
            fp32 = self.upscale(tmp, lcw, x)
            a, b = to_u8(fp32), to_u8(ref)
            worst = int(np.abs(a - b).max())
            mse = float(((a - b) ** 2).mean())
            psnr = 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
            self.assertLessEqual(worst, 8)
            self.assertGreaterEqual(psnr, 50.0)


if __name__ == "__main__":
    unittest.main()
