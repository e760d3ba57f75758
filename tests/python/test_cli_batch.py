"""`lucent upscale/enhance -o OUTDIR IN...`: several files and folders in one run, output names,
skip / overwrite, failures that do not stop the batch, and the output-file rules (atomic,
umask, no symlink following, never replacing the input)."""
import os
import stat
import subprocess
import unittest

import numpy as np
from PIL import Image

from common import LUCENT, TempDir, run_lucent


class Batch(unittest.TestCase):
    def setUp(self):
        self.holder = TempDir()
        self.tmp = self.holder.__enter__()
        rng = np.random.default_rng(5)
        self.inp = os.path.join(self.tmp, "in")
        os.mkdir(self.inp)
        for name, shape in (("a.png", (6, 5, 3)), ("b.png", (4, 7, 4)), ("c.jpg", (5, 5, 3))):
            Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(os.path.join(self.inp, name))
        with open(os.path.join(self.inp, "broken.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
        with open(os.path.join(self.inp, "notes.txt"), "w") as f:
            f.write("not an image")
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self):
        self.holder.__exit__(None, None, None)

    def leftovers(self, folder):
        return [f for f in os.listdir(folder) if f.startswith(".lucent-") or ".tmp" in f]

    def test_folder_batch_continues_past_bad_files(self):
        r = run_lucent("upscale", "--threads", "1", "-o", self.out, self.inp)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("broken.png", r.stderr)
        self.assertIn("3 written, 0 skipped, 1 failed", r.stderr)
        self.assertEqual(sorted(os.listdir(self.out)), ["a_x4.png", "b_x4.png", "c_x4.png"])
        # Each equals the single-file command's output, byte for byte.
        for stem, ext in (("a", "png"), ("b", "png"), ("c", "jpg")):
            single = os.path.join(self.tmp, stem + "_single.png")
            r1 = run_lucent("upscale", "--threads", "1", os.path.join(self.inp, f"{stem}.{ext}"), single)
            self.assertEqual(r1.returncode, 0, r1.stderr)
            with open(single, "rb") as f1, open(os.path.join(self.out, f"{stem}_x4.png"), "rb") as f2:
                self.assertEqual(f1.read(), f2.read(), stem)
        with Image.open(os.path.join(self.out, "b_x4.png")) as im:
            self.assertEqual((im.size, im.mode), ((28, 16), "RGBA"))
        self.assertEqual(self.leftovers(self.out), [])

        # Second run: everything exists and is skipped; exit 1 only for the broken file.
        r = run_lucent("upscale", "-o", self.out, os.path.join(self.inp, "a.png"), os.path.join(self.inp, "b.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 written, 2 skipped, 0 failed", r.stderr)
        before = os.stat(os.path.join(self.out, "a_x4.png")).st_mtime_ns
        r = run_lucent("upscale", "--overwrite", "-o", self.out, os.path.join(self.inp, "a.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(os.stat(os.path.join(self.out, "a_x4.png")).st_mtime_ns, before)

    def test_suffix_ext_and_formats(self):
        src = os.path.join(self.inp, "a.png")
        for ext, check in (("jpg", b"\xff\xd8"), ("ppm", b"P6\n"), ("npy", b"\x93NUMPY")):
            r = run_lucent("enhance", "-o", self.out, "--suffix", "-e", "--ext", ext, src)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(self.out, f"a-e.{ext}"), "rb") as f:
                self.assertTrue(f.read().startswith(check), ext)
        r = run_lucent("enhance", "-o", self.out, "--ext", "ppm", os.path.join(self.inp, "b.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("alpha dropped", r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.out, "b_enhanced.ppm")))

    def test_sixteen_bit_png_stays_sixteen_bit(self):
        rng = np.random.default_rng(9)
        gray16 = (rng.random((6, 5)) * 65535).astype(np.uint16)
        src = os.path.join(self.tmp, "g16.png")
        Image.fromarray(gray16).save(src)
        with open(src, "rb") as f:
            self.assertEqual(f.read(25)[24], 16)  # PIL wrote a 16-bit PNG
        np.save(os.path.join(self.tmp, "g16.npy"), gray16.astype(np.float32) / 65535.0)
        for out in ("o16.png", "o16.npy"):
            r = run_lucent("enhance", src if out.endswith(".png") else os.path.join(self.tmp, "g16.npy"),
                           os.path.join(self.tmp, out))
            self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "o16.png"), "rb") as f:
            self.assertEqual(f.read(25)[24], 16)  # IHDR bit depth
        with Image.open(os.path.join(self.tmp, "o16.png")) as im:
            got = np.asarray(im).astype(np.int64)
        ref = np.load(os.path.join(self.tmp, "o16.npy"))[..., 0]
        want = np.rint(np.clip(ref, 0, 1) * 65535).astype(np.int64)
        self.assertLessEqual(int(np.abs(got - want).max()), 1)  # float32 rounding of v*65535

    def test_never_replaces_the_input(self):
        src = os.path.join(self.inp, "a.png")
        with open(src, "rb") as f:
            before = f.read()
        r = run_lucent("enhance", src, src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is the input", r.stderr)
        r = run_lucent("enhance", "-o", self.inp, "--suffix", "", "--overwrite", src)
        self.assertEqual(r.returncode, 1)
        with open(src, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_output_permissions_follow_the_umask(self):
        src, dst = os.path.join(self.inp, "a.png"), os.path.join(self.tmp, "o.png")
        for mask, want in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
            r = subprocess.run(["sh", "-c", f'umask {mask:03o} && exec "$0" "$@"', LUCENT, "enhance", src, dst],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(stat.S_IMODE(os.stat(dst).st_mode), want, oct(mask))
            os.remove(dst)

    def test_npy_output_does_not_follow_a_planted_symlink(self):
        src = os.path.join(self.inp, "a.png")
        victim = os.path.join(self.tmp, "victim.txt")
        with open(victim, "w") as f:
            f.write("precious")
        dst = os.path.join(self.tmp, "o.npy")
        os.symlink(victim, dst + ".tmp")  # the fixed name older versions wrote through
        r = run_lucent("enhance", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")
        self.assertEqual(np.load(dst).shape, (6, 5, 3))

    def test_long_output_names(self):
        src = os.path.join(self.inp, "a.png")
        name = "n" * 251 + ".png"  # NAME_MAX is 255: no room for a suffix on the name
        r = run_lucent("enhance", src, os.path.join(self.tmp, name))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, name)))

    def test_help_and_verbose_threads(self):
        r = run_lucent("upscale", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage:", r.stdout)
        src, dst = os.path.join(self.inp, "a.png"), os.path.join(self.tmp, "v.png")
        r = run_lucent("enhance", "--threads", "1", "--verbose", src, dst)
        self.assertIn("threads 1;", r.stderr)
        r = run_lucent("enhance", "--verbose", src, dst)
        self.assertIn(f"threads {os.cpu_count()};", r.stderr)
        r = run_lucent("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^lucent \d+\.\d+\.\d+ ")


if __name__ == "__main__":
    unittest.main()
