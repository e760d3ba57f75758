"""SSR (RRDBNet) state dicts: the three public key layouts of docs/GRAPHS.md mapped to the
BasicSR names, and every hyper-parameter inferred from the tensors."""
import re

from layout_check import ConvertError, check_exact

PS_FACTORS = {2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}


def detect_layout(keys):
    if "model.0.weight" in keys:
        return "oldest"
    if "trunk_conv.weight" in keys or any(k.startswith("RRDB_trunk.") for k in keys):
        return "esrgan"
    return "basicsr"


def _rename(sd, rdb_pattern, names):
    """RDB convs by `rdb_pattern` (groups: block, rdb, conv, leaf), the other convs by the
    stem -> BasicSR name map. Returns (renamed dict, keys neither knows)."""
    out, unknown = {}, []
    for key, t in sd.items():
        m = re.match(rdb_pattern, key)
        if m:
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = t
            continue
        stem, _, leaf = key.rpartition(".")
        if stem in names and leaf in ("weight", "bias"):
            out[f"{names[stem]}.{leaf}"] = t
        else:
            unknown.append(key)
    return out, unknown


def _canonical_oldest(sd):
    idx = sorted({int(m.group(1)) for k in sd for m in [re.match(r"model\.(\d+)\.(weight|bias)$", k)] if m})
    if not idx or idx[-1] < 7 or (idx[-1] - 4) % 3:
        raise ConvertError(f"oldest-layout checkpoint: top-level model.N convs {idx} do not match "
                           "model.0, model.3K..., model.{3n_up+2}, model.{3n_up+4}")
    n_up = (idx[-1] - 4) // 3
    nb = len({m.group(1) for k in sd for m in [re.match(r"model\.1\.sub\.(\d+)\.RDB", k)] if m})
    names = {"model.0": "conv_first", f"model.1.sub.{nb}": "conv_body",
             f"model.{3 * n_up + 2}": "conv_hr", f"model.{3 * n_up + 4}": "conv_last"}
    for k in range(1, n_up + 1):
        names[f"model.{3 * k}"] = f"conv_up{k}"
    return _rename(sd, r"model\.1\.sub\.(\d+)\.RDB([123])\.conv([1-5])\.0\.(weight|bias)$", names)


def _canonical_esrgan(sd):
    names = {"conv_first": "conv_first", "trunk_conv": "conv_body", "HRconv": "conv_hr",
             "conv_last": "conv_last"}
    for key in sd:
        m = re.match(r"(upconv(\d+))\.", key)
        if m:
            names[m.group(1)] = f"conv_up{m.group(2)}"
    return _rename(sd, r"RRDB_trunk\.(\d+)\.RDB([123])\.conv([1-5])\.(weight|bias)$", names)


def canonicalize(sd):
    """Returns (layout name, BasicSR-keyed dict). Keys no layout knows are an error by name."""
    layout = detect_layout(sd.keys())
    if layout == "oldest":
        out, unknown = _canonical_oldest(sd)
    elif layout == "esrgan":
        out, unknown = _canonical_esrgan(sd)
    else:
        out, unknown = dict(sd), []
    if unknown:
        raise ConvertError(f"{len(unknown)} key(s) unknown to the {layout} SSR layout: " + ", ".join(unknown[:10]))
    return layout, out


def _shape(sd, key):
    if key not in sd:
        raise ConvertError(f"missing tensor {key}")
    return tuple(sd[key].shape)


