"""RED end to end: random-weight checkpoints (several widths, bin sets including none, odd
sizes), saved by PyTorch, go through convert.py and `lucent enhance`, and must match PyTorch
within the numerics contract."""
import os
import unittest

import numpy as np
import torch
from PIL import Image

from common import TempDir, check_contract, run_convert, run_lucent
from reference_models import RED, SSR

SEED = int(os.environ.get("LUCENT_TEST_SEED", "4321"))

# name: (constructor kwargs, config entry or None, input sizes)
VARIANTS = {
    "default_bins": (dict(c0=16, c1=32, c2=64, reduction=16), {"ppm_bins": [1, 2, 3, 6]}, [(13, 17), (2, 2)]),
    "default_bins_no_config": (dict(c0=8, c1=16, c2=32, reduction=8), None, [(9, 6)]),
    "no_pyramid": (dict(c0=8, c1=16, c2=16, bins=[], reduction=4), {"ppm_bins": []}, [(7, 7), (2, 3)]),
    "odd_bins": (dict(c0=12, c1=20, c2=40, bins=[2, 5], reduction=5, sa_kernel=5), {"ppm_bins": [2, 5]},
                 [(11, 8), (3, 2)]),
    "big_bin_small_input": (dict(c0=8, c1=8, c2=16, bins=[9], reduction=2, sa_kernel=3), {"ppm_bins": [9]},
                            [(5, 4)]),
    "gray": (dict(in_ch=1, out_ch=1, c0=8, c1=16, c2=32, bins=[1, 3], reduction=8), {"ppm_bins": [1, 3]},
             [(10, 9)]),
    "default_widths": (dict(), {"ppm_bins": [1, 2, 3, 6]}, [(24, 19)]),
}


def forward(model, x_hwc):
    with torch.no_grad():
        return model(torch.from_numpy(x_hwc).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()


class RedEndToEnd(unittest.TestCase):
    def enhance(self, tmp, lcw, x, *extra):
        src, out = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(src, x)
        r = run_lucent("enhance", "--model", lcw, *extra, src, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return np.load(out)

    def convert(self, tmp, model, config):
        pth, lcw = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.lcw")
        obj = {"params": model.state_dict()}
        if config is not None:
            obj["config"] = config
        torch.save(obj, pth)
        r = run_convert(pth, lcw)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("RED", r.stdout)
        return lcw

    def test_every_variant_matches_pytorch(self):
        rng = np.random.default_rng(SEED)
        for i, (name, (kwargs, config, sizes)) in enumerate(VARIANTS.items()):
            torch.manual_seed(SEED + i)
            model = RED(**kwargs).eval()
            with TempDir() as tmp:
                lcw = self.convert(tmp, model, config)
                for h, w in sizes:
                    with self.subTest(variant=name, size=(h, w)):
                        x = rng.random((h, w, kwargs.get("in_ch", 3)), dtype=np.float32)
                        ref = forward(model, x)
                        check_contract(self, self.enhance(tmp, lcw, x, "--reference"), ref, True, f"{name} ref")
                        check_contract(self, self.enhance(tmp, lcw, x), ref, False, f"{name} fast")
                        check_contract(self, self.enhance(tmp, lcw, x, "--isa", "avx2"), ref, False, f"{name} avx2")

    def test_threads_bit_identical_and_1x1_refused(self):
        torch.manual_seed(SEED)
        model = RED(c0=16, c1=32, c2=64).eval()
        x = np.random.default_rng(SEED).random((33, 27, 3), dtype=np.float32)
        with TempDir() as tmp:
            lcw = self.convert(tmp, model, None)
            outs = [self.enhance(tmp, lcw, x, "--threads", str(t)) for t in (1, 2, 3)]
            for o in outs[1:]:
                self.assertTrue(np.array_equal(outs[0], o))
            check_contract(self, outs[0], forward(model, x), False, "33x27")
            np.save(os.path.join(tmp, "tiny.npy"), x[:1, :1])
            r = run_lucent("enhance", "--model", lcw, os.path.join(tmp, "tiny.npy"), os.path.join(tmp, "o.npy"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("smaller than 2x2", r.stderr)

    def test_alpha_kept_and_graph_mismatch_refused(self):
        torch.manual_seed(SEED)
        red = RED(c0=8, c1=16, c2=32).eval()
        ssr = SSR(nf=8, nb=1, gc=4, n_up=1)
        with TempDir() as tmp:
            red_lcw = self.convert(tmp, red, None)
            torch.save(ssr.state_dict(), os.path.join(tmp, "s.pth"))
            ssr_lcw = os.path.join(tmp, "s.lcw")
            self.assertEqual(run_convert(os.path.join(tmp, "s.pth"), ssr_lcw).returncode, 0)
            rgba = (np.random.default_rng(1).random((9, 10, 4)) * 255).astype(np.uint8)
            src = os.path.join(tmp, "a.png")
            Image.fromarray(rgba, "RGBA").save(src)
            out = os.path.join(tmp, "o.png")
            r = run_lucent("enhance", "--model", red_lcw, src, out)
            self.assertEqual(r.returncode, 0, r.stderr)
            with Image.open(out) as im:
                got = np.asarray(im)
            self.assertEqual(got.shape, (9, 10, 4))
            self.assertTrue(np.array_equal(got[..., 3], rgba[..., 3]))
            r = run_lucent("upscale", "--model", red_lcw, src, os.path.join(tmp, "x.png"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("holds a RED (enhancement) model; use `lucent enhance`", r.stderr)
            r = run_lucent("enhance", "--model", ssr_lcw, src, os.path.join(tmp, "x.png"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("holds an SSR (upscaling) model; use `lucent upscale`", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "x.png")))


if __name__ == "__main__":
    unittest.main()
