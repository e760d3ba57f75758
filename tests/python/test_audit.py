"""converters/audit.py end to end: random SSR and RED checkpoints audit clean layer by layer
(fast and reference paths); a .lcw that differs from the checkpoint in one weight of one deep
layer is reported with exactly that layer as the first divergence; a model of the other graph,
a layer-count mismatch and a missing PyTorch are clear errors (exit 2)."""
import json
import os
import subprocess
import sys
import unittest

import numpy as np
import torch
from PIL import Image

from common import CONVERT, LUCENT, ROOT, TempDir, run_convert
from reference_models import RED, SSR, Compact

AUDIT = os.path.join(ROOT, "converters", "audit.py")


def audit(*args, env=None):
    full = dict(os.environ, LUCENT_BIN=LUCENT)
    full.update(env or {})
    return subprocess.run([sys.executable, AUDIT, "--threads", "2", *args], capture_output=True, text=True,
                          env=full, timeout=600)


class Audit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.holder = TempDir()
        cls.tmp = cls.holder.__enter__()
        rng = np.random.default_rng(6)
        cls.image = os.path.join(cls.tmp, "in.png")
        Image.fromarray((rng.random((13, 11, 3)) * 255).astype(np.uint8)).save(cls.image)

    @classmethod
    def tearDownClass(cls):
        cls.holder.__exit__(None, None, None)

    def save(self, name, module, wrap=None):
        path = os.path.join(self.tmp, name)
        sd = module.state_dict()
        torch.save(wrap(sd) if wrap else sd, path)
        return path

    def clean(self, ckpt, *extra):
        r = audit("--checkpoint", ckpt, "--json", *extra, self.image)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout[-2000:])
        res = json.loads(r.stdout)
        self.assertIsNone(res["first_divergence"])
        self.assertTrue(all(row["ok"] for row in res["layers"]))
        self.assertEqual(res["layers"][-1]["layer"], "output")
        return res

    def test_random_models_audit_clean(self):
        torch.manual_seed(11)
        cases = [
            ("ssr_nearest.pth", SSR(nf=8, nb=2, gc=4, n_up=2), None),
            ("ssr_ps_unshuffle_ca.pth", SSR(nf=8, nb=1, gc=4, upsampler="pixelshuffle", ps_scale=4, unshuffle=2,
                                              attention="channel", reduction=4), None),
            ("red.pth", RED(c0=8, c1=8, c2=16, bins=(1, 2, 3, 6), reduction=4), lambda sd: {"params": sd}),
            ("red_nobins.pth", RED(c0=4, c1=8, c2=8, bins=(), reduction=4),
             lambda sd: {"params": sd, "config": {"ppm_bins": []}}),
            ("compact_prelu.pth", Compact(nf=8, num_conv=2, scale=4), lambda sd: {"params": sd}),
            ("compact_lrelu.pth", Compact(nf=8, num_conv=1, scale=2, act="lrelu"), None),
        ]
        for name, module, wrap in cases:
            with self.subTest(model=name):
                ckpt = self.save(name, module.eval(), wrap)
                res = self.clean(ckpt)
                names = [row["layer"] for row in res["layers"]]
                if name.startswith("ssr"):
                    self.assertIn("body.0.rdb3.conv5", names)
                    self.assertIn("conv_up1", names)
                if "_ca" in name:
                    self.assertIn("body.0.rdb2.ca", names)
                if name.startswith("compact"):
                    self.assertIn("body.3", names)
                if name == "red.pth":
                    self.assertIn("ppm.stages.3", names)
                    self.assertIn("att", names)
        # A .lcw audited on its own weights (the embedded default RED model's file).
        res = self.clean(os.path.join(ROOT, "models", "default", "red_lowlight.lcw"))
        self.assertIn("ppm.fuse", [row["layer"] for row in res["layers"]])
        res = self.clean(os.path.join(self.tmp, "red.pth"), "--reference")
        self.assertEqual(res["tier"], "reference")
        self.assertEqual(res["tolerance_base"], 1e-4)

    def divergent(self, module, key, wrap, layer):
        ckpt = self.save("good.pth", module.eval(), wrap)
        sd = {k: v.clone() for k, v in module.state_dict().items()}
        sd[key].view(-1)[5] += 0.5
        bad_ckpt = os.path.join(self.tmp, "bad.pth")
        torch.save(wrap(sd) if wrap else sd, bad_ckpt)
        bad_lcw = os.path.join(self.tmp, "bad.lcw")
        self.assertEqual(run_convert(bad_ckpt, bad_lcw).returncode, 0)
        html = os.path.join(self.tmp, "report.html")
        r = audit("--checkpoint", ckpt, "--model", bad_lcw, "--html", html, self.image)
        self.assertEqual(r.returncode, 1, r.stderr + r.stdout)
        self.assertIn(f"FIRST DIVERGENCE: {layer} ", r.stdout)
        with open(html) as f:
            report = f.read()
        self.assertIn(f"First divergence: {layer}", report)
        self.assertIn("data:image/png;base64,", report)

    def test_one_changed_weight_names_its_layer(self):
        torch.manual_seed(12)
        self.divergent(SSR(nf=8, nb=3, gc=4, n_up=2), "body.1.rdb2.conv3.weight", None, "body.1.rdb2.conv3")
        torch.manual_seed(13)
        self.divergent(RED(c0=8, c1=8, c2=16, bins=(1, 2, 3, 6), reduction=4), "ppm.stages.2.weight",
                       lambda sd: {"params": sd}, "ppm.stages.2")

    def test_clear_errors(self):
        torch.manual_seed(14)
        ssr = self.save("e_ssr.pth", SSR(nf=8, nb=2, gc=4, n_up=1))
        red = self.save("e_red.pth", RED(c0=4, c1=8, c2=8, bins=(1, 2, 3, 6), reduction=4), lambda sd: {"params": sd})
        red_lcw = os.path.join(self.tmp, "e_red.lcw")
        self.assertEqual(run_convert(red, red_lcw).returncode, 0)
        r = audit("--checkpoint", ssr, "--model", red_lcw, self.image)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("RED", r.stderr)
        deeper = self.save("e_ssr3.pth", SSR(nf=8, nb=3, gc=4, n_up=1))
        deeper_lcw = os.path.join(self.tmp, "e_ssr3.lcw")
        self.assertEqual(run_convert(deeper, deeper_lcw).returncode, 0)
        r = audit("--checkpoint", ssr, "--model", deeper_lcw, self.image)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("different models", r.stderr)
        fake = os.path.join(self.tmp, "notorch")
        os.makedirs(fake, exist_ok=True)
        with open(os.path.join(fake, "torch.py"), "w") as f:
            f.write("raise ImportError('No module named torch (simulated)')\n")
        r = audit("--checkpoint", ssr, self.image, env={"PYTHONPATH": fake})
        self.assertEqual(r.returncode, 2)
        self.assertIn("PyTorch is needed", r.stderr)
        self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main()
