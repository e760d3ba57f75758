"""The compact SR graph (SRVGGNetCompact) end to end: .pth with Real-ESRGAN's keys and ncnn
.param/.bin files (written by tests/python/ncnn_writer.py, as onnx2ncnn lays them out) through
convert.py and build/lucent, against the PyTorch reference module; every stripe height and
thread count gives the same bits; bf16; RRDBNet from ncnn files; hostile ncnn files get a
one-line error."""
import os
import struct
import subprocess
import sys
import unittest

import numpy as np
import torch

import ncnn_writer
from common import CONVERT, TempDir, check_contract, run_convert, run_lucent
from reference_models import SSR, Compact


def forward(model, x_hwc):
    with torch.no_grad():
        return model(torch.from_numpy(x_hwc).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()


def random_prelu(model, seed):
    g = torch.Generator().manual_seed(seed)
    for layer in model.body:
        if isinstance(layer, torch.nn.PReLU):
            layer.weight.data = torch.rand(layer.weight.shape, generator=g) - 0.5
    return model


VARIANTS = {
    "prelu_x4": (dict(nf=16, num_conv=3, scale=4, act="prelu"), (13, 11)),
    "prelu_x2": (dict(nf=12, num_conv=2, scale=2, act="prelu"), (9, 14)),
    "prelu_x3": (dict(nf=8, num_conv=1, scale=3, act="prelu"), (7, 6)),
    "lrelu_x1": (dict(nf=8, num_conv=2, scale=1, act="lrelu"), (10, 9)),
    "relu_x4_no_body": (dict(nf=8, num_conv=0, scale=4, act="relu"), (5, 7)),
    "gray": (dict(in_ch=1, out_ch=1, nf=8, num_conv=1, scale=2, act="prelu"), (8, 8)),
    "realesrgan_widths": (dict(nf=64, num_conv=4, scale=4, act="prelu"), (16, 12)),
}


class CompactEndToEnd(unittest.TestCase):
    def setUp(self):
        self.holder = TempDir()
        self.tmp = self.holder.__enter__()

    def tearDown(self):
        self.holder.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def upscale(self, lcw, x, *extra):
        np.save(self.path("in.npy"), x)
        out = self.path("out.npy")
        r = run_lucent("upscale", "--model", lcw, *extra, self.path("in.npy"), out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return np.load(out)

    def convert_pth(self, model, act=None):
        pth, lcw = self.path("m.pth"), self.path("m.lcw")
        torch.save({"params_ema": model.state_dict()}, pth)
        r = run_convert(pth, lcw, *(["--act", act] if act else []))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("COMPACT", r.stdout)
        return lcw

    def test_every_variant_matches_pytorch(self):
        for i, (name, (kw, (w, h))) in enumerate(VARIANTS.items()):
            with self.subTest(variant=name):
                torch.manual_seed(40 + i)
                model = random_prelu(Compact(**kw).eval(), i)
                act = kw["act"] if kw["act"] != "prelu" else None
                lcw = self.convert_pth(model, act)
                x = np.random.default_rng(i).random((h, w, kw.get("in_ch", 3))).astype(np.float32)
                ref = forward(model, x)
                check_contract(self, self.upscale(lcw, x), ref, False, name)
                check_contract(self, self.upscale(lcw, x, "--reference"), ref, True, name + " reference")

    def test_stripes_and_threads_are_bit_identical(self):
        torch.manual_seed(3)
        model = random_prelu(Compact(nf=16, num_conv=3, scale=4).eval(), 3)
        lcw = self.convert_pth(model)
        x = np.random.default_rng(2).random((37, 29, 3)).astype(np.float32)
        want = self.upscale(lcw, x, "--profile", "--threads", "1")  # the whole-image plan
        for extra in (["--stripe-rows", "1"], ["--stripe-rows", "5"], ["--stripe-rows", "64"], ["--threads", "2"],
                      ["--threads", "3", "--stripe-rows", "7"], ["--max-memory", "4"]):
            with self.subTest(extra=extra):
                self.assertEqual(self.upscale(lcw, x, *extra).tobytes(), want.tobytes())

    def test_bf16_within_its_contract(self):
        torch.manual_seed(5)
        model = random_prelu(Compact(nf=32, num_conv=3, scale=4).eval(), 5)
        lcw = self.convert_pth(model)
        x = np.random.default_rng(5).random((24, 20, 3)).astype(np.float32)
        np.save(self.path("in.npy"), x)
        r = run_lucent("upscale", "--model", lcw, "--precision", "bf16", self.path("in.npy"), self.path("b.npy"))
        if r.returncode != 0:
            self.assertIn("bf16 needs", r.stderr)  # a CPU without AMX or AVX512-BF16
            self.skipTest("no bf16 kernel on this CPU")
        got, fp32 = np.load(self.path("b.npy")), self.upscale(lcw, x)
        diff = np.abs(np.rint(np.clip(got, 0, 1) * 255) - np.rint(np.clip(fp32, 0, 1) * 255))
        mse = float(np.mean((np.clip(got, 0, 1) - np.clip(fp32, 0, 1)) ** 2))
        psnr = 10 * np.log10(1.0 / max(mse, 1e-20))
        self.assertGreaterEqual(psnr, 50.0)
        self.assertLessEqual(int(diff.max()), 8)
        b2 = self.path("b2.npy")
        r = run_lucent("upscale", "--model", lcw, "--precision", "bf16", "--threads", "1", "--stripe-rows", "3",
                       self.path("in.npy"), b2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(np.load(b2).tobytes(), got.tobytes())

    def test_ncnn_files_match_pytorch(self):
        x = np.random.default_rng(7).random((11, 13, 3)).astype(np.float32)
        for enc in ("fp16", "fp32", "mixed"):
            with self.subTest(graph="compact", encoding=enc):
                torch.manual_seed(8)
                model = random_prelu(Compact(nf=16, num_conv=2, scale=4).eval(), 8)
                model = ncnn_writer.write_compact(model, self.path("c"), enc)  # weights as stored
                r = run_convert(self.path("c.param"), self.path("c.lcw"))
                self.assertEqual(r.returncode, 0, r.stderr)
                check_contract(self, self.upscale(self.path("c.lcw"), x), forward(model, x), False, enc)
        for act in ("lrelu", "relu"):
            with self.subTest(graph="compact", act=act):
                model = Compact(nf=8, num_conv=1, scale=2, act=act).eval()
                model = ncnn_writer.write_compact(model, self.path("a"), "fp32")
                r = run_convert(self.path("a.param"), self.path("a.lcw"))
                self.assertEqual(r.returncode, 0, r.stderr)
                check_contract(self, self.upscale(self.path("a.lcw"), x), forward(model, x), False, act)
        with self.subTest(graph="rrdbnet"):
            torch.manual_seed(9)
            model = ncnn_writer.write_rrdbnet(SSR(nf=16, nb=2, gc=8, n_up=2).eval(), self.path("r"))
            bin_moved = self.path("weights_elsewhere.bin")
            os.rename(self.path("r.bin"), bin_moved)
            r = run_convert(self.path("r.param"), self.path("r.lcw"), "--bin", bin_moved)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("SSR", r.stdout)
            check_contract(self, self.upscale(self.path("r.lcw"), x), forward(model, x), False, "rrdbnet")

    def test_dump_names_the_pytorch_modules(self):
        torch.manual_seed(4)
        model = random_prelu(Compact(nf=8, num_conv=1, scale=2).eval(), 4)
        lcw = self.convert_pth(model)
        x = np.random.default_rng(4).random((6, 5, 3)).astype(np.float32)
        np.save(self.path("in.npy"), x)
        dump = self.path("dump")
        r = run_lucent("upscale", "--model", lcw, "--dump", dump, self.path("in.npy"), self.path("o.npy"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = {}
        hooks = [m.register_forward_hook(lambda mod, i, o, n=n: acts.__setitem__(n, o.detach()))
                 for n, m in model.body.named_children()]
        forward(model, x)
        for h in hooks:
            h.remove()
        for name in ("body.1", "body.3", "body.4"):
            got = np.load(os.path.join(dump, f"{name}.npy"))
            ref = acts[name.split(".")[1]].numpy()
            self.assertLessEqual(float(np.abs(got - ref).max()), 2e-3, name)


    def test_server_and_batch_run_it_like_the_cli(self):
        from test_serve import Server, png_bytes
        torch.manual_seed(6)
        lcw = self.convert_pth(random_prelu(Compact(nf=8, num_conv=1, scale=3).eval(), 6))
        img = (np.random.default_rng(6).random((10, 12, 3)) * 255).astype(np.uint8)
        data = png_bytes(img)
        with open(self.path("in.png"), "wb") as f:
            f.write(data)
        r = run_lucent("upscale", "--model", lcw, self.path("in.png"), self.path("cli.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.path("cli.png"), "rb") as f:
            want = f.read()
        srv = Server("--model", lcw, "--quiet")
        try:
            status, _, body = srv.request("POST", "/v1/upscale", data, {"Content-Type": "image/png"})
            self.assertEqual(status, 200, body[:200])
            self.assertEqual(body, want)
        finally:
            self.assertEqual(srv.stop(), 0)
        # Folder mode names outputs by the model's scale.
        os.makedirs(self.path("batch"))
        r = run_lucent("upscale", "--model", lcw, "-o", self.path("out"), self.path("in.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(self.path("out/in_x3.png")))


class HostileNcnn(unittest.TestCase):
    def setUp(self):
        self.holder = TempDir()
        self.tmp = self.holder.__enter__()
        torch.manual_seed(1)
        ncnn_writer.write_compact(Compact(nf=8, num_conv=1, scale=2).eval(), os.path.join(self.tmp, "ok"))
        with open(os.path.join(self.tmp, "ok.param")) as f:
            self.param = f.read()
        with open(os.path.join(self.tmp, "ok.bin"), "rb") as f:
            self.bin = f.read()

    def tearDown(self):
        self.holder.__exit__(None, None, None)

    def refused(self, param, binary, needle):
        p, b, out = (os.path.join(self.tmp, n) for n in ("x.param", "x.bin", "x.lcw"))
        with open(p, "w" if isinstance(param, str) else "wb") as f:
            f.write(param)
        with open(b, "wb") as f:
            f.write(binary)
        r = subprocess.run([sys.executable, CONVERT, p, out], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(needle, r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_hostile_files(self):
        lines = self.param.splitlines()
        self.refused(self.param, self.bin[:-5], "ends inside")
        self.refused(self.param, self.bin + b"\0" * 8, "bytes after the last weight")
        self.refused(self.param[: len(self.param) // 2], self.bin, "layer")
        self.refused("\n".join(["7767517", "999999999 5"] + lines[2:]), self.bin, "out of range")
        self.refused("\n".join(["7767517", "3 5"] + lines[2:]), self.bin, "declares 3 layers")
        self.refused("\n".join(lines[:2] + [lines[2].replace("Input", "Softmax", 1)] + lines[3:]), self.bin,
                     "Softmax")
        # A cycle: the first convolution reads a blob that a later layer produces.
        conv = next(i for i, ln in enumerate(lines) if ln.startswith("Convolution"))
        later_top = lines[-2].split()[-1] if "=" not in lines[-2].split()[-1] else lines[-2].split()[5]
        tok = lines[conv].split()
        tok[4] = later_top
        self.refused("\n".join(lines[:conv] + [" ".join(tok)] + lines[conv + 1:]), self.bin, "before any layer")
        # Absurd sizes and counts.
        tok = lines[conv].split()
        huge = [t if not t.startswith("6=") else "6=99999999999" for t in tok]
        self.refused("\n".join(lines[:conv] + [" ".join(huge)] + lines[conv + 1:]), self.bin, "weight_data_size")
        self.refused("\n".join(lines[:conv] + [" ".join(tok + ["-23310=5000000,1"])] + lines[conv + 1:]),
                     self.bin, "declares")
        # int8 weights, refused by name.
        int8 = bytearray(self.bin)
        int8[0:4] = struct.pack("<I", 0x000D4B38)
        self.refused(self.param, bytes(int8), "int8")
        self.refused(b"\xff\xfebinary", self.bin, "not ASCII")
        self.refused("7767517\n", self.bin, "ends after its magic")
        self.refused("not a model\n1 1\n", self.bin, "magic")
        # The x2 / x3 compact exports' bicubic downscale, refused by name.
        bicubic = self.param.replace("BinaryOp", "BinaryOp", 1)
        last = [ln for ln in bicubic.splitlines() if ln.startswith("BinaryOp")][0]
        tok = last.split()
        extra = f"Interp                   Resize_final             1 1 {tok[-2] if '=' in tok[-1] else tok[-1]} final 0=3 1=5.000000e-01 2=5.000000e-01"
        head = bicubic.splitlines()
        n_layers, n_blobs = (int(v) for v in head[1].split())
        text = "\n".join([head[0], f"{n_layers + 1} {n_blobs + 1}"] + head[2:] + [extra]) + "\n"
        self.refused(text, self.bin, "bicubic")


if __name__ == "__main__":
    unittest.main()
