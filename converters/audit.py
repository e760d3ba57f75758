#!/usr/bin/env python3
"""Layer-by-layer numerics audit of Lucent against PyTorch on one image.

    python3 converters/audit.py --checkpoint CKPT|MODEL.lcw [--model MODEL.lcw] [--reference]
            [--precision fp32] [--lucent PATH] [--threads N] [--json] [--html REPORT.html] IMAGE

Runs the checkpoint in PyTorch (converters/reference_models.py, loaded through convert.py's
key mapping) with forward hooks on every module, runs `lucent upscale|enhance --dump` on the
same image (on the .lcw given by --model, else on a conversion of the checkpoint made here;
a .lcw given as --checkpoint is loaded into PyTorch itself and run by Lucent as it is),
feeds PyTorch exactly the float input Lucent's graph read (the dump's input.npy), and compares
every layer Lucent reports, in graph order. Where Lucent fused a LeakyReLU into a conv (its
operation ends in "+lrelu"), the PyTorch module's output gets the same LeakyReLU first.

Per layer: max abs error, max relative error, error in units of the layer's magnitude
(max abs error / max |reference|), fp32 ULP distance (median and max) and the error in bf16
ULPs of the reference. Tolerance per layer (docs/GRAPHS.md's numerics contract, scaled by the
layer's magnitude): 1e-4 * max(1, max |reference|) on the reference path, 2e-3 * max(1, ...)
on the fast path. At the end: the 8-bit effect on the output image (max levels off, % of
samples off).

Exit status: 0 every layer within tolerance, 1 some layer exceeds it (the first is named),
2 the audit could not run (missing PyTorch, a model of another graph, layer mismatch, ...).
Lucent binary: --lucent, else $LUCENT_BIN, else build/lucent.
"""
import argparse
import base64
import html
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import checkpoint_reader  # noqa: E402
import convert  # noqa: E402
import lcw  # noqa: E402
from layout_check import ConvertError  # noqa: E402

REFERENCE_TOL = 1e-4
FAST_TOL = 2e-3


class AuditError(Exception):
    """The audit cannot run; the message says why."""


def load_torch():
    try:
        import torch  # noqa: F401
        import reference_models  # noqa: F401
    except ImportError as e:
        raise AuditError(f"PyTorch is needed for the audit ({e}); on Debian: apt-get install python3-torch") from None
    return torch, reference_models


