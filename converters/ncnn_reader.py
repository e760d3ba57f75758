"""ncnn model files (.param text + .bin weights), as realesrgan-ncnn-vulkan, Upscayl and chaiNNer
ship them, read into Lucent's graphs: the compact SR network (SRVGGNetCompact) and RRDBNet.

Nothing is guessed. The .param text is parsed strictly (magic 7767517, the declared layer and
blob counts, every blob produced once before it is used, so a cycle cannot be expressed), each
layer's type and parameters are checked, and the blob graph is reduced to a canonical
expression (a Split is its input; an activation fused into a Convolution equals a separate
ReLU / PReLU; a weighted Eltwise sum equals scaled BinaryOp adds). The same expression is then
built from the architecture the layers imply (widths from the first convolutions, depth from
the conv count), and the two must be equal; each ncnn Convolution is matched to the conv of
that expression it computes, which names its weights. The .bin is read in layer order (per
weight blob a 4-byte tag: float16, raw float32, or an 8-bit codebook; int8-quantized blobs are
refused) and every byte must be used. Anything else is a ConvertError naming the layer and why.
"""
import re
import struct

import numpy as np

from layout_check import ConvertError

MAGIC = "7767517"
MAX_LAYERS = 100000
MAX_LINE = 1 << 16
MAX_ARRAY = 4096
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38

# Layer types this reader understands; anything else is refused by name.
KNOWN = {"Input", "Split", "Convolution", "ReLU", "PReLU", "Concat", "Eltwise", "BinaryOp", "Interp",
         "PixelShuffle", "Noop"}
TOKEN = re.compile(r"^[A-Za-z0-9_./:\-]+$")
# Input blobs of the layer types that take a fixed number.
INPUTS = {"Input": 0, "Split": 1, "Convolution": 1, "ReLU": 1, "PReLU": 1, "Interp": 1, "PixelShuffle": 1,
          "Noop": 1}


class Layer:
    def __init__(self, kind, name, bottoms, tops, params, line):
        self.kind, self.name, self.bottoms, self.tops, self.params, self.line = kind, name, bottoms, tops, params, line

    def where(self):
        return f"layer {self.name} ({self.kind}, line {self.line})"

    def get(self, key, default):
        return self.params.get(key, default)


def _number(text, where):
    try:
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        v = float(text)
    except ValueError:
        raise ConvertError(f"{where}: '{text}' is not a number") from None
    if not np.isfinite(v):
        raise ConvertError(f"{where}: '{text}' is not a finite number")
    return v


def _params(tokens, where):
    params = {}
    for tok in tokens:
        if "=" not in tok:
            raise ConvertError(f"{where}: parameter '{tok[:40]}' is not key=value")
        k, v = tok.split("=", 1)
        key = _number(k, where)
        if not isinstance(key, int):
            raise ConvertError(f"{where}: parameter key '{k[:20]}' is not an integer")
        if key <= -23300:  # an array: -23300 - id = count,v1,v2,...
            key = -23300 - key
            parts = v.split(",")
            count = _number(parts[0], where)
            if not isinstance(count, int) or count < 0 or count > MAX_ARRAY or count != len(parts) - 1:
                raise ConvertError(f"{where}: array parameter {key} declares {parts[0][:20]} values but has "
                                   f"{len(parts) - 1}")
            value = [_number(p, where) for p in parts[1:]]
        else:
            if key < 0 or key > 1000:
                raise ConvertError(f"{where}: parameter key {key} is out of range")
            value = _number(v, where)
        if key in params:
            raise ConvertError(f"{where}: parameter {key} is given twice")
        params[key] = value
    return params


