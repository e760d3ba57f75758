"""Writer (and a small reader for tests) of Lucent's weight format, weights/FORMAT.md.

Needs only python3-numpy.
"""
import os
import re
import struct
import tempfile
import zlib

import numpy as np

MAGIC = b"LCW1"
VERSION = 1
KINDS = {"ssr": 1, "red": 2, "compact": 3}
DTYPES = {np.dtype("<f4"): 1, np.dtype("<f2"): 2}  # bfloat16 (3) is widened to float32 on load
HEADER = struct.Struct("<4sIIIIIQQQQII")
assert HEADER.size == 64
KEY_RE = re.compile(r"^[a-z0-9_]{1,64}$")


def _align(n, a=64):
    return (n + a - 1) // a * a


def _meta_bytes(key, value):
    if not KEY_RE.match(key):
        raise ValueError(f"metadata key {key!r} is not 1-64 characters of [a-z0-9_]")
    kb = key.encode("ascii")
    if isinstance(value, str):
        vb = value.encode("ascii")
        if len(vb) > 256:
            raise ValueError(f"metadata {key}: string longer than 256 bytes")
        return struct.pack("<H", len(kb)) + kb + struct.pack("<BI", 2, len(vb)) + vb
    ints = [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(ints) > 64:
        raise ValueError(f"metadata {key}: more than 64 values")
    return (struct.pack("<H", len(kb)) + kb + struct.pack("<BI", 1, len(ints)) +
            struct.pack(f"<{len(ints)}q", *ints))


def write(path, kind, metadata, tensors):
    """Writes `tensors` (name -> numpy array, float32 or float16) with `metadata` (key -> int,
    list of ints or str). The file appears atomically (temporary file + rename)."""
    table = b"".join(_meta_bytes(k, v) for k, v in metadata.items())
    entries, blobs, offset = [], [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in DTYPES:
            arr = arr.astype(np.float32)
        nb = name.encode("ascii")
        if not 1 <= len(nb) <= 256 or not 1 <= arr.ndim <= 4:
            raise ValueError(f"tensor {name}: bad name length or rank {arr.ndim}")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        entries.append(struct.pack("<H", len(nb)) + nb + struct.pack("<BB", DTYPES[arr.dtype], arr.ndim) +
                       struct.pack(f"<{arr.ndim}q", *arr.shape) + struct.pack("<QQ", offset, len(data)))
        blobs.append(data + b"\0" * (_align(len(data)) - len(data)))
        offset += _align(len(data))
    table += b"".join(entries)
    data_offset = _align(64 + len(table))
    data = b"".join(blobs)
    file_size = data_offset + len(data)
    body = table + b"\0" * (data_offset - 64 - len(table)) + data

    def header(crc):
        return HEADER.pack(MAGIC, VERSION, KINDS[kind], len(metadata), len(tensors), 0, len(table),
                           data_offset, len(data), file_size, crc, 0)

    crc = zlib.crc32(body, zlib.crc32(header(0)))
    out_dir = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".lcw-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header(crc))
            f.write(body)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read(path):
    """(kind, metadata, tensors) of a file written by write(); for tests and inspection only."""
    with open(path, "rb") as f:
        blob = f.read()
    (magic, version, kind, n_meta, n_tensors, _, table_size, data_offset, data_size, file_size,
     crc, _) = HEADER.unpack_from(blob, 0)
    if magic != MAGIC or version != VERSION or file_size != len(blob):
        raise ValueError("not a version-1 .lcw file of the size its header says")
    if zlib.crc32(blob[:56] + b"\0" * 4 + blob[60:]) != crc:
        raise ValueError("CRC mismatch")
    pos, meta, tensors = 64, {}, {}
    for _ in range(n_meta):
        (klen,) = struct.unpack_from("<H", blob, pos)
        key = blob[pos + 2:pos + 2 + klen].decode("ascii")
        typ, count = struct.unpack_from("<BI", blob, pos + 2 + klen)
        pos += 7 + klen
        if typ == 1:
            meta[key] = list(struct.unpack_from(f"<{count}q", blob, pos))
            pos += 8 * count
        else:
            meta[key] = blob[pos:pos + count].decode("ascii")
            pos += count
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from("<H", blob, pos)
        name = blob[pos + 2:pos + 2 + nlen].decode("ascii")
        dtype, rank = struct.unpack_from("<BB", blob, pos + 2 + nlen)
        pos += 4 + nlen
        dims = struct.unpack_from(f"<{rank}q", blob, pos)
        off, size = struct.unpack_from("<QQ", blob, pos + 8 * rank)
        pos += 8 * rank + 16
        dt = {1: "<f4", 2: "<f2"}[dtype]
        start = data_offset + off
        tensors[name] = np.frombuffer(blob[start:start + size], dtype=dt).reshape(dims)
    kind_name = {v: k for k, v in KINDS.items()}[kind]
    return kind_name, meta, tensors
