"""Hand-built hostile inputs: PyTorch checkpoints that lie about their sizes or abuse pickle
opcodes, and images that are valid but huge or crafted to hit decoder bugs."""
import pickle
import struct
import zipfile
import zlib


def _proto2(body):
    return b"\x80\x02" + body + b"."


def _global(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def _str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _long(v):
    return b"\x8a\x08" + struct.pack("<q", v)


def tensor_pickle_body(numel, size, offset=0):
    """Pickle ops for {'conv_first.weight': tensor over storage '0' of `numel` floats}, without
    the protocol header and STOP."""
    stride, acc = [], 1
    for d in reversed(size):
        stride.insert(0, acc)
        acc *= d
    pid = b"(" + _str("storage") + _global("torch", "FloatStorage") + _str("0") + _str("cpu") + _long(numel) + b"tQ"
    tup = lambda vals: b"(" + b"".join(_long(v) for v in vals) + b"t"  # noqa: E731
    args = b"(" + pid + _long(offset) + tup(size) + tup(stride) + b"\x89" + b"}" + b"t"
    return b"}" + _str("conv_first.weight") + _global("torch._utils", "_rebuild_tensor_v2") + args + b"R" + b"s"


def _zip(path, pkl, storages, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr("archive/data.pkl", pkl)
        for key, writer in storages.items():
            with z.open(f"archive/data/{key}", "w", force_zip64=True) as f:
                writer(f)


def _zeros(nbytes):
    def write(f):
        chunk = b"\0" * (1 << 24)
        left = nbytes
        while left > 0:
            f.write(chunk[:min(left, len(chunk))])
            left -= len(chunk)
    return write


def zip_bomb_declared(path):
    """6 GB declared by the pickle, 640 MiB of zeros in the archive (deflated to ~0.6 MB)."""
    _zip(path, _proto2(tensor_pickle_body(1_500_000_000, [1_500_000_000])), {"0": _zeros(640 << 20)},
         zipfile.ZIP_DEFLATED)


def zip_bomb_consistent(path):
    """Pickle and archive agree on 640 MiB, deflated to ~0.6 MB: a bomb, not weights."""
    n = (640 << 20) // 4
    _zip(path, _proto2(tensor_pickle_body(n, [n])), {"0": _zeros(640 << 20)}, zipfile.ZIP_DEFLATED)


def deeply_nested(path):
    body = b"}" + _str("k") + b"]" * 100000 + b"a" * 99999 + b"s"
    _zip(path, _proto2(body), {})


def build_on_tensor(path):
    """A BUILD opcode that would overwrite a tensor's size with a string."""
    t = tensor_pickle_body(4, [4])
    body = t[:-1] + b"}" + _str("size") + _str("abc") + b"s" + b"b" + b"s"
    _zip(path, _proto2(body), {"0": lambda f: f.write(b"\0" * 16)})


def overflowing_shape(path):
    _zip(path, _proto2(tensor_pickle_body(4, [1 << 40, 1 << 40])), {"0": lambda f: f.write(b"\0" * 16)})


def legacy_huge(path):
    """A legacy (pre-1.6) checkpoint whose storage declares 32 GiB in a 1 KB file."""
    with open(path, "wb") as f:
        f.write(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2) +
                pickle.dumps({"little_endian": True}, protocol=2))
        f.write(_proto2(tensor_pickle_body(1 << 33, [1 << 33])))
        f.write(pickle.dumps(["0"], protocol=2))
        f.write(struct.pack("<q", 1 << 33) + b"\0" * 1000)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def valid_huge_png(path, w, h):
    """A complete, valid 8-bit gray PNG of w x h black pixels (compresses to ~w*h/1000 bytes)."""
    comp = zlib.compressobj(9)
    row = b"\0" * (w + 1)
    parts = [comp.compress(row) for _ in range(h)]
    parts.append(comp.flush())
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(_png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b""))


def jpeg_bad_huffman(path, good_jpeg_bytes):
    """A copy of a JPEG whose first DHT declares code counts summing past 256 (the table
    stb_image 2.27 overflowed)."""
    b = bytearray(good_jpeg_bytes)
    i = b.find(b"\xff\xc4")
    assert i >= 0, "no DHT segment"
    counts = i + 5  # FF C4, length (2), class/id (1), then 16 counts
    for k in range(16):
        b[counts + k] = 0x20  # 16 * 32 = 512 codes
    with open(path, "wb") as f:
        f.write(bytes(b))