def infer(sd):
    """Hyper-parameters (FORMAT.md's SSR metadata) from a BasicSR-keyed state dict, and the
    exact name -> shape map the graph needs (checked against sd by the caller)."""
    first = _shape(sd, "conv_first.weight")
    last = _shape(sd, "conv_last.weight")
    if len(first) != 4 or len(last) != 4:
        raise ConvertError(f"conv_first.weight {first} / conv_last.weight {last} are not 4-D conv weights")
    if min(first) < 1 or min(last) < 1:
        raise ConvertError(f"conv_first.weight {first} / conv_last.weight {last} have an empty dimension")
    nf, first_in, out_ch = first[0], first[1], last[0]
    unshuffle, in_ch = 1, first_in
    for u in (2, 4):
        if first_in == u * u * out_ch:
            unshuffle, in_ch = u, out_ch
    nb = len({m.group(1) for k in sd for m in [re.match(r"body\.(\d+)\.", k)] if m})
    gc = _shape(sd, "body.0.rdb1.conv1.weight")[0] if nb else 0
    attention = "channel" if any(".ca.fc1." in k for k in sd) else "none"
    reduction = 0
    if attention == "channel":
        hidden = _shape(sd, "body.0.rdb1.ca.fc1.weight")[0]
        if hidden < 1 or nf % hidden:
            raise ConvertError(f"body.0.rdb1.ca.fc1.weight has {hidden} outputs, which does not divide nf={nf}")
        reduction = nf // hidden
    ups = []
    while f"conv_up{len(ups) + 1}.weight" in sd:
        ups.append(_shape(sd, f"conv_up{len(ups) + 1}.weight")[0])
    if not ups:
        raise ConvertError("no upsampling convs (conv_up1 / upconv1 / model.3)")
    if all(o == nf for o in ups):
        upsampler, factors = "nearest", [2] * len(ups)
        if len(ups) > 3:
            raise ConvertError(f"{len(ups)} nearest upsampling stages; docs/GRAPHS.md allows 1 to 3")
    else:
        upsampler, factors = "pixelshuffle", []
        for k, o in enumerate(ups, 1):
            r = int(round((o / nf) ** 0.5)) if o % nf == 0 else 0
            if r < 2 or r * r * nf != o:
                raise ConvertError(f"conv_up{k}.weight has {o} outputs: neither nf={nf} (nearest) nor nf*r^2")
            factors.append(r)
        if factors not in PS_FACTORS.values():
            raise ConvertError(f"pixel-shuffle stages {factors} are not one of the scales 2, 3, 4, 8")
    total = 1
    for r in factors:
        total *= r
    if total % unshuffle:
        raise ConvertError(f"upsampling x{total} with unshuffle {unshuffle} gives no integer scale")
    meta = {"in_ch": in_ch, "out_ch": out_ch, "nf": nf, "nb": nb, "gc": gc, "unshuffle": unshuffle,
            "upsampler": upsampler, "up_factors": factors, "attention": attention,
            "reduction": reduction, "scale": total // unshuffle}
    return meta, expected_shapes(meta)


def expected_shapes(m):
    nf, gc = m["nf"], m["gc"]
    shapes = {}

    def conv(name, cin, cout, k=3):
        shapes[f"{name}.weight"] = (cout, cin, k, k)
        shapes[f"{name}.bias"] = (cout,)

    conv("conv_first", m["in_ch"] * m["unshuffle"] ** 2, nf)
    for i in range(m["nb"]):
        for j in (1, 2, 3):
            p = f"body.{i}.rdb{j}"
            for k in range(1, 5):
                conv(f"{p}.conv{k}", nf + (k - 1) * gc, gc)
            conv(f"{p}.conv5", nf + 4 * gc, nf)
            if m["attention"] == "channel":
                conv(f"{p}.ca.fc1", nf, nf // m["reduction"], 1)
                conv(f"{p}.ca.fc2", nf // m["reduction"], nf, 1)
    conv("conv_body", nf, nf)
    for k, r in enumerate(m["up_factors"], 1):
        conv(f"conv_up{k}", nf, nf if m["upsampler"] == "nearest" else nf * r * r)
    conv("conv_hr", nf, nf)
    conv("conv_last", nf, m["out_ch"])
    return shapes


def convert(sd):
    layout, canon = canonicalize(sd)
    meta, shapes = infer(canon)
    check_exact(canon, shapes, "SSR")
    return layout, meta, canon