def parse_param(text):
    """The layers of a text .param file, in file order, checked for structure."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or lines[0] != MAGIC:
        raise ConvertError(f"not an ncnn text .param file (the first line is not the magic {MAGIC}; binary "
                           f".param.bin files are not read)")
    if len(lines) < 2:
        raise ConvertError("the .param file ends after its magic number")
    counts = lines[1].split()
    if len(counts) != 2 or not all(c.isdigit() for c in counts):
        raise ConvertError("line 2 of the .param file is not '<layer count> <blob count>'")
    n_layers, n_blobs = int(counts[0]), int(counts[1])
    if n_layers < 1 or n_layers > MAX_LAYERS or n_blobs < 1 or n_blobs > 4 * MAX_LAYERS:
        raise ConvertError(f"the .param file declares {n_layers} layers and {n_blobs} blobs (out of range)")
    if len(lines) - 2 != n_layers:
        raise ConvertError(f"the .param file declares {n_layers} layers but has {len(lines) - 2} layer lines")
    layers, produced, names = [], {}, set()
    for i, ln in enumerate(lines[2:], start=3):
        if len(ln) > MAX_LINE:
            raise ConvertError(f"line {i} of the .param file is longer than {MAX_LINE} characters")
        tok = ln.split()
        if len(tok) < 4:
            raise ConvertError(f"line {i}: a layer line needs type, name and blob counts")
        kind, name = tok[0], tok[1]
        where = f"layer {name[:60]} ({kind[:30]}, line {i})"
        if not TOKEN.match(kind) or not TOKEN.match(name):
            raise ConvertError(f"line {i}: a layer type or name with unexpected characters")
        if not tok[2].isdigit() or not tok[3].isdigit():
            raise ConvertError(f"{where}: the blob counts are not numbers")
        nb, nt = int(tok[2]), int(tok[3])
        if nb > 64 or nt > 64 or len(tok) < 4 + nb + nt:
            raise ConvertError(f"{where}: declares {nb} inputs and {nt} outputs but the line has fewer names")
        bottoms, tops = tok[4:4 + nb], tok[4 + nb:4 + nb + nt]
        if name in names:
            raise ConvertError(f"{where}: a second layer of that name")
        names.add(name)
        for b in bottoms:
            if b not in produced:
                raise ConvertError(f"{where}: reads blob '{b[:60]}' before any layer produces it (an unknown "
                                   f"blob or a cycle)")
        for t in tops:
            if t in produced:
                raise ConvertError(f"{where}: blob '{t[:60]}' is produced a second time")
            produced[t] = len(layers)
        layers.append(Layer(kind, name, bottoms, tops, _params(tok[4 + nb + nt:], where), i))
    if len(produced) != n_blobs:
        raise ConvertError(f"the .param file declares {n_blobs} blobs but its layers produce {len(produced)}")
    return layers


class BinReader:
    """The .bin, read front to back as the layers ask for their weights."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            raise ConvertError(f"the .bin file ends inside {what} (needs {n} more bytes at offset {self.pos}, has "
                               f"{len(self.data) - self.pos})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def raw_f32(self, count, what):
        return np.frombuffer(self.take(4 * count, what), dtype="<f4").copy()

    def tagged(self, count, what):
        """A weight blob with its 4-byte tag: float16 stays float16, float32 and codebook data
        become float32."""
        tag_bytes = self.take(4, what)
        (tag,) = struct.unpack("<I", tag_bytes)
        if tag == TAG_FP16:
            raw = self.take((2 * count + 3) // 4 * 4, what)
            return np.frombuffer(raw[:2 * count], dtype="<f2").copy()
        if tag == TAG_INT8:
            raise ConvertError(f"{what} is int8-quantized (tag 0x{tag:08X}); Lucent reads float16, float32 and "
                               f"8-bit codebook weights only")
        if tag == 0:
            return self.raw_f32(count, what)
        if tag == 0x0002C056:
            raise ConvertError(f"{what} has the weight encoding tag 0x{tag:08X}, which this reader does not know")
        # Any other non-zero tag: a 256-entry float codebook, then one byte per weight.
        book = self.raw_f32(256, what + " (codebook)")
        idx = np.frombuffer(self.take((count + 3) // 4 * 4, what)[:count], dtype=np.uint8)
        return book[idx].astype(np.float32)

    def done(self):
        if self.pos != len(self.data):
            raise ConvertError(f"the .bin file has {len(self.data) - self.pos} bytes after the last weight (it does "
                               f"not belong to this .param, or is damaged)")


# --- canonical expressions (hash-consed: equal subgraphs get equal ids) ---

class Exprs:
    def __init__(self):
        self.ids, self.nodes = {}, []

    def make(self, *node):
        if node not in self.ids:
            self.ids[node] = len(self.nodes)
            self.nodes.append(node)
        return self.ids[node]

    def conv(self, cin, cout, x):
        return self.make("conv", cin, cout, x)

    def act(self, kind, slope, x):
        return self.make("act", kind, float(slope), x)

    def add(self, terms):
        """A weighted sum: (coef, id) terms; nested sums and scales flatten all the way down, and
        the order of the terms is free, so every way of writing the same sum gets one id."""
        # Coefficients multiply in float32, so 0.2 written in text and 0.2 built here agree.
        flat, todo = [], [(np.float32(c), e) for c, e in terms]
        while todo:
            coef, e = todo.pop()
            node = self.nodes[e]
            if node[0] == "sum":
                todo += [(coef * np.float32(c), t) for c, t in node[1]]
            elif node[0] == "scale":
                todo.append((coef * np.float32(node[1]), node[2]))
            else:
                flat.append((coef, e))
        return self.make("sum", tuple(sorted((float(np.float32(c)), t) for c, t in flat)))

    def scale(self, s, x):
        return self.make("scale", float(np.float32(s)), x)


def _conv_geometry(layer):
    p = layer.params
    out = p.get(0, 0)
    k, kh = p.get(1, 0), p.get(11, p.get(1, 0))
    dil, dilh = p.get(2, 1), p.get(12, p.get(2, 1))
    st, sth = p.get(3, 1), p.get(13, p.get(3, 1))
    pad = p.get(4, 0)
    pads = (pad, p.get(14, pad), p.get(15, pad), p.get(16, p.get(14, pad)))
    size = p.get(6, 0)
    if not (isinstance(out, int) and out >= 1):
        raise ConvertError(f"{layer.where()}: num_output {out!r} is not a positive integer")
    if (k, kh, dil, dilh, st, sth) != (3, 3, 1, 1, 1, 1) or pads != (1, 1, 1, 1):
        raise ConvertError(f"{layer.where()}: only 3x3 stride-1 convolutions with padding 1 occur in these "
                           f"graphs (kernel {k}x{kh}, stride {st}x{sth}, dilation {dil}x{dilh}, pads {pads})")
    if p.get(8, 0):
        raise ConvertError(f"{layer.where()}: int8-quantized convolution (int8_scale_term) is not supported")
    if p.get(19, 0) or p.get(18, 0.0):
        raise ConvertError(f"{layer.where()}: dynamic or non-zero padding value is not supported")
    if not isinstance(size, int) or size < 1 or size % (out * 9):
        raise ConvertError(f"{layer.where()}: weight_data_size {size!r} is not num_output x in x 3 x 3")
    return out, size // (out * 9), p.get(5, 0) == 1


def read_graph(layers, bin_bytes):
    """Interprets the layers: (exprs, output id, convs {id: (layer, weight, bias)},
    prelus {id: (layer, slopes)})."""
    ex = Exprs()
    blob = {}     # blob name -> expression id
    chans = {}    # expression id -> channels
    convs = {}    # conv expression id -> (layer, weight [out, in, 3, 3], bias [out])
    slopes = {}   # prelu expression id -> slopes
    rd = BinReader(bin_bytes)
    consumed = set()
    inputs = 0
    for L in layers:
        if L.kind not in KNOWN:
            raise ConvertError(f"{L.where()}: layer type {L.kind} does not occur in the compact or RRDBNet "
                               f"graphs (not supported)")
        args = [blob[b] for b in L.bottoms]
        consumed.update(L.bottoms)
        if L.kind in INPUTS and len(args) != INPUTS[L.kind]:
            raise ConvertError(f"{L.where()}: takes {INPUTS[L.kind]} input blob(s), not {len(args)}")
        if L.kind != "Split" and L.kind != "Input" and len(L.tops) != 1:
            raise ConvertError(f"{L.where()}: produces {len(L.tops)} blobs; one expected")
        if L.kind == "Input":
            inputs += 1
            if inputs > 1:
                raise ConvertError(f"{L.where()}: a second input; these graphs take one image")
            c = L.get(2, 0)
            e = ex.make("input")
            chans[e] = c if isinstance(c, int) and c > 0 else None
            for t in L.tops:
                blob[t] = e
            continue
        if L.kind in ("Split", "Noop"):
            for t in L.tops:
                blob[t] = args[0]
            continue
        x = args[0] if args else None
        if L.kind == "Convolution":
            out, cin, bias = _conv_geometry(L)
            if chans.get(x) is not None and chans[x] != cin:
                raise ConvertError(f"{L.where()}: its weights take {cin} channels but its input has {chans[x]}")
            w = rd.tagged(out * cin * 9, f"{L.where()} weights").reshape(out, cin, 3, 3)
            b = rd.raw_f32(out, f"{L.where()} bias") if bias else np.zeros(out, np.float32)
            e = ex.conv(cin, out, x)
            if e in convs:
                raise ConvertError(f"{L.where()}: computes the same thing as {convs[e][0].where()}")
            convs[e] = (L, w, b)
            chans[e] = out
            act = L.get(9, 0)
            if act == 1:
                e = ex.act("relu", 0.0, e)
            elif act == 2:
                a = L.get(10, [0.0])
                e = ex.act("relu", a[0] if isinstance(a, list) and a else 0.0, e)
            elif act != 0:
                raise ConvertError(f"{L.where()}: fused activation type {act} is not ReLU or LeakyReLU")
            chans[e] = out
        elif L.kind == "ReLU":
            e = ex.act("relu", L.get(0, 0.0), x)
            chans[e] = chans.get(x)
        elif L.kind == "PReLU":
            n = L.get(0, 0)
            if not isinstance(n, int) or n < 1 or (chans.get(x) is not None and n != chans[x]):
                raise ConvertError(f"{L.where()}: {n} slopes for {chans.get(x)} channels")
            e = ex.make("prelu", n, x)
            if e in slopes:
                raise ConvertError(f"{L.where()}: a second PReLU on the same input")
            slopes[e] = (L, rd.raw_f32(n, f"{L.where()} slopes"))
            chans[e] = n
        elif L.kind == "Concat":
            if L.get(0, 0) != 0:
                raise ConvertError(f"{L.where()}: concatenates along axis {L.get(0, 0)}, not channels")
            if any(chans.get(a) is None for a in args):
                raise ConvertError(f"{L.where()}: concatenates blobs of unknown channel counts")
            e = ex.make("cat", tuple(args))
            chans[e] = sum(chans[a] for a in args)
        elif L.kind == "Eltwise":
            if L.get(0, 1) != 1 or len(args) < 2:
                raise ConvertError(f"{L.where()}: only sums (op 1) of two or more blobs are supported")
            coeffs = L.get(1, [1.0] * len(args))
            if not isinstance(coeffs, list) or len(coeffs) != len(args):
                raise ConvertError(f"{L.where()}: {len(coeffs) if isinstance(coeffs, list) else 0} coefficients "
                                   f"for {len(args)} inputs")
            e = ex.add(list(zip(coeffs, args)))
            chans[e] = chans.get(args[0])
        elif L.kind == "BinaryOp":
            op, scalar = L.get(0, 0), L.get(1, 0)
            if scalar and op == 2 and len(args) == 1:
                e = ex.scale(L.get(2, 0.0), args[0])
            elif not scalar and op == 0 and len(args) == 2:
                e = ex.add([(1.0, args[0]), (1.0, args[1])])
            else:
                raise ConvertError(f"{L.where()}: only a + b and x * scalar are supported (op {op}, "
                                   f"with_scalar {scalar})")
            chans[e] = chans.get(args[0])
        elif L.kind == "Interp":
            mode, hs, ws = L.get(0, 0), L.get(1, 1.0), L.get(2, 1.0)
            if mode != 1:
                kind = {2: "bilinear", 3: "bicubic"}.get(mode, f"type {mode}")
                raise ConvertError(f"{L.where()}: a {kind} resize by {hs} (as the x2 / x3 compact variants' final "
                                   f"downscale) is not supported; use the x4 model")
            if hs != ws or hs not in (1.0, 2.0, 3.0, 4.0) or L.get(3, 0) or L.get(4, 0) or L.get(5, 0):
                raise ConvertError(f"{L.where()}: only nearest upsampling by a whole factor of 1 to 4 is supported")
            e = ex.make("nearest", int(hs), x)
            chans[e] = chans.get(x)
        elif L.kind == "PixelShuffle":
            r = L.get(0, 1)
            if L.get(1, 0) != 0 or not isinstance(r, int) or r < 1 or r > 4:
                raise ConvertError(f"{L.where()}: only PyTorch-order pixel shuffle by 1 to 4 is supported")
            if chans.get(x) is not None and chans[x] % (r * r):
                raise ConvertError(f"{L.where()}: {chans[x]} channels do not shuffle by {r}")
            e = ex.make("shuffle", r, x)
            chans[e] = chans[x] // (r * r) if chans.get(x) is not None else None
        for t in L.tops:
            blob[t] = e
    rd.done()
    if inputs != 1:
        raise ConvertError("the .param file has no Input layer")
    outs = [b for b in blob if b not in consumed]
    if len(outs) != 1:
        raise ConvertError(f"the graph has {len(outs)} unconsumed blobs ({', '.join(outs[:4])}); one output expected")
    return ex, blob[outs[0]], convs, slopes


def _expected_compact(ex, m):
    x = ex.make("input")
    h, names = x, {}
    n = m["num_conv"] + 2
    for i in range(n):
        last = i + 1 == n
        h = ex.conv(m["in_ch"] if i == 0 else m["nf"], m["out_ch"] * m["scale"] ** 2 if last else m["nf"], h)
        names[h] = f"body.{2 * i}"
        if not last:
            if m["act"] == "prelu":
                h = ex.make("prelu", m["nf"], h)
                names[h] = f"body.{2 * i + 1}"
            else:
                h = ex.act("relu", 0.1 if m["act"] == "lrelu" else 0.0, h)
    y = ex.make("shuffle", m["scale"], h)
    return ex.add([(1.0, y), (1.0, ex.make("nearest", m["scale"], x))]), names


def _expected_rrdbnet(ex, m):
    nf, gc, names = m["nf"], m["gc"], {}

    def conv(name, cin, cout, x, lrelu):
        e = ex.conv(cin, cout, x)
        names[e] = name
        return ex.act("relu", 0.2, e) if lrelu else e

    x = ex.make("input")
    feat = conv("conv_first", m["in_ch"], nf, x, False)
    h = feat
    for i in range(m["nb"]):
        rrdb_in = h
        for j in (1, 2, 3):
            p = f"body.{i}.rdb{j}"
            xs = [h]
            for k in range(1, 5):
                inp = xs[0] if k == 1 else ex.make("cat", tuple(xs))
                xs.append(conv(f"{p}.conv{k}", nf + (k - 1) * gc, gc, inp, True))
            x5 = conv(f"{p}.conv5", nf + 4 * gc, nf, ex.make("cat", tuple(xs)), False)
            h = ex.add([(0.2, x5), (1.0, h)])
        h = ex.add([(0.2, h), (1.0, rrdb_in)])
    body = conv("conv_body", nf, nf, h, False)
    h = ex.add([(1.0, feat), (1.0, body)])
    for k in range(1, m["n_up"] + 1):
        h = conv(f"conv_up{k}", nf, nf, ex.make("nearest", 2, h), True)
    h = conv("conv_hr", nf, nf, h, True)
    return conv("conv_last", nf, m["out_ch"], h, False), names


def _mismatch(got_convs, expected_ids, what):
    """The first layer whose result is not part of the expected graph, for the message."""
    for e, (L, _, _) in sorted(got_convs.items(), key=lambda kv: kv[1][0].line):
        if e not in expected_ids:
            return ConvertError(f"{L.where()} does not fit {what}")
    return ConvertError(f"the layers do not compute {what} (the convolutions fit, the wiring between them does not)")


def _reachable(ex, root):
    """Every expression the one `root` is built from."""
    seen, todo = set(), [root]
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.add(e)
        node = ex.nodes[e]
        if node[0] in ("conv", "prelu", "nearest", "shuffle", "act", "scale"):
            todo.append(node[-1])
        elif node[0] == "cat":
            todo += list(node[1])
        elif node[0] == "sum":
            todo += [t for _, t in node[1]]
    return seen


def convert(param_text, bin_bytes):
    """(graph 'compact' or 'ssr', meta, {canonical tensor name: array})."""
    layers = parse_param(param_text)
    ex, out, convs, slopes = read_graph(layers, bin_bytes)
    conv_layers = [L for L in layers if L.kind == "Convolution"]
    if not conv_layers:
        raise ConvertError("the .param file has no Convolution layer")
    first = conv_layers[0]
    nf, in_ch = first.get(0, 0), _conv_geometry(first)[1]
    last_out = conv_layers[-1].get(0, 0)
    if any(L.kind == "Concat" for L in layers):
        graph = "ssr"
        gc = conv_layers[1].get(0, 0) if len(conv_layers) > 1 else 0
        n_up = sum(1 for L in layers if L.kind == "Interp")
        nb, rem = divmod(len(conv_layers) - 4 - n_up, 15)
        if rem or nb < 1:
            raise ConvertError(f"{len(conv_layers)} convolutions with {n_up} upsampling stages do not make an RRDBNet "
                               f"(15 per block, plus 4 and one per stage)")
        m = {"in_ch": in_ch, "out_ch": last_out, "nf": nf, "gc": gc, "nb": nb, "n_up": n_up}
        want, names = _expected_rrdbnet(ex, m)
        what = f"an RRDBNet with nf={nf}, gc={gc}, {nb} blocks and {n_up} nearest x2 stages"
    else:
        graph = "compact"
        scale = next((s for s in (1, 2, 3, 4) if last_out == in_ch * s * s), None)
        if scale is None:
            raise ConvertError(f"{conv_layers[-1].where()}: {last_out} outputs are not in_ch x scale^2 for a scale "
                               f"of 1 to 4")
        act = "prelu" if slopes else None
        if act is None:
            follower = next((L for L in layers if first.tops[0] in L.bottoms), None)
            fused = first.get(9, 0)
            slope = first.get(10, [0.0])[0] if fused == 2 else (follower.get(0, 0.0) if follower is not None and
                                                                 follower.kind == "ReLU" else 0.0)
            act = "lrelu" if abs(slope - 0.1) < 1e-6 else "relu"
        m = {"in_ch": in_ch, "out_ch": in_ch, "nf": nf, "num_conv": len(conv_layers) - 2, "scale": scale, "act": act}
        want, names = _expected_compact(ex, m)
        what = f"the compact SR graph with nf={nf}, {m['num_conv']} body convs, x{scale}, {act}"
    if out != want:
        raise _mismatch(convs, _reachable(ex, want), what)
    tensors = {}
    for e, (L, w, b) in convs.items():
        if e not in names:
            raise ConvertError(f"{L.where()} does not fit {what}")
        tensors[f"{names[e]}.weight"] = w
        tensors[f"{names[e]}.bias"] = b
    for e, (L, s) in slopes.items():
        if e not in names:
            raise ConvertError(f"{L.where()} does not fit {what}")
        tensors[f"{names[e]}.weight"] = s
    if graph == "ssr":
        meta = {"in_ch": in_ch, "out_ch": last_out, "nf": nf, "nb": m["nb"], "gc": m["gc"], "unshuffle": 1,
                "upsampler": "nearest", "up_factors": [2] * m["n_up"], "attention": "none", "reduction": 0,
                "scale": 2 ** m["n_up"]}
    else:
        meta = m
    return graph, meta, tensors
