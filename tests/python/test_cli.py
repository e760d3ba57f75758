"""`lucent upscale` as a user meets it: image formats and channel layouts, alpha, the embedded
default model, and clean failures (exit status, message, no partial output) on bad input."""
import os
import struct
import unittest
import zlib

import numpy as np
import torch
from PIL import Image

from common import TempDir, run_convert, run_lucent, to_u8
from reference_models import SSR


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png_header(path, w, h):
    """A PNG whose header claims w x h pixels (no real pixel data)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) +
                png_chunk(b"IEND", b""))


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_holder = TempDir()
        cls.tmp = cls.tmp_holder.__enter__()
        torch.manual_seed(7)
        cls.model = SSR(nf=8, nb=1, gc=4, n_up=1).eval()  # x2
        pth = os.path.join(cls.tmp, "m.pth")
        torch.save(cls.model.state_dict(), pth)
        cls.lcw = os.path.join(cls.tmp, "m.lcw")
        assert run_convert(pth, cls.lcw).returncode == 0
        rng = np.random.default_rng(3)
        cls.rgba = (rng.random((9, 11, 4)) * 255).astype(np.uint8)

    @classmethod
    def tearDownClass(cls):
        cls.tmp_holder.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run_ok(self, args):
        r = run_lucent(*args)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
        return r

    def fails(self, args, code, *needles, out=None, env=None):
        r = run_lucent(*args, env=env)
        self.assertEqual(r.returncode, code, f"{args}: {r.stderr}")
        for n in needles:
            self.assertIn(n, r.stderr)
        if out is not None:
            self.assertFalse(os.path.exists(out), "a failed run left an output file")
            leftovers = [f for f in os.listdir(os.path.dirname(out)) if ".tmp" in f or f.startswith(".lucent-")]
            self.assertEqual(leftovers, [], "a failed run left a temporary file")
        return r.stderr

    def test_channel_layouts_and_alpha(self):
        for mode, c in (("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)):
            with self.subTest(mode=mode):
                src, dst = self.path(f"in_{mode}.png"), self.path(f"out_{mode}.png")
                pixels = self.rgba[..., :c] if c > 1 else self.rgba[..., 0]
                if mode == "LA":
                    pixels = self.rgba[..., [0, 3]]
                Image.fromarray(pixels, mode).save(src)
                r = run_lucent("upscale", "--model", self.lcw, src, dst)
                self.assertEqual(r.returncode, 0, r.stderr)
                with Image.open(dst) as im:
                    out = np.asarray(im)
                self.assertEqual(out.shape[:2], (18, 22))
                self.assertEqual(1 if out.ndim == 2 else out.shape[2], c)
                if c in (2, 4):  # alpha resized bilinearly, alongside the colour
                    a = torch.from_numpy(pixels[..., -1].astype(np.float32) / 255)[None, None]
                    ref = torch.nn.functional.interpolate(a, scale_factor=2, mode="bilinear", align_corners=False)
                    got = out[..., -1].astype(np.int32)
                    self.assertLessEqual(np.abs(got - to_u8(ref[0, 0].numpy())).max(), 1)

    def test_png_equals_quantised_npy_and_pytorch(self):
        src = self.path("rgb.png")
        Image.fromarray(self.rgba[..., :3]).save(src)
        r1 = run_lucent("upscale", "--model", self.lcw, src, self.path("o.png"))
        r2 = run_lucent("upscale", "--model", self.lcw, src, self.path("o.npy"))
        self.assertEqual((r1.returncode, r2.returncode), (0, 0), r1.stderr + r2.stderr)
        with Image.open(self.path("o.png")) as im:
            png = np.asarray(im).astype(np.int32)
        npy = np.load(self.path("o.npy"))
        self.assertTrue(np.array_equal(png, to_u8(npy)))
        x = torch.from_numpy(self.rgba[..., :3].astype(np.float32) / 255).permute(2, 0, 1)[None]
        with torch.no_grad():
            ref = self.model(x)[0].permute(1, 2, 0).numpy()
        self.assertLessEqual(float(np.abs(npy - ref).max()), 2e-3)

    def test_other_input_formats(self):
        rgb = self.rgba[..., :3]
        for ext in ("bmp", "tga", "jpg"):
            with self.subTest(ext=ext):
                src = self.path(f"in.{ext}")
                Image.fromarray(rgb).save(src)
                r = run_lucent("upscale", "--model", self.lcw, src, self.path(f"o_{ext}.jpg"))
                self.assertEqual(r.returncode, 0, r.stderr)
                with Image.open(self.path(f"o_{ext}.jpg")) as im:
                    self.assertEqual(im.size, (22, 18))
        src16 = self.path("in16.png")
        Image.fromarray((self.rgba[..., 0].astype(np.uint16) * 257), "I;16").save(src16)
        r = run_lucent("upscale", "--model", self.lcw, src16, self.path("o16.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_lucent("upscale", "--model", self.lcw, self.path("in_RGBA.png"), self.path("o_alpha.jpg"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("alpha dropped", r.stderr)

    def test_rows_written_as_streamed_equal_the_whole_image_run(self):
        """Plain runs encode rows as the model streams them; --profile takes the whole-image
        path and writes the image at once. Every format, 8/16-bit, alpha kept or dropped, both
        commands and stripe heights must give the same file bytes."""
        src16 = self.path("rows16.png")
        Image.fromarray((self.rgba[..., 1].astype(np.uint16) * 257), "I;16").save(src16)
        srcs = {"rgba": self.path("in_RGBA.png"), "gray16": src16}
        Image.fromarray(self.rgba, "RGBA").save(srcs["rgba"])
        dark = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "models", "samples", "chelsea_128_dark.png")
        cases = [("upscale", ["--model", self.lcw], srcs["rgba"], e, []) for e in ("png", "jpg", "ppm")]
        cases += [("upscale", ["--model", self.lcw], srcs["gray16"], e, []) for e in ("png", "pgm")]
        cases += [("upscale", ["--model", self.lcw], srcs["rgba"], "png", ["--stripe-rows", s]) for s in ("1", "3")]
        cases += [("enhance", [], dark, e, []) for e in ("png", "jpg")]
        for i, (cmd, model, src, ext, extra) in enumerate(cases):
            with self.subTest(cmd=cmd, src=os.path.basename(src), ext=ext, extra=extra):
                a, b = self.path(f"rows_{i}.{ext}"), self.path(f"whole_{i}.{ext}")
                self.run_ok([cmd, *model, *extra, src, a])
                self.run_ok([cmd, *model, "--profile", src, b])
                with open(a, "rb") as fa, open(b, "rb") as fb:
                    self.assertEqual(fa.read(), fb.read())

    def test_profile_with_an_output_folder_profiles_each_image(self):
        """--profile goes with -o (each image profiled in turn, the later ones on the model's kept
        plan, same bytes as a plain run); --dump still takes one IN and one OUT."""
        srcs = [self.path(f"prof_{i}.png") for i in range(3)]
        for s in srcs:
            Image.fromarray(self.rgba[..., :3]).save(s)
        out = self.path("prof_out")
        r = self.run_ok(["upscale", "--model", self.lcw, "--profile", "-o", out, *srcs])
        self.assertEqual(sum(ln.startswith("profile: input ") for ln in r.stderr.splitlines()), 3)
        self.assertEqual(sum(ln.startswith("profile: output ") for ln in r.stderr.splitlines()), 3)
        plain = self.path("prof_plain.png")
        self.run_ok(["upscale", "--model", self.lcw, srcs[0], plain])
        with open(plain, "rb") as fa:
            want = fa.read()
        written = sorted(os.listdir(out))
        self.assertEqual(len(written), 3, written)
        for name in written:
            with open(os.path.join(out, name), "rb") as fb:
                self.assertEqual(fb.read(), want, name)
        self.fails(["upscale", "--model", self.lcw, "--dump", self.path("d"), "-o", out, *srcs], 2,
                   "--dump goes with one IN and one OUT")

    def test_progress_lines(self):
        src = self.path("prog.png")
        Image.fromarray(self.rgba[..., :3]).save(src)
        r = self.run_ok(["upscale", "--model", self.lcw, "--progress", "--stripe-rows", "4", src,
                         self.path("prog_out.png")])
        lines = [ln for ln in r.stderr.splitlines() if "rows" in ln]
        self.assertTrue(lines, r.stderr)
        self.assertIn("rows 18/18 (100%)", lines[-1])
        # Not a terminal and no --progress: silent; --quiet silences --progress too.
        r = self.run_ok(["upscale", "--model", self.lcw, src, self.path("prog_out.png")])
        self.assertNotIn("rows", r.stderr)
        r = self.run_ok(["upscale", "--model", self.lcw, "--progress", "--quiet", src, self.path("prog_out.png")])
        self.assertEqual(r.stderr, "")

    def test_default_model(self):
        src = self.path("d.png")
        Image.fromarray(self.rgba[..., :3]).save(src)
        r = run_lucent("upscale", "--verbose", src, self.path("d_out.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("embedded default SSR x4 model", r.stderr)
        with Image.open(self.path("d_out.png")) as im:
            self.assertEqual(im.size, (44, 36))

    def test_default_enhance_model(self):
        src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "models", "samples", "chelsea_128_dark.png")
        r = run_lucent("enhance", "--verbose", src, self.path("e_out.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("embedded default RED low-light model", r.stderr)
        with Image.open(self.path("e_out.png")) as im, Image.open(src) as dark:
            self.assertEqual(im.size, (128, 128))
            self.assertGreater(np.asarray(im).mean(), np.asarray(dark).mean() + 20)  # brighter

    def test_bad_command_lines(self):
        src, out = self.path("rgb.png"), self.path("never.png")
        Image.fromarray(self.rgba[..., :3]).save(src)
        cases = [
            ([], "missing command"),
            (["frobnicate", src, out], "unknown command"),
            (["upscale", src], "need an input and an output"),
            (["upscale", "--threads", "abc", src, out], "--threads"),
            (["upscale", "--threads", "-3", src, out], "--threads"),
            (["upscale", "--isa", "sse9", src, out], "--isa"),
            (["upscale", "--bogus", src, out], "unknown option"),
            (["upscale", "--max-memory", "0", src, out], "--max-memory"),
            (["upscale", "--precision", "fp16", src, out], "--precision"),
            (["upscale", src, out, "extra"], "too many"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                self.fails(args, 2, needle, out=out)
        self.fails(["upscale", src, out], 2, "LUCENT_MAX_ISA", out=out, env={"LUCENT_MAX_ISA": "avx9000"})
        # bf16 needs AMX and the avx512 tier: refused, with the reason, on any machine when capped.
        self.fails(["upscale", "--precision", "bf16", "--isa", "avx2", src, out], 1, "needs AMX", out=out)

    def test_bad_inputs_fail_cleanly(self):
        out = self.path("never.png")
        self.fails(["upscale", self.path("missing.png"), out], 1, "cannot open", out=out)
        garbage = self.path("garbage.png")
        with open(garbage, "wb") as f:
            f.write(os.urandom(2000))
        self.fails(["upscale", garbage, out], 1, "not a readable", out=out)
        Image.fromarray(self.rgba[..., :3]).save(self.path("t.png"))
        with open(self.path("t.png"), "rb") as f:
            blob = f.read()
        with open(self.path("trunc.png"), "wb") as f:
            f.write(blob[: len(blob) // 2])
        self.fails(["upscale", self.path("trunc.png"), out], 1, "error", out=out)
        self.fails(["upscale", self.path("t.png"), self.path("o.gif")], 1, "output format")
        self.fails(["upscale", self.path("t.png"), self.path("no/such/dir/o.png")], 1, "cannot create")
        np.save(self.path("bad.npy"), np.zeros((4, 4, 5), np.float32))
        self.fails(["upscale", "--model", self.lcw, self.path("bad.npy"), out], 1, "colour channel", out=out)
        np.save(self.path("bad2.npy"), np.zeros((4,), np.float32))
        self.fails(["upscale", self.path("bad2.npy"), out], 1, "H x W x C", out=out)

    def test_huge_images_are_refused_with_sizes(self):
        out = self.path("never.png")
        huge_png_header(self.path("huge.png"), 20000, 15000)  # stb_image's own cap is 2^30 bytes
        # Streaming memory grows with the width, not the height, and the output goes to the
        # file row by row; at 20000 columns even one-row stripes need more than 512 MiB.
        self.fails(["upscale", "--max-memory", "512", self.path("huge.png"), out], 1, "20000x15000",
                   "more than the 512.0 MiB", "one-row stripes", out=out)
        # A memory limit narrows the streaming stripes; the output keeps its bits.
        Image.fromarray(self.rgba[..., :3]).save(self.path("small.png"))
        self.run_ok(["upscale", self.path("small.png"), self.path("free.png")])
        self.run_ok(["upscale", "--max-memory", "1", self.path("small.png"), self.path("tight.png")])
        with open(self.path("free.png"), "rb") as a, open(self.path("tight.png"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        # Too wide for even one-row stripes in 1 MiB: refused before any work, with the sizes.
        Image.fromarray(np.zeros((4, 3000, 3), np.uint8)).save(self.path("wide.png"))
        self.fails(["upscale", "--max-memory", "1", self.path("wide.png"), out], 1, "more than the 1.0 MiB",
                   "one-row stripes", out=out)

    def test_bad_weight_files(self):
        out = self.path("never.png")
        src = self.path("w.png")
        Image.fromarray(self.rgba[..., :3]).save(src)
        with open(self.lcw, "rb") as f:
            blob = f.read()
        bad = self.path("bad.lcw")
        for name, data, needle in (
            ("truncated", blob[: len(blob) // 2], "truncated"),
            ("short", blob[:10], "shorter than"),
            ("flipped", blob[:200] + bytes([blob[200] ^ 1]) + blob[201:], "CRC"),
            ("magic", b"XXXX" + blob[4:], "magic"),
        ):
            with self.subTest(case=name):
                with open(bad, "wb") as f:
                    f.write(data)
                self.fails(["upscale", "--model", bad, src, out], 1, needle, out=out)
        self.fails(["upscale", "--model", self.path("nope.lcw"), src, out], 1, "cannot open", out=out)


if __name__ == "__main__":
    unittest.main()
