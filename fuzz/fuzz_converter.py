#!/usr/bin/env python3
"""Seeded mutation fuzzing of the converter's checkpoint reader and layout code (Debian has no
atheris). Each round takes a seed from fuzz/corpus/pth, mutates it, and converts it in this
process under a 2 GiB address-space limit. The only acceptable failures are CheckpointError and
ConvertError (the one-line refusals); anything else, including MemoryError, is a finding: it is
saved under the findings folder and counted.

Zip seeds are mutated structure-aware: the bytes of data.pkl or of one storage are mutated and
the archive re-packed, since zip's own CRCs would otherwise reject nearly every mutant. A third
of the rounds take an ncnn seed pair from fuzz/corpus/ncnn (a .param and its .bin) instead and
mutate the text line- and token-wise (dropped, repeated and swapped lines, numbers replaced by
interesting values) or the .bin's bytes.

    python3 fuzz/fuzz_converter.py SECONDS [--seed N] [--findings DIR]
"""
import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
import traceback
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converters"))
import checkpoint_reader  # noqa: E402
import convert  # noqa: E402
from layout_check import ConvertError  # noqa: E402

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 31, 1 << 40, (1 << 63) - 1]


def mutate_bytes(rng, b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        if not b:
            b.extend(rng.randbytes(rng.randint(1, 16)))
            continue
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.randrange(256)
        elif op == 2:
            del b[i:i + rng.randint(1, 16)]
        elif op == 3:
            b[i:i] = rng.randbytes(rng.randint(1, 16))
        elif op == 4:
            v = rng.choice(INTERESTING)
            b[i:i + 8] = v.to_bytes(8, "little", signed=False)[: min(8, len(b) - i)]
        elif op == 5:
            j = rng.randrange(len(b))
            n = rng.randint(1, 64)
            b[i:i] = b[j:j + n]
        else:
            del b[rng.randrange(len(b)):]
    return bytes(b)


INTERESTING_TEXT = ["0", "1", "-1", "3", "64", "65536", "2147483647", "99999999999", "-23310", "1e30", "nan",
                    "-23300=0", "-23301=3,1,2", "0=1", "9=2", "1=4.0"]


def mutate_param(rng, text):
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        if len(lines) < 3:
            break
        i = rng.randrange(2, len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(2, len(lines))])
        elif op == 2:
            j = rng.randrange(2, len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            tok = lines[i].split()
            k = rng.randrange(len(tok))
            if op == 3 and "=" in tok[k]:
                key = tok[k].split("=", 1)[0]
                tok[k] = key + "=" + rng.choice(INTERESTING_TEXT)
            elif op == 4:
                tok[k] = rng.choice(INTERESTING_TEXT + [t for t in tok])
            else:
                tok.insert(k, rng.choice(INTERESTING_TEXT))
            lines[i] = " ".join(tok)
    return "\n".join(lines) + "\n"


def mutate(rng, seed):
    if seed[:4] == b"PK\x03\x04" and rng.random() < 0.8:
        with zipfile.ZipFile(io.BytesIO(seed)) as z:
            entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
        k = rng.randrange(len(entries))
        if rng.random() < 0.7:
            pkl = [n for n, (name, _) in enumerate(entries) if name.endswith("data.pkl")]
            k = pkl[0] if pkl else k
        entries[k] = (entries[k][0], mutate_bytes(rng, entries[k][1]))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for name, data in entries:
                z.writestr(name, data)
        return out.getvalue()
    return mutate_bytes(rng, seed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seconds", type=float)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--findings", default=os.path.join(tempfile.gettempdir(), "lucent-fuzz-findings"))
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    # CPython reports "deallocated bytearray object has exported buffers" when the unpickler
    # drops a refused protocol-5 buffer; it is not an exception of the converter. Counted only.
    unraisable = [0]

    def count_unraisable(_info):
        unraisable[0] += 1

    sys.unraisablehook = count_unraisable
    rng = random.Random(args.seed)
    corpus_dir = os.path.join(ROOT, "fuzz", "corpus", "pth")
    seeds = [open(os.path.join(corpus_dir, n), "rb").read() for n in sorted(os.listdir(corpus_dir))]
    ncnn_dir = os.path.join(ROOT, "fuzz", "corpus", "ncnn")
    pairs = [(open(os.path.join(ncnn_dir, n), encoding="ascii").read(),
              open(os.path.join(ncnn_dir, n[:-6] + ".bin"), "rb").read())
             for n in sorted(os.listdir(ncnn_dir)) if n.endswith(".param")]
    work = tempfile.mkdtemp(prefix="lucent-fuzz-conv-")
    src, dst = os.path.join(work, "in.pth"), os.path.join(work, "out.lcw")
    param, binary = os.path.join(work, "in.param"), os.path.join(work, "in.bin")
    execs = findings = refused = 0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        target = src
        if pairs and rng.random() < 1 / 3:
            text, bin_data = rng.choice(pairs)
            if rng.random() < 0.6:
                text = mutate_param(rng, text)
            else:
                bin_data = mutate_bytes(rng, bin_data)
            with open(param, "w", encoding="ascii", errors="replace") as f:
                f.write(text)
            with open(binary, "wb") as f:
                f.write(bin_data)
            data, target = text.encode("ascii", "replace") + b"\n--bin--\n" + bin_data, param
        else:
            data = mutate(rng, rng.choice(seeds))
            with open(src, "wb") as f:
                f.write(data)
        execs += 1
        try:
            convert.convert(target, dst, None)
        except (checkpoint_reader.CheckpointError, ConvertError):
            refused += 1
        except Exception:  # noqa: BLE001 - every other exception is a finding
            findings += 1
            os.makedirs(args.findings, exist_ok=True)
            path = os.path.join(args.findings, f"converter-{args.seed}-{execs}.pth")
            with open(path, "wb") as f:
                f.write(data)
            print(f"finding: {path}\n{traceback.format_exc(limit=3)}", file=sys.stderr)
    print(f"fuzz_converter: {execs} executions, {refused} refused cleanly, {findings} findings "
          f"({args.seconds:.0f} s, seed {args.seed}; {unraisable[0]} CPython unraisable notices)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