def build_reference(torch, rm, graph, meta, tensors):
    if graph == "compact":
        model = rm.Compact(in_ch=meta["in_ch"], out_ch=meta["out_ch"], nf=meta["nf"], num_conv=meta["num_conv"],
                           scale=meta["scale"], act=meta["act"])
    elif graph == "ssr":
        nearest = meta["upsampler"] == "nearest"
        scale = 1
        for r in meta["up_factors"]:
            scale *= r
        model = rm.SSR(in_ch=meta["in_ch"], out_ch=meta["out_ch"], nf=meta["nf"], nb=meta["nb"], gc=meta["gc"],
                       upsampler=meta["upsampler"], n_up=len(meta["up_factors"]) if nearest else 2,
                       ps_scale=scale if not nearest else 4, unshuffle=meta["unshuffle"],
                       attention=meta["attention"], reduction=meta["reduction"] or 16)
    else:
        model = rm.RED(in_ch=meta["in_ch"], out_ch=meta["out_ch"], c0=meta["c0"], c1=meta["c1"], c2=meta["c2"],
                       bins=tuple(meta["ppm_bins"]), reduction=meta["reduction"], sa_kernel=meta["sa_kernel"])
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in tensors.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise AuditError(f"the checkpoint does not fit the reference module (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    return model.eval()


LIST_KEYS = ("up_factors", "ppm_bins")


def load_weights(path):
    """(graph, meta, tensors) of a PyTorch checkpoint (through convert.py's key mapping) or of a
    .lcw file itself (to audit the engine on weights that only exist converted, e.g. the
    embedded defaults)."""
    if path.endswith(".lcw"):
        try:
            graph, meta, tensors = lcw.read(path)
        except (ValueError, KeyError, OSError) as e:
            raise AuditError(f"{path}: not a readable .lcw file ({e})") from None
        meta = {k: (v if k in LIST_KEYS or not isinstance(v, list) else v[0]) for k, v in meta.items()}
        return graph, meta, tensors
    try:
        graph, _layout, meta, tensors = convert.prepare(path)
    except (checkpoint_reader.CheckpointError, ConvertError) as e:
        raise AuditError(f"{path}: {e}") from None
    return graph, meta, tensors


def run_reference(torch, model, x):
    outputs = {}

    def hook(name):
        def fn(_module, _inputs, out):
            outputs[name] = out.detach().clone()
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        outputs["output"] = model(torch.from_numpy(x))
    for h in handles:
        h.remove()
    return {k: v.numpy() for k, v in outputs.items()}


def run_lucent(args, model_path, command, dump_dir):
    binary = args.lucent or os.environ.get("LUCENT_BIN") or os.path.join(ROOT, "build", "lucent")
    if not os.path.exists(binary):
        raise AuditError(f"no lucent binary at {binary}; build it or pass --lucent")
    out = os.path.join(dump_dir, "lucent-output.npy")
    cmd = [binary, command, "--model", model_path, "--dump", dump_dir, "--threads", str(args.threads)]
    if args.reference:
        cmd.append("--reference")
    r = subprocess.run(cmd + [args.image, out], capture_output=True, text=True)
    if r.returncode != 0:
        raise AuditError(f"lucent failed: {r.stderr.strip()}")
    with open(os.path.join(dump_dir, "manifest.json")) as f:
        return json.load(f)


def ordered_bits(x):
    i = x.astype(np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def compare(got, ref, tol_base):
    d = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    mag = float(np.abs(ref).max()) if ref.size else 0.0
    max_abs = float(d.max()) if d.size else 0.0
    rel = d / np.maximum(np.abs(ref), 1e-6)
    ulp = np.abs(ordered_bits(got) - ordered_bits(ref))
    nz = np.abs(ref) > 1e-30
    bf16_ulp = np.exp2(np.floor(np.log2(np.abs(ref[nz]).astype(np.float64))) - 7) if nz.any() else np.ones(1)
    bf16 = float((d[nz] / bf16_ulp).max()) if nz.any() else 0.0
    tol = tol_base * max(1.0, mag)
    return {
        "max_abs": max_abs, "max_rel": float(rel.max()) if rel.size else 0.0,
        "magnitude": mag, "in_magnitude_units": max_abs / mag if mag > 0 else 0.0,
        "ulp_median": float(np.median(ulp)) if ulp.size else 0.0, "ulp_max": int(ulp.max()) if ulp.size else 0,
        "bf16_ulp_max": bf16, "tolerance": tol, "ok": max_abs <= tol,
    }


def to_u8(x):
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.int32)


def audit(args):
    torch, rm = load_torch()
    graph, meta, tensors = load_weights(args.checkpoint)
    command = "enhance" if graph == "red" else "upscale"
    with tempfile.TemporaryDirectory(prefix="lucent-audit-") as tmp:
        model_path = args.model
        if model_path is None and args.checkpoint.endswith(".lcw"):
            model_path = args.checkpoint
        elif model_path is None:
            model_path = os.path.join(tmp, "model.lcw")
            convert.convert(args.checkpoint, model_path)
        dump_dir = os.path.join(tmp, "dump")
        manifest = run_lucent(args, model_path, command, dump_dir)
        if manifest["graph"] != graph:
            raise AuditError(f"{model_path} is a {manifest['graph'].upper()} model; the checkpoint is {graph.upper()}")
        layers = manifest["layers"]
        x = np.load(os.path.join(dump_dir, "input.npy"))
        model = build_reference(torch, rm, graph, meta, tensors)
        ref = run_reference(torch, model, x)
        tol_base = REFERENCE_TOL if manifest["tier"] == "reference" else FAST_TOL
        rows, first_bad = [], None
        for layer in layers:
            name = layer["name"]
            if name == "input":
                continue
            if name not in ref:
                raise AuditError(f"Lucent reports layer '{name}', which the checkpoint's graph does not have: "
                                 f"the .lcw and the checkpoint describe different models")
            got = np.load(os.path.join(dump_dir, layer["file"]))
            want = ref[name]
            # SSR reports a conv with its fused LeakyReLU under the conv's name (PyTorch's conv output
            # is before it); the compact graph names the activation module itself.
            if layer["op"].endswith("+lrelu") and graph != "compact":
                want = np.where(want > 0, want, want * np.float32(0.2)).astype(np.float32)
            if got.shape != want.shape:
                raise AuditError(f"layer '{name}': Lucent gives {list(got.shape)}, PyTorch {list(want.shape)}: "
                                 f"the .lcw and the checkpoint describe different models")
            row = {"layer": name, "op": layer["op"], "shape": list(got.shape), **compare(got, want, tol_base)}
            rows.append(row)
            if not row["ok"] and first_bad is None:
                first_bad = row
            if name == "output":
                gq, rq = to_u8(got), to_u8(want)
                levels = np.abs(gq - rq)
                image = {"max_levels": int(levels.max()), "percent_off": float((levels > 0).mean() * 100)}
                out_pair = (got, want)
            elif first_bad is row:
                bad_pair = (got, want)
        expected = [n for n, m in model.named_modules() if n and isinstance(m, torch.nn.Conv2d) and
                    not n.endswith((".fc1", ".fc2", ".sa"))]
        if graph == "compact":  # each conv but the last is reported through its activation
            expected = [f"body.{int(n.split('.')[1]) + 1}" for n in expected[:-1]] + expected[-1:]
        reported = {r["layer"] for r in rows}
        missing = [n for n in expected if n not in reported]
        if missing:
            raise AuditError(f"Lucent's dump lacks {len(missing)} conv layers of the checkpoint (first: {missing[0]}): "
                             f"the .lcw and the checkpoint describe different models")
        result = {"checkpoint": args.checkpoint, "model": model_path if args.model else "(converted here)",
                  "graph": graph, "tier": manifest["tier"], "precision": manifest["precision"],
                  "threads": manifest["threads"], "image": args.image, "tolerance_base": tol_base,
                  "layers": rows, "first_divergence": first_bad["layer"] if first_bad else None,
                  "image_8bit": image}
        if args.html:
            write_html(args.html, result, out_pair, first_bad, bad_pair if first_bad else None)
    return result


def heat(err):
    """Error map (H x W) as an RGB heat map image: black -> red -> yellow -> white."""
    from PIL import Image
    m = err / (err.max() if err.max() > 0 else 1.0)
    r = np.clip(m * 3, 0, 1)
    g = np.clip(m * 3 - 1, 0, 1)
    b = np.clip(m * 3 - 2, 0, 1)
    return Image.fromarray((np.stack([r, g, b], -1) * 255).astype(np.uint8))


def picture(t):
    """A tensor [1, C, H, W] as an image: RGB if C == 3, else the channel mean, scaled."""
    from PIL import Image
    a = t[0]
    if a.shape[0] == 3:
        return Image.fromarray(to_u8(a.transpose(1, 2, 0)).astype(np.uint8))
    m = a.mean(0)
    m = (m - m.min()) / (m.max() - m.min() + 1e-12)
    return Image.fromarray((m * 255).astype(np.uint8))


def img_tag(im, title):
    buf = io.BytesIO()
    w, h = im.size
    if max(w, h) < 256:  # small tensors are shown enlarged, pixel for pixel
        k = max(1, 256 // max(w, h))
        im = im.resize((w * k, h * k), resample=0)
    im.save(buf, "PNG")
    return (f'<figure><img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'
            f"<figcaption>{html.escape(title)}</figcaption></figure>")


def write_html(path, result, out_pair, first_bad, bad_pair):
    rows = []
    for r in result["layers"]:
        cls = "" if r["ok"] else ' class="bad"'
        rows.append(f"<tr{cls}><td>{html.escape(r['layer'])}</td><td>{html.escape(r['op'])}</td>"
                    f"<td>{'x'.join(map(str, r['shape']))}</td><td>{r['max_abs']:.3g}</td><td>{r['max_rel']:.3g}</td>"
                    f"<td>{r['in_magnitude_units']:.3g}</td><td>{r['ulp_median']:.0f} / {r['ulp_max']}</td>"
                    f"<td>{r['bf16_ulp_max']:.3g}</td><td>{r['tolerance']:.3g}</td></tr>")
    figs = []
    got, want = out_pair
    figs.append("<h2>Output</h2>" + img_tag(picture(got), "Lucent") + img_tag(picture(want), "PyTorch") +
                img_tag(heat(np.abs(got - want)[0].max(0)), "|difference|, max over channels"))
    if first_bad is not None:
        got, want = bad_pair
        figs.append(f"<h2>First divergence: {html.escape(first_bad['layer'])}</h2>" +
                    img_tag(picture(got), "Lucent (channel mean)") + img_tag(picture(want), "PyTorch (channel mean)") +
                    img_tag(heat(np.abs(got - want)[0].max(0)), "|difference|, max over channels"))
    verdict = (f"first divergence: <b>{html.escape(first_bad['layer'])}</b>" if first_bad
               else "every layer within tolerance")
    im8 = result["image_8bit"]
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Lucent numerics audit</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}td:first-child,td:nth-child(2){{text-align:left}}
tr.bad{{background:#fcc}}figure{{display:inline-block;margin:0 1em 1em 0}}img{{image-rendering:pixelated}}</style>
</head><body><h1>Lucent numerics audit</h1>
<p>{html.escape(result['checkpoint'])} on {html.escape(result['image'])}: {result['graph'].upper()}, tier
{html.escape(result['tier'])}, {result['precision']}, {result['threads']} thread(s). Tolerance
{result['tolerance_base']:g} x max(1, layer magnitude). {verdict}. 8-bit output: at most
{im8['max_levels']} level(s) off, {im8['percent_off']:.3f} % of samples.</p>
<table><tr><th>layer</th><th>op</th><th>shape</th><th>max abs</th><th>max rel</th><th>abs / magnitude</th>
<th>fp32 ULP median / max</th><th>bf16 ULP max</th><th>tolerance</th></tr>
{''.join(rows)}</table>{''.join(figs)}</body></html>"""
    with open(path, "w") as f:
        f.write(doc)


def print_table(result):
    print(f"{'layer':<24} {'op':<24} {'max abs':>9} {'max rel':>9} {'abs/mag':>9} {'ulp med':>8} "
          f"{'ulp max':>9} {'bf16ulp':>8} {'tol':>8}")
    for r in result["layers"]:
        flag = "" if r["ok"] else "  <-- exceeds"
        print(f"{r['layer']:<24} {r['op'][:24]:<24} {r['max_abs']:9.2e} {r['max_rel']:9.2e} "
              f"{r['in_magnitude_units']:9.2e} {r['ulp_median']:8.0f} {r['ulp_max']:9d} {r['bf16_ulp_max']:8.2g} "
              f"{r['tolerance']:8.1e}{flag}")
    im = result["image_8bit"]
    print(f"8-bit output: max {im['max_levels']} level(s) off, {im['percent_off']:.3f} % of samples differ")
    if result["first_divergence"]:
        print(f"FIRST DIVERGENCE: {result['first_divergence']} (tier {result['tier']})")
    else:
        print(f"all {len(result['layers'])} layers within tolerance (tier {result['tier']})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--model", help=".lcw to run in Lucent (default: the checkpoint, converted here)")
    ap.add_argument("--reference", action="store_true", help="audit Lucent's reference path (tolerance 1e-4)")
    ap.add_argument("--precision", default="fp32", choices=["fp32"], help="only fp32 exists in this version")
    ap.add_argument("--lucent", help="the lucent binary")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--html", help="write an HTML report with error heat maps")
    args = ap.parse_args(argv)
    try:
        result = audit(args)
    except AuditError as e:
        print(f"audit.py: {e}", file=sys.stderr)
        return 2
    except (checkpoint_reader.CheckpointError, ConvertError, OSError) as e:
        print(f"audit.py: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_table(result)
    return 1 if result["first_divergence"] else 0


if __name__ == "__main__":
    sys.exit(main())
