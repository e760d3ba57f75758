"""A small ncnn model writer for the tests: the compact SR and RRDBNet reference modules written
as a text .param and a .bin the way onnx2ncnn lays them out (Split layers for shared blobs,
LeakyReLU fused into Convolution, PReLU and the residual sums as their own layers), with each
convolution's weights stored as float32, float16 or an 8-bit codebook."""
import struct

import numpy as np
import torch.nn as nn

TAG_FP16 = 0x01306B47


class Writer:
    def __init__(self, encoding="fp16"):
        self.layers, self.bin, self.uses, self.n = [], bytearray(), {}, 0
        self.encoding = encoding

    def blob(self):
        self.n += 1
        return f"b{self.n}"

    def layer(self, kind, bottoms, tops, params=""):
        self.layers.append([kind, f"{kind.lower()}_{len(self.layers)}", list(bottoms), list(tops), params])
        for b in bottoms:
            self.uses[b] = self.uses.get(b, 0) + 1
        return tops[0] if tops else None

    def weights(self, w, encoding=None):
        w = np.ascontiguousarray(w, dtype=np.float32).ravel()
        enc = encoding or self.encoding
        if enc == "fp16":
            raw = w.astype("<f2").tobytes()
            self.bin += struct.pack("<I", TAG_FP16) + raw + b"\0" * (-len(raw) % 4)
        elif enc == "codebook":
            book = np.linspace(w.min(), w.max(), 256).astype(np.float32)
            idx = np.abs(w[:, None] - book[None, :]).argmin(axis=1).astype(np.uint8)
            self.bin += bytes([1, 0, 0, 0]) + book.astype("<f4").tobytes() + idx.tobytes() + b"\0" * (-len(idx) % 4)
            return book[idx]
        else:
            self.bin += struct.pack("<I", 0) + w.astype("<f4").tobytes()
        return w.astype(np.float16).astype(np.float32) if enc == "fp16" else w

    def conv(self, conv, x, slope=None, encoding=None):
        w = conv.weight.detach().numpy()
        out, cin = w.shape[0], w.shape[1]
        act = f" 9=2 -23310=1,{slope:e}" if slope is not None else ""
        top = self.layer("Convolution", [x], [self.blob()], f"0={out} 1=3 4=1 5=1 6={out * cin * 9}{act}")
        stored = self.weights(w, encoding)
        self.bin += conv.bias.detach().numpy().astype("<f4").tobytes()
        return top, stored.reshape(w.shape)

    def text(self):
        # Blobs read more than once go through a Split, as onnx2ncnn writes them.
        out, produced = [], {}
        counts = {b: c for b, c in self.uses.items()}
        rename = {}
        for kind, name, bottoms, tops, params in self.layers:
            bottoms = [rename.get(b, [b]).pop() if isinstance(rename.get(b), list) else b for b in bottoms]
            out.append(f"{kind:<24} {name:<24} {len(bottoms)} {len(tops)} {' '.join(bottoms + tops)} {params}".rstrip())
            for t in tops:
                if counts.get(t, 0) > 1:
                    parts = [f"{t}_split{k}" for k in range(counts[t])]
                    out.append(f"{'Split':<24} {'split_' + t:<24} 1 {len(parts)} {t} {' '.join(parts)}")
                    rename[t] = parts[::-1]
        blobs = set()
        for line in out:
            tok = line.split()
            nb, nt = int(tok[2]), int(tok[3])
            blobs.update(tok[4 + nb:4 + nb + nt])
        return f"7767517\n{len(out)} {len(blobs)}\n" + "\n".join(out) + "\n"

    def save(self, stem):
        with open(stem + ".param", "w") as f:
            f.write(self.text())
        with open(stem + ".bin", "wb") as f:
            f.write(bytes(self.bin))


def write_compact(model, stem, encoding="fp16"):
    """Writes the Compact reference module; returns the module with its weights as stored."""
    w = Writer(encoding)
    x = w.layer("Input", [], ["data"], "0=0 1=0 2=3")
    h = x
    body = list(model.body)
    for i, layer in enumerate(body):
        if isinstance(layer, nn.Conv2d):
            h, stored = w.conv(layer, h, encoding="codebook" if encoding == "mixed" and i == 2 else None)
            layer.weight.data[:] = __import__("torch").from_numpy(stored)
        elif isinstance(layer, nn.PReLU):
            n = layer.weight.numel()
            h = w.layer("PReLU", [h], [w.blob()], f"0={n}")
            w.bin += layer.weight.detach().numpy().astype("<f4").tobytes()
        elif isinstance(layer, nn.LeakyReLU):
            h = w.layer("ReLU", [h], [w.blob()], f"0={layer.negative_slope:e}")
        else:
            h = w.layer("ReLU", [h], [w.blob()])
    s = model.scale
    y = w.layer("PixelShuffle", [h], [w.blob()], f"0={s}")
    base = w.layer("Interp", [x], [w.blob()], f"0=1 1={float(s):e} 2={float(s):e}")
    w.layer("BinaryOp", [y, base], ["output"], "0=0")
    w.save(stem)
    return model


def write_rrdbnet(model, stem, encoding="fp16"):
    """Writes the SSR reference module (nearest upsampler, no unshuffle or attention)."""
    import torch
    w = Writer(encoding)

    def conv(c, x, lrelu):
        top, stored = w.conv(c, x, 0.2 if lrelu else None)
        c.weight.data[:] = torch.from_numpy(stored)
        return top

    x = w.layer("Input", [], ["data"], "0=0 1=0 2=3")
    feat = conv(model.conv_first, x, False)
    h = feat
    for rrdb in model.body:
        rrdb_in = h
        for rdb in (rrdb.rdb1, rrdb.rdb2, rrdb.rdb3):
            xs = [h]
            for k, c in enumerate((rdb.conv1, rdb.conv2, rdb.conv3, rdb.conv4), start=1):
                inp = xs[0] if k == 1 else w.layer("Concat", xs, [w.blob()], "0=0")
                xs.append(conv(c, inp, True))
            x5 = conv(rdb.conv5, w.layer("Concat", xs, [w.blob()], "0=0"), False)
            h = w.layer("Eltwise", [x5, h], [w.blob()], "0=1 -23301=2,2.000000e-01,1.000000e+00")
        # The RRDB residual as onnx2ncnn sometimes writes it: a scalar multiply, then an add.
        scaled = w.layer("BinaryOp", [h], [w.blob()], "0=2 1=1 2=2.000000e-01")
        h = w.layer("BinaryOp", [rrdb_in, scaled], [w.blob()], "0=0")
    body = conv(model.conv_body, h, False)
    h = w.layer("BinaryOp", [feat, body], [w.blob()], "0=0")
    for k in range(1, len(model.factors) + 1):
        c = getattr(model, f"conv_up{k}")
        h = conv(c, w.layer("Interp", [h], [w.blob()], "0=1 1=2.000000e+00 2=2.000000e+00"), True)
    h = conv(model.conv_hr, h, True)
    top, stored = w.conv(model.conv_last, h)
    model.conv_last.weight.data[:] = torch.from_numpy(stored)
    w.layers[-1][3] = ["output"]
    w.save(stem)
    return model
