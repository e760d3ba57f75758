"""Compact SR state dicts (Real-ESRGAN's SRVGGNetCompact keys: body.{2i}.weight / .bias for the
convs, body.{2i+1}.weight for PReLU slopes): every hyper-parameter inferred from the tensors, the
scale from the last conv's outputs (out_ch * scale^2)."""
import re

from layout_check import ConvertError, check_exact

BODY = re.compile(r"^body\.(\d+)\.(weight|bias)$")


def is_compact(sd):
    """True when the keys are body.N.weight / body.N.bias and nothing else (with body.0 a conv)."""
    if "body.0.weight" not in sd or len(getattr(sd["body.0.weight"], "shape", ())) != 4:
        return False
    return all(BODY.match(k) for k in sd)


def infer(sd):
    idx = sorted({int(BODY.match(k).group(1)) for k in sd if BODY.match(k)})
    convs = [i for i in idx if len(sd[f"body.{i}.weight"].shape) == 4]
    if not convs or convs[0] != 0:
        raise ConvertError("the compact graph's first layer body.0 is not a conv")
    first, last = sd["body.0.weight"].shape, sd[f"body.{convs[-1]}.weight"].shape
    in_ch, nf = int(first[1]), int(first[0])
    if nf < 1 or in_ch < 1:
        raise ConvertError(f"body.0.weight {tuple(first)} has no channels")
    # Convs sit at even indices 0, 2, 4, ...: an activation module follows each but the last.
    if convs != list(range(0, 2 * len(convs), 2)):
        raise ConvertError(f"conv layers at body indices {convs[:8]}... are not 0, 2, 4, ... (an activation "
                           f"between each pair)")
    prelu = [i for i in idx if i not in convs]
    if prelu and prelu != [c + 1 for c in convs[:-1]]:
        raise ConvertError(f"PReLU slopes at body indices {prelu[:8]}... do not follow every conv but the last")
    act = "prelu" if prelu else "lrelu"
    outs = int(last[0])
    scale = next((s for s in (1, 2, 3, 4) if outs == in_ch * s * s), None)
    if scale is None:
        raise ConvertError(f"the last conv body.{convs[-1]} has {outs} outputs, not in_ch * scale^2 for a scale "
                           f"of 1 to 4 (in_ch = {in_ch})")
    meta = {"in_ch": in_ch, "out_ch": in_ch, "nf": nf, "num_conv": len(convs) - 2, "scale": scale, "act": act}
    if len(convs) < 2:
        raise ConvertError("the compact graph needs a first and a last conv")
    return meta


def expected_shapes(m):
    shapes = {}
    n = m["num_conv"] + 2
    for i in range(n):
        last = i + 1 == n
        cin = m["in_ch"] if i == 0 else m["nf"]
        cout = m["out_ch"] * m["scale"] ** 2 if last else m["nf"]
        shapes[f"body.{2 * i}.weight"] = (cout, cin, 3, 3)
        shapes[f"body.{2 * i}.bias"] = (cout,)
        if not last and m["act"] == "prelu":
            shapes[f"body.{2 * i + 1}.weight"] = (m["nf"],)
    return shapes


def convert(sd, act=None):
    """(meta, tensors). A checkpoint without PReLU slopes holds LeakyReLU(0.1) (Real-ESRGAN's
    'lrelu') or ReLU layers, which a state dict cannot tell apart: `act` says which ('lrelu'
    by default)."""
    meta = infer(sd)
    if act is not None:
        if meta["act"] == "prelu" and act != "prelu":
            raise ConvertError(f"the checkpoint has PReLU slopes; --act {act} does not fit it")
        if meta["act"] != "prelu" and act == "prelu":
            raise ConvertError("the checkpoint has no PReLU slopes; --act prelu does not fit it")
        meta["act"] = act
    check_exact(sd, expected_shapes(meta), "compact")
    return meta, sd
