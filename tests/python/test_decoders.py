"""The image decoders through `lucent upscale`, against PIL as an independent writer and reader:
every BMP and TGA layout PIL writes decodes to PIL's own pixels (compared through a tiny model's
float output, which is a function of the decoded pixels alone), and a file of any format cut
short is refused with exit 1 and a message, leaving no output, the same way every time."""
import hashlib
import io
import os
import unittest

import numpy as np
import torch
from PIL import Image

from common import TempDir, run_convert, run_lucent
from reference_models import SSR


def expected_pixels(data):
    """PIL's decode of `data`, in the channel layout Lucent decodes it to."""
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif im.mode == "1":
            im = im.convert("L")
        if fmt == "BMP" and im.mode == "L":
            im = im.convert("RGB")  # BMP stores gray as a palette: three channels
        return np.asarray(im)


class Decoders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.holder = TempDir()
        cls.tmp = cls.holder.__enter__()
        torch.manual_seed(11)
        pth = os.path.join(cls.tmp, "m.pth")
        torch.save(SSR(nf=8, nb=1, gc=4, n_up=1).eval().state_dict(), pth)
        cls.lcw = os.path.join(cls.tmp, "m.lcw")
        assert run_convert(pth, cls.lcw).returncode == 0
        rng = np.random.default_rng(5)
        cls.rgba = (rng.random((13, 7, 4)) * 255).astype(np.uint8)
        cls.rgba[..., 3] = np.maximum(cls.rgba[..., 3], 1)  # not the "alpha all zero" BGRX case

    @classmethod
    def tearDownClass(cls):
        cls.holder.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def upscale_npy(self, data, ext):
        src, dst = self.path(f"in.{ext}"), self.path("out.npy")
        with open(src, "wb") as f:
            f.write(data)
        if os.path.exists(dst):
            os.remove(dst)
        r = run_lucent("upscale", "--model", self.lcw, "--threads", "1", src, dst)
        out = np.load(dst) if r.returncode == 0 else None
        return r, out

    def encoded(self, mode, fmt, **params):
        img = Image.fromarray(self.rgba, "RGBA").convert(mode)
        buf = io.BytesIO()
        img.save(buf, format=fmt, **params)
        return buf.getvalue()

    def png_of(self, pixels):
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        return buf.getvalue()

    def layouts(self):
        cases = [(f"bmp-{m}", self.encoded(m, "BMP"), "bmp") for m in ("1", "L", "P", "RGB", "RGBA")]
        for m in ("L", "LA", "P", "RGB", "RGBA"):
            for rle in (False, True):
                for orient in (1, -1):
                    params = {"orientation": orient}
                    if rle:
                        params["compression"] = "tga_rle"
                    cases.append((f"tga-{m}-rle{int(rle)}-o{orient}", self.encoded(m, "TGA", **params), "tga"))
        return cases

    def test_every_layout_decodes_to_pils_pixels(self):
        for name, data, ext in self.layouts():
            with self.subTest(name=name):
                want = expected_pixels(data)
                r, got = self.upscale_npy(data, ext)
                self.assertEqual(r.returncode, 0, r.stderr)
                r2, ref = self.upscale_npy(self.png_of(want), "png")
                self.assertEqual(r2.returncode, 0, r2.stderr)
                self.assertEqual(got.shape, ref.shape)
                self.assertTrue(np.array_equal(got, ref), f"{name}: pixels differ from PIL's")

    def truncation_cases(self):
        rgb = Image.fromarray(self.rgba[..., :3])

        def enc(fmt, **params):
            buf = io.BytesIO()
            rgb.save(buf, format=fmt, **params)
            return buf.getvalue()

        cases = {
            "bmp": (enc("BMP"), "bmp", 3),  # the last row's padding may be missing
            "tga": (enc("TGA"), "tga", 26 + 18),  # PIL adds a 26-byte footer (+ extension area)
            "tga-rle": (enc("TGA", compression="tga_rle"), "tga", 26 + 18),
            "png": (enc("PNG"), "png", 0),
            "jpeg": (enc("JPEG", quality=90), "jpg", 0),
            "ppm": (enc("PPM"), "ppm", 0),
        }
        # The 32x32 TGA of the report, cut to its header plus 15 bytes.
        big = Image.fromarray(np.tile(self.rgba, (3, 5, 1))[:32, :32])
        buf = io.BytesIO()
        big.save(buf, format="TGA")
        cases["tga-report"] = (buf.getvalue()[:33] + b"\0" * 0, "tga", None)
        return cases

    def test_truncated_files_are_refused_the_same_way_every_time(self):
        for name, (data, ext, tail) in self.truncation_cases().items():
            if tail is None:
                cuts = [len(data)]
            else:
                body = len(data) - tail
                cuts = sorted({1, 2, 10, 17, 18, 19, 40, body // 2, body - 3, body - 1})
            for cut in cuts:
                with self.subTest(name=name, cut=cut):
                    part = data[:cut]
                    outs = set()
                    for _ in range(2):
                        r, _ = self.upscale_npy(part, ext)
                        self.assertEqual(r.returncode, 1, f"{name} cut at {cut} was accepted")
                        self.assertIn("error", r.stderr)
                        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                        self.assertFalse(os.path.exists(self.path("out.npy")))
                        outs.add(r.stderr)
                    self.assertEqual(len(outs), 1)

    def test_whole_files_give_the_same_bytes_every_time(self):
        for name, data, ext in self.layouts()[:4]:
            with self.subTest(name=name):
                digests = set()
                for _ in range(3):
                    r, out = self.upscale_npy(data, ext)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    digests.add(hashlib.sha256(out.tobytes()).hexdigest())
                self.assertEqual(len(digests), 1)


if __name__ == "__main__":
    unittest.main()
