"""Hostile input and faults, each a finding of the robustness review with its regression test:
converter memory bombs and pickle tricks (one-line errors, bounded memory), non-finite input,
a valid but huge PNG, a JPEG crafted against stb_image's Huffman decoder, a full disk, and
absurd thread counts."""
import os
import resource
import signal
import subprocess
import sys
import unittest

import numpy as np
from PIL import Image

import hostile_files
from common import CONVERT, LUCENT, TempDir, run_lucent


def convert_with_peak_rss(src, dst):
    """Runs convert.py; returns (completed process, the child's peak RSS in MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run([sys.executable, CONVERT, src, dst], capture_output=True, text=True, timeout=300)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return r, max(peak, before) / 1024.0


class HostileCheckpoints(unittest.TestCase):
    def setUp(self):
        self.holder = TempDir()
        self.tmp = self.holder.__enter__()

    def tearDown(self):
        self.holder.__exit__(None, None, None)

    def check(self, builder, needle, max_rss_mib=400):
        src, dst = os.path.join(self.tmp, "x.pth"), os.path.join(self.tmp, "x.lcw")
        builder(src)
        r, peak = convert_with_peak_rss(src, dst)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(needle, r.stderr)
        self.assertFalse(os.path.exists(dst))
        self.assertLess(peak, max_rss_mib, f"{builder.__name__}: peak RSS {peak:.0f} MiB")

    def test_zip_bomb_declared_size(self):
        self.check(hostile_files.zip_bomb_declared, "declares 1500000000 elements")

    def test_zip_bomb_consistent_size(self):
        self.check(hostile_files.zip_bomb_consistent, "zip bomb")

    def test_deeply_nested_pickle(self):
        self.check(hostile_files.deeply_nested, "nested more than")

    def test_build_opcode_on_a_tensor(self):
        self.check(hostile_files.build_on_tensor, "BUILD opcode")

    def test_int64_overflowing_shape(self):
        self.check(hostile_files.overflowing_shape, "too large")

    def test_legacy_file_declaring_32_gib(self):
        self.check(hostile_files.legacy_huge, "only 1000 remain")


class HostileImages(unittest.TestCase):
    def setUp(self):
        self.holder = TempDir()
        self.tmp = self.holder.__enter__()

    def tearDown(self):
        self.holder.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def assert_clean_failure(self, args, code, *needles):
        out = args[-1]
        r = run_lucent(*args)
        self.assertEqual(r.returncode, code, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(os.path.dirname(out)) if f.startswith(".lucent-")], [])
        return r.stderr

    def test_non_finite_npy_input_is_refused(self):
        for bad, word in ((np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")):
            a = np.random.default_rng(1).random((5, 6, 3)).astype(np.float32)
            a[3, 4, 1] = bad
            np.save(self.path("bad.npy"), a)
            self.assert_clean_failure(["enhance", self.path("bad.npy"), self.path("o.png")], 1, word,
                                      "row 3, column 4")
            a = np.random.default_rng(1).random((5, 6, 4)).astype(np.float32)
            a[2, 1, 3] = bad  # in the alpha channel, which does not go through the model
            np.save(self.path("bad.npy"), a)
            self.assert_clean_failure(["enhance", self.path("bad.npy"), self.path("o.npy")], 1, word, "alpha")

    def test_valid_huge_png_is_refused_with_its_sizes(self):
        # Both graphs stream and the CLI writes its output row by row, so neither the working
        # memory nor the output grows with the height; 19000 (RED) or 40000 (SSR) columns need
        # more than the limit even in one-row stripes (the limit makes the test independent of
        # the machine's memory).
        hostile_files.valid_huge_png(self.path("huge.png"), 19000, 19000)
        err = self.assert_clean_failure(["enhance", "--max-memory", "64", self.path("huge.png"),
                                         self.path("o.png")], 1, "19000x19000", "more than the 64.0 MiB")
        self.assertNotIn("not a readable", err)
        hostile_files.valid_huge_png(self.path("huger.png"), 40000, 40000)
        self.assert_clean_failure(["upscale", "--max-memory", "1024", self.path("huger.png"), self.path("o.png")],
                                  1, "40000x40000", "more than the 1.0 GiB", "one-row stripes")

    def test_crafted_huffman_table_is_a_clean_error(self):
        Image.fromarray((np.random.default_rng(2).random((16, 16, 3)) * 255).astype(np.uint8)).save(
            self.path("ok.jpg"), quality=90)
        with open(self.path("ok.jpg"), "rb") as f:
            hostile_files.jpeg_bad_huffman(self.path("bad.jpg"), f.read())
        self.assert_clean_failure(["enhance", self.path("bad.jpg"), self.path("o.png")], 1, "not a readable JPEG")

    def test_truncated_jpeg_is_an_error(self):
        Image.fromarray((np.random.default_rng(2).random((64, 64, 3)) * 255).astype(np.uint8)).save(
            self.path("ok.jpg"), quality=90)
        with open(self.path("ok.jpg"), "rb") as f:
            blob = f.read()
        with open(self.path("cut.jpg"), "wb") as f:
            f.write(blob[: len(blob) * 2 // 3])
        self.assert_clean_failure(["enhance", self.path("cut.jpg"), self.path("o.png")], 1, "not a readable JPEG")

    def test_full_disk_leaves_nothing(self):
        Image.fromarray((np.random.default_rng(3).random((64, 64, 3)) * 255).astype(np.uint8)).save(
            self.path("in.png"))

        def small_files():  # a file-size limit stands in for a full disk: writes fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

        for out in ("o.png", "o.npy", "o.ppm"):
            r = subprocess.run([LUCENT, "upscale", self.path("in.png"), self.path(out)], capture_output=True,
                               text=True, preexec_fn=small_files)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot write", r.stderr)
            self.assertFalse(os.path.exists(self.path(out)))
            self.assertEqual([f for f in os.listdir(self.tmp) if f.startswith(".lucent-")], [])

    def test_file_size_limit_with_the_default_signal_leaves_nothing(self):
        # `ulimit -f` in a shell: SIGXFSZ at its default action would kill the process mid-write
        # and leave the temporary file; the CLI ignores it, so the write fails and is cleaned up.
        Image.fromarray((np.random.default_rng(4).random((64, 64, 3)) * 255).astype(np.uint8)).save(
            self.path("in.png"))

        def ulimit_f():
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

        for out in ("o.png", "o.npy"):
            r = subprocess.run([LUCENT, "upscale", self.path("in.png"), self.path(out)], capture_output=True,
                               text=True, preexec_fn=ulimit_f)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot write", r.stderr)
            self.assertFalse(os.path.exists(self.path(out)))
            self.assertEqual([f for f in os.listdir(self.tmp) if f.startswith(".lucent-")], [])

    def test_absurd_thread_counts_are_refused(self):
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(self.path("in.png"))
        self.assert_clean_failure(["enhance", "--threads", "1000", self.path("in.png"), self.path("o.png")], 2,
                                  "--threads")


if __name__ == "__main__":
    unittest.main()
