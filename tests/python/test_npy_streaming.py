"""Float output streams like every image format: `.npy` rows are written as the model produces
them, so `--max-memory` below the whole-image plan's need still runs, and the file equals the
whole-image run (`--profile` keeps that plan) bit for bit at every stripe height, for SSR x4,
x2 through pixel unshuffle, pixel shuffle with channel attention, and RED."""
import math
import os
import re
import unittest

import numpy as np
import torch

from common import TempDir, run_convert, run_lucent
from reference_models import RED, SSR

MODELS = {
    "ssr_x4": ("upscale", lambda: SSR(nf=16, nb=1, gc=8, n_up=2), (90, 71)),
    "ssr_x2_unshuffle": ("upscale", lambda: SSR(nf=16, nb=1, gc=8, n_up=2, unshuffle=2), (130, 97)),
    "ssr_pixelshuffle_attention": ("upscale", lambda: SSR(nf=16, nb=1, gc=8, upsampler="pixelshuffle",
                                                          ps_scale=4, attention="channel", reduction=4),
                                   (90, 71)),
    "red": ("enhance", lambda: RED(c0=8, c1=16, c2=32, bins=(1, 3), reduction=8), (301, 203)),
}
CONFIGS = {"red": {"ppm_bins": [1, 3]}
}


class NpyStreaming(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.holder = TempDir()
        cls.tmp = cls.holder.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.holder.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run_to(self, cmd, lcw, src, out, *extra):
        if os.path.exists(out):
            os.remove(out)
        return run_lucent(cmd, "--model", lcw, "--threads", "2", *extra, src, out)

    def test_npy_output_streams_within_max_memory_with_the_same_bits(self):
        for i, (name, (cmd, make, (w, h))) in enumerate(MODELS.items()):
            with self.subTest(model=name):
                torch.manual_seed(20 + i)
                pth, lcw = self.path(f"{name}.pth"), self.path(f"{name}.lcw")
                obj = {"params": make().eval().state_dict()}
                if name in CONFIGS:
                    obj["config"] = CONFIGS[name]
                torch.save(obj, pth)
                r = run_convert(pth, lcw)
                self.assertEqual(r.returncode, 0, r.stderr)
                src = self.path(f"{name}_in.npy")
                np.save(src, np.random.default_rng(i).random((h, w, 3)).astype(np.float32))
                whole = self.path(f"{name}_whole.npy")
                r = self.run_to(cmd, lcw, src, whole, "--profile")
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(whole, "rb") as f:
                    want = f.read()
                # The least working memory any stripe needs, from the refusal of a 1 MiB budget,
                # with room for the image buffers the CLI counts beside it.
                r = self.run_to(cmd, lcw, src, self.path("x.npy"), "--max-memory", "1")
                self.assertEqual(r.returncode, 1, r.stderr)
                m = re.search(r"needs ([\d.]+) (KiB|MiB)", r.stderr)
                self.assertIsNotNone(m, r.stderr)
                need = float(m.group(1)) / (1024.0 if m.group(2) == "KiB" else 1.0)
                budget = str(max(2, math.ceil(need * 1.5 + 2)))
                # The whole-image plan does not fit that budget ...
                r = self.run_to(cmd, lcw, src, self.path("x.npy"), "--profile", "--max-memory", budget)
                self.assertEqual(r.returncode, 1, f"{name}: the whole-image plan fits {budget} MiB")
                self.assertFalse(os.path.exists(self.path("x.npy")))
                # ... and the streamed .npy does, with the whole-image run's bytes.
                for extra in (["--max-memory", budget], ["--stripe-rows", "1"], ["--stripe-rows", "7"], []):
                    out = self.path(f"{name}_stream.npy")
                    r = self.run_to(cmd, lcw, src, out, *extra)
                    self.assertEqual(r.returncode, 0, f"{name} {extra}: {r.stderr}")
                    with open(out, "rb") as f:
                        self.assertEqual(f.read(), want, f"{name} {extra}: bytes differ from the whole-image run")


if __name__ == "__main__":
    unittest.main()
