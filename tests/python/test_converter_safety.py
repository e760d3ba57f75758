"""convert.py refuses corrupt, truncated and hostile checkpoints cleanly (exit 1, a message
naming the problem, no output file), and never runs pickle code."""
import io
import os
import pickle
import struct
import unittest
import zipfile

import torch

from common import TempDir, run_convert
from reference_models import RED, SSR, ssr_state_dict_as


class Exploit:
    """Pickles to a call of os.system: what a malicious checkpoint contains."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def small_ssr(seed=0):
    torch.manual_seed(seed)
    return SSR(nf=8, nb=1, gc=4, n_up=1)


class ConverterSafety(unittest.TestCase):
    def refuse(self, tmp, src, *needles, extra=()):
        dst = os.path.join(tmp, "out.lcw")
        r = run_convert(src, dst, *extra)
        self.assertEqual(r.returncode, 1, f"accepted {src}: {r.stdout} {r.stderr}")
        self.assertNotIn("Traceback", r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertFalse(os.path.exists(dst), "a refused conversion left an output file")
        self.assertEqual([f for f in os.listdir(tmp) if f.startswith(".lcw-")], [])
        return r.stderr

    def test_pickle_code_is_never_run(self):
        with TempDir() as tmp:
            marker = os.path.join(tmp, "pwned")
            for zip_format in (True, False):
                with self.subTest(zip_format=zip_format):
                    src = os.path.join(tmp, "evil.pth")
                    sd = dict(small_ssr().state_dict())
                    sd["conv_first.weight"] = Exploit(marker)
                    torch.save(sd, src, _use_new_zipfile_serialization=zip_format)
                    self.refuse(tmp, src, "posix.system", "allow-list")
                    self.assertFalse(os.path.exists(marker), "pickle code ran")
            # A hand-made zip whose data.pkl is only the exploit.
            src = os.path.join(tmp, "evil2.pth")
            with zipfile.ZipFile(src, "w") as z:
                z.writestr("archive/data.pkl", pickle.dumps(Exploit(marker), protocol=2))
            self.refuse(tmp, src, "allow-list")
            self.assertFalse(os.path.exists(marker), "pickle code ran")

    def test_truncated_and_corrupt_files(self):
        with TempDir() as tmp:
            good_zip, good_legacy = os.path.join(tmp, "z.pth"), os.path.join(tmp, "l.pth")
            sd = small_ssr().state_dict()
            torch.save(sd, good_zip)
            torch.save(sd, good_legacy, _use_new_zipfile_serialization=False)
            for good in (good_zip, good_legacy):
                with open(good, "rb") as f:
                    blob = f.read()
                for cut in (3, 64, len(blob) // 3, len(blob) // 2, len(blob) - 9):
                    with self.subTest(file=os.path.basename(good), cut=cut):
                        bad = os.path.join(tmp, "cut.pth")
                        with open(bad, "wb") as f:
                            f.write(blob[:cut])
                        self.refuse(tmp, bad)
            bad = os.path.join(tmp, "garbage.pth")
            with open(bad, "wb") as f:
                f.write(os.urandom(4096))
            self.refuse(tmp, bad, "not a PyTorch checkpoint")
            self.refuse(tmp, os.path.join(tmp, "missing.pth"), "cannot read")
            empty = os.path.join(tmp, "empty.pth")
            open(empty, "wb").close()
            self.refuse(tmp, empty)

    def test_hostile_safetensors(self):
        with TempDir() as tmp:
            src = os.path.join(tmp, "h.safetensors")

            def write(header, data=b""):
                h = (header if isinstance(header, bytes) else
                     __import__("json").dumps(header).encode())
                with open(src, "wb") as f:
                    f.write(struct.pack("<Q", len(h)) + h + data)

            write({"conv_first.weight": {"dtype": "F32", "shape": [8, 3, 3, 3], "data_offsets": [0, 1 << 40]}})
            self.refuse(tmp, src, "conv_first.weight", "offsets")
            write({"x": {"dtype": "I128", "shape": [1], "data_offsets": [0, 16]}}, b"\0" * 16)
            self.refuse(tmp, src, "unsupported dtype")
            write(b"{not json")
            self.refuse(tmp, src, "not JSON")
            with open(src, "wb") as f:
                f.write(struct.pack("<Q", 1 << 62) + b"{}")
            self.refuse(tmp, src)

    def test_storage_overrun_is_refused(self):
        """A tensor whose size/stride reach past its storage must not read out of bounds."""
        with TempDir() as tmp:
            src = os.path.join(tmp, "overrun.pth")
            t = torch.zeros(4)
            buf = io.BytesIO()
            torch.save({"conv_first.weight": t}, buf)
            blob = buf.getvalue()
            # Rewrite the pickled size tuple (4,) to (4000,) by patching the zip member.
            with zipfile.ZipFile(io.BytesIO(blob)) as z:
                members = {n: z.read(n) for n in z.namelist()}
            pkl = next(n for n in members if n.endswith("data.pkl"))
            patched = members[pkl].replace(b"K\x04\x85", b"M\xa0\x0f\x85")
            self.assertNotEqual(patched, members[pkl])
            members[pkl] = patched
            with zipfile.ZipFile(src, "w") as z:
                for n, d in members.items():
                    z.writestr(n, d)
            self.refuse(tmp, src, "past its storage")

    def test_unknown_missing_and_misshaped_keys_are_named(self):
        with TempDir() as tmp:
            sd = dict(small_ssr().state_dict())
            src = os.path.join(tmp, "k.pth")
            extra = dict(sd, **{"body.0.rdb1.conv9.weight": torch.zeros(1)})
            torch.save(extra, src)
            self.refuse(tmp, src, "unexpected", "body.0.rdb1.conv9.weight")
            missing = {k: v for k, v in sd.items() if k != "body.0.rdb2.conv3.bias"}
            torch.save(missing, src)
            self.refuse(tmp, src, "missing", "body.0.rdb2.conv3.bias")
            wrong = dict(sd, **{"conv_hr.weight": torch.zeros(8, 8, 5, 5)})
            torch.save(wrong, src)
            self.refuse(tmp, src, "mis-shaped", "conv_hr.weight")
            old = ssr_state_dict_as(sd, "esrgan", 1, 1)
            old["RRDB_trunk.0.RDB1.bogus.weight"] = torch.zeros(1)
            torch.save(old, src)
            self.refuse(tmp, src, "RRDB_trunk.0.RDB1.bogus.weight")
            torch.save({"optimizer": {"lr": 1.0}}, src)
            self.refuse(tmp, src)
            nan = dict(sd, **{"conv_last.bias": torch.tensor([float("nan")] * 3)})
            torch.save(nan, src)
            self.refuse(tmp, src, "conv_last.bias", "NaN")
            # fuzz_converter's finding (seed 1795394942): nf = 0 divided the layout inference.
            empty = dict(sd, **{"conv_first.weight": torch.zeros(0, 3, 3, 3),
                                "conv_up1.weight": torch.zeros(32, 8, 3, 3)})
            torch.save(empty, src)
            self.refuse(tmp, src, "conv_first.weight", "empty dimension")

    def test_red_bins_must_match_stages(self):
        with TempDir() as tmp:
            src = os.path.join(tmp, "r.pth")
            red = RED(c0=8, c1=8, c2=16, bins=[1, 2])
            torch.save({"params": red.state_dict(), "config": {"ppm_bins": [1, 2, 3]}}, src)
            self.refuse(tmp, src, "ppm_bins", "2 ppm.stages")
            torch.save({"params": red.state_dict()}, src)
            self.refuse(tmp, src, "no config ppm_bins")
            # An empty c2 passed every divisibility check and divided by a zero reduction.
            empty = dict(red.state_dict(), **{"enc2.weight": torch.zeros(0, 8, 3, 3)})
            torch.save({"params": empty, "config": {"ppm_bins": [1, 2]}}, src)
            self.refuse(tmp, src, "enc2.weight", "every dimension >= 1")

    def test_wrong_graph_flag(self):
        with TempDir() as tmp:
            src = os.path.join(tmp, "s.pth")
            torch.save(small_ssr().state_dict(), src)
            self.refuse(tmp, src, "missing tensor enc0.weight", extra=("--graph", "red"))


if __name__ == "__main__":
    unittest.main()
