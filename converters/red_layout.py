"""RED state dicts: widths inferred from shapes, pyramid bins from the `config` entry."""
import re

from layout_check import ConvertError, check_exact

DEFAULT_BINS = [1, 2, 3, 6]


def _shape(sd, key):
    if key not in sd:
        raise ConvertError(f"missing tensor {key}")
    return tuple(sd[key].shape)


def infer(sd, config):
    enc0, down, enc2, out = (_shape(sd, f"{n}.weight") for n in ("enc0", "down", "enc2", "out"))
    for name, s in (("enc0", enc0), ("down", down), ("enc2", enc2), ("out", out)):
        if len(s) != 4 or min(s) < 1:
            raise ConvertError(f"{name}.weight {s} is not a 4-D conv weight with every dimension >= 1")
    in_ch, c0, c1, c2, out_ch = enc0[1], enc0[0], down[0], enc2[0], out[0]
    n_stages = len({m.group(1) for k in sd for m in [re.match(r"ppm\.stages\.(\d+)\.", k)] if m})
    if config is not None and "ppm_bins" in config:
        bins = config["ppm_bins"]
        if not isinstance(bins, (list, tuple)) or any(not isinstance(b, int) or b < 1 for b in bins):
            raise ConvertError(f"config ppm_bins {bins!r} is not a list of positive integers")
        bins = list(bins)
        if len(bins) != n_stages:
            raise ConvertError(f"config ppm_bins {bins} has {len(bins)} bins but the checkpoint has "
                               f"{n_stages} ppm.stages")
    else:
        bins = DEFAULT_BINS if n_stages == len(DEFAULT_BINS) else None
        if bins is None:
            raise ConvertError(f"the checkpoint has {n_stages} ppm.stages but no config ppm_bins; "
                               f"the default bins {DEFAULT_BINS} need 4")
    hidden = _shape(sd, "att.fc1.weight")[0]
    if hidden < 1 or c2 % hidden:
        raise ConvertError(f"att.fc1.weight has {hidden} outputs, which does not divide c2={c2}")
    sa = _shape(sd, "att.sa.weight")
    if len(sa) != 4 or sa[2] != sa[3] or sa[2] % 2 == 0:
        raise ConvertError(f"att.sa.weight {sa} is not an odd square kernel")
    if c2 % 4:
        raise ConvertError(f"c2={c2} is not a multiple of 4 (the pyramid stages have c2/4 channels)")
    meta = {"in_ch": in_ch, "out_ch": out_ch, "c0": c0, "c1": c1, "c2": c2, "ppm_bins": bins,
            "reduction": c2 // hidden, "sa_kernel": sa[2]}
    return meta, expected_shapes(meta)


def expected_shapes(m):
    shapes = {}

    def conv(name, cin, cout, k):
        shapes[f"{name}.weight"] = (cout, cin, k, k)
        shapes[f"{name}.bias"] = (cout,)

    c0, c1, c2 = m["c0"], m["c1"], m["c2"]
    conv("enc0", m["in_ch"], c0, 3)
    conv("down", c0, c1, 3)
    conv("enc2", c1, c2, 3)
    if m["ppm_bins"]:
        for k in range(len(m["ppm_bins"])):
            conv(f"ppm.stages.{k}", c2, c2 // 4, 1)
        conv("ppm.fuse", c2 + len(m["ppm_bins"]) * (c2 // 4), c2, 1)
    conv("att.fc1", c2, c2 // m["reduction"], 1)
    conv("att.fc2", c2 // m["reduction"], c2, 1)
    conv("att.sa", 2, 1, m["sa_kernel"])
    shapes["up.weight"] = (c2, c1, 4, 4)  # ConvTranspose2d: [in, out, kh, kw]
    shapes["up.bias"] = (c1,)
    conv("dec1", c1, c0, 3)
    conv("out", c0, m["out_ch"], 3)
    return shapes


def convert(sd, config):
    meta, shapes = infer(sd, config)
    check_exact(sd, shapes, "RED")
    return meta, sd
