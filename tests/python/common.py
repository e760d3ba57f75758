"""Helpers shared by the Python end-to-end tests (run by CTest with Debian's python3)."""
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "converters"))
LUCENT = os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent"))
CONVERT = os.path.join(ROOT, "converters", "convert.py")

# docs/GRAPHS.md numerics contract.
REFERENCE_ATOL = 1e-4
FAST_ATOL = 2e-3


def run_convert(src, dst, *extra):
    return subprocess.run([sys.executable, CONVERT, src, dst, *extra], capture_output=True, text=True)


def run_lucent(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([LUCENT, *args], capture_output=True, text=True, env=full_env, timeout=600)


def to_u8(x):
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.int32)


class TempDir:
    def __enter__(self):
        self.t = tempfile.TemporaryDirectory(prefix="lucent-test-")
        return self.t.name

    def __exit__(self, *exc):
        self.t.cleanup()


def check_contract(test, got, ref, reference_path, what):
    """The numerics contract on a model output (float arrays of the same shape)."""
    test.assertEqual(got.shape, ref.shape, what)
    diff = float(np.abs(got.astype(np.float64) - ref.astype(np.float64)).max())
    atol = REFERENCE_ATOL if reference_path else FAST_ATOL
    test.assertLessEqual(diff, atol, f"{what}: max |lucent - pytorch| = {diff:.3g} > {atol}")
    if not reference_path:
        levels = np.abs(to_u8(got) - to_u8(ref))
        test.assertLessEqual(int(levels.max()), 1, f"{what}: 8-bit output differs by {levels.max()} levels")
        frac = float((levels > 0).mean())
        test.assertLessEqual(frac, 0.001, f"{what}: {frac:.4%} of 8-bit values differ")
    return diff
