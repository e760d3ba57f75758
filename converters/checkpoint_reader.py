"""Reads PyTorch checkpoints and .safetensors files without PyTorch and without running pickle
code.

Supported: PyTorch's zip format (torch.save since 1.6), the legacy pickle stream written before
1.6 (and by `_use_new_zipfile_serialization=False`), and safetensors. Tensors come back as numpy
arrays: float32 and float16 keep their dtype, bfloat16 is widened to float32, integer tensors keep
theirs. The pickle is read by an Unpickler whose find_class() resolves only an allow-list of
names to local stand-ins, so a checkpoint cannot make this process import or call anything.
"""
import collections
import io
import json
import pickle
import struct
import zipfile
import zlib

import numpy as np


class CheckpointError(Exception):
    """The file is not a checkpoint this reader accepts; the message says why."""


# Storage class name -> (numpy dtype, element size). bfloat16 has no numpy dtype: uint16 bits.
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"), "HalfStorage": np.dtype("<f2"), "BFloat16Storage": np.dtype("<u2"),
    "DoubleStorage": np.dtype("<f8"), "LongStorage": np.dtype("<i8"), "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"), "CharStorage": np.dtype("i1"), "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}
SAFETENSORS_DTYPES = {"F32": ("<f4", False), "F16": ("<f2", False), "BF16": ("<u2", True),
                      "F64": ("<f8", False), "I64": ("<i8", False), "I32": ("<i4", False),
                      "I16": ("<i2", False), "I8": ("i1", False), "U8": ("u1", False), "BOOL": ("?", False)}
MAX_HEADER = 100 << 20
MAX_ELEMENTS = 1 << 34
MAX_PICKLE = 256 << 20        # data.pkl of a real checkpoint is a few hundred KB
MAX_DEPTH = 64                # containers nested deeper than this are not a state dict
MAX_INFLATION = 64            # torch.save stores tensors uncompressed; weights deflate < 2x
MAX_TOTAL_BYTES = 32 << 30    # all storages together (a 23-block x4 model is 64 MB)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


class _NoState:
    """The pickle BUILD opcode would overwrite a stand-in's fields (e.g. a tensor's size with
    a string); it has no business with them, so it is refused."""

    def __setstate__(self, state):
        raise CheckpointError(f"the pickle tries to set the state of a {type(self).__name__} "
                              "(BUILD opcode), which checkpoints never do")


class StorageType(_NoState):
    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


class Storage(_NoState):
    """A storage the pickle refers to; its bytes are attached once known."""

    def __init__(self, stype, key, numel):
        self.stype, self.key, self.numel = stype, key, numel
        self.array = None  # numpy array of numel elements


class LazyTensor(_NoState):
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialize(self):
        st = self.storage
        if st.array is None:
            raise CheckpointError(f"storage {st.key!r} has no data in the file")
        if len(self.size) != len(self.stride) or any(not isinstance(v, int) or v < 0 for v in self.size + self.stride):
            raise CheckpointError(f"tensor on storage {st.key!r} has a bad size/stride {self.size}/{self.stride}")
        if not isinstance(self.offset, int) or self.offset < 0:
            raise CheckpointError(f"tensor on storage {st.key!r} has a bad offset {self.offset}")
        count = 1
        for v in self.size:
            count *= v
        if count > MAX_ELEMENTS:
            raise CheckpointError(f"tensor on storage {st.key!r} is too large ({count} elements)")
        if count:
            last = self.offset + sum((s - 1) * d for s, d in zip(self.size, self.stride))
            if last >= len(st.array):
                raise CheckpointError(f"tensor on storage {st.key!r} reads past its storage "
                                      f"(element {last} of {len(st.array)})")
        item = st.array.itemsize
        view = np.lib.stride_tricks.as_strided(st.array[self.offset:] if count else st.array[:0],
                                               shape=self.size, strides=[d * item for d in self.stride],
                                               writeable=False)
        arr = np.array(view, copy=True)
        return bf16_to_f32(arr) if st.stype.name == "BFloat16Storage" else arr


def _rebuild_tensor(storage, offset, size, stride, *unused):
    if not isinstance(storage, Storage):
        raise CheckpointError("a tensor is built on something that is not a storage")
    return LazyTensor(storage, offset, size, stride)


def _rebuild_parameter(data, *unused):
    return data


def _ordered_dict(*args):
    return collections.OrderedDict(*args)


ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): _ordered_dict,
}


class SafeUnpickler(pickle.Unpickler):
    """Resolves only ALLOWED names and torch storage types; anything else is refused."""

    def __init__(self, stream, storage_loader):
        super().__init__(stream)
        self.storage_loader = storage_loader
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise CheckpointError(f"refusing to load: the pickle asks for {module}.{name}, which is not "
                              f"on the allow-list of tensor-rebuilding names (no pickle code is run)")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise CheckpointError(f"unexpected persistent id {pid!r:.80}")
        stype, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(stype, StorageType):
            raise CheckpointError(f"storage {key!r} has an unknown type")
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError("storage views (PyTorch < 0.4 view metadata) are not supported")
        if not isinstance(numel, int) or not 0 <= numel <= MAX_ELEMENTS:
            raise CheckpointError(f"storage {key!r} has a bad element count {numel!r}")
        st = self.storages.get(key)
        if st is None:
            st = self.storages[key] = Storage(stype, key, numel)
            self.storage_loader(st)
        return st


def _load_pickle(data, storage_loader):
    up = SafeUnpickler(io.BytesIO(data) if isinstance(data, bytes) else data, storage_loader)
    try:
        return up.load(), up.storages
    except CheckpointError:
        raise
    except Exception as e:  # malformed pickle stream
        raise CheckpointError(f"malformed pickle data: {type(e).__name__}: {e}") from None


def _materialize(obj, depth=0):
    if depth > MAX_DEPTH:
        raise CheckpointError(f"containers nested more than {MAX_DEPTH} deep: not a state dict")
    if isinstance(obj, LazyTensor):
        return obj.materialize()
    if isinstance(obj, dict):
        return {k: _materialize(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize(v, depth + 1) for v in obj)
    return obj


def _attach(st, raw):
    need = st.numel * st.stype.dtype.itemsize
    if len(raw) < need:
        raise CheckpointError(f"storage {st.key!r} is truncated: {len(raw)} bytes, {need} needed")
    st.array = np.frombuffer(raw, dtype=st.stype.dtype, count=st.numel)


def _load_zip(path):
    try:
        zf = zipfile.ZipFile(path)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError, EOFError, NotImplementedError) as e:
        # zipfile raises UnicodeDecodeError for undecodable entry names (found by fuzzing)
        raise CheckpointError(f"broken zip archive: {e}") from None
    pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pkl) != 1:
        raise CheckpointError("zip archive without exactly one data.pkl: not a PyTorch checkpoint")
    prefix = pkl[0][: -len("data.pkl")]
    budget = [MAX_TOTAL_BYTES]

    def loader(st):
        name = f"{prefix}data/{st.key}"
        if name not in names:
            raise CheckpointError(f"storage {st.key!r} is missing from the archive")
        info = zf.getinfo(name)
        need = st.numel * st.stype.dtype.itemsize
        # Checked before anything is inflated: what the pickle declares, what the archive
        # says the entry holds, and how much the entry would grow. A few MB of zip can
        # otherwise claim (and make this process allocate) many GB.
        if info.file_size != need:
            raise CheckpointError(f"storage {st.key!r} holds {info.file_size} bytes in the archive "
                                  f"but the pickle declares {st.numel} elements ({need} bytes)")
        if info.compress_type != zipfile.ZIP_STORED and need > MAX_INFLATION * max(info.compress_size, 4096):
            raise CheckpointError(f"storage {st.key!r} inflates from {info.compress_size} to {need} "
                                  f"bytes: not weights (a zip bomb?)")
        budget[0] -= need
        if budget[0] < 0:
            raise CheckpointError(f"the storages declare more than {MAX_TOTAL_BYTES >> 30} GiB in all")
        try:
            with zf.open(name) as f:
                _attach(st, f.read(need))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error) as e:
            raise CheckpointError(f"storage {st.key!r} cannot be read: {e}") from None

    if zf.getinfo(pkl[0]).file_size > MAX_PICKLE:
        raise CheckpointError(f"data.pkl is {zf.getinfo(pkl[0]).file_size} bytes: not a state dict")
    try:
        with zf.open(pkl[0]) as f:
            data = f.read(MAX_PICKLE + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error) as e:
        raise CheckpointError(f"data.pkl cannot be read: {e}") from None
    obj, _ = _load_pickle(data, loader)
    return _materialize(obj)


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def remaining(f):
    here = f.tell()
    f.seek(0, 2)
    end = f.tell()
    f.seek(here)
    return end - here


def _load_legacy(f):
    # The first three pickles hold only ints, bools and strings; a restricted unpickler keeps
    # them that way.
    class Plain(pickle.Unpickler):
        def find_class(self, module, name):
            raise CheckpointError(f"refusing to load: legacy header asks for {module}.{name}")

    def plain(what):
        try:
            return Plain(f).load()
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(f"legacy checkpoint: cannot read the {what}: {e}") from None

    if plain("magic number") != LEGACY_MAGIC:
        raise CheckpointError("not a PyTorch legacy checkpoint (wrong magic number)")
    if plain("protocol version") != 1001:
        raise CheckpointError("unsupported legacy protocol version")
    sysinfo = plain("system info")
    if isinstance(sysinfo, dict) and not sysinfo.get("little_endian", True):
        raise CheckpointError("big-endian legacy checkpoints are not supported")
    # The storages' bytes follow the pickle, so they are attached after it is read.
    obj, by_key = _load_pickle(f, lambda st: None)
    keys = plain("storage key list")
    if not isinstance(keys, list):
        raise CheckpointError("legacy checkpoint: storage key list is not a list")
    for key in keys:
        st = by_key.get(str(key))
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"legacy checkpoint truncated before storage {key!r}")
        (numel,) = struct.unpack("<q", head)
        if st is None:
            raise CheckpointError(f"legacy checkpoint lists unknown storage {key!r}")
        if numel != st.numel:
            raise CheckpointError(f"storage {key!r}: {numel} elements on disk, {st.numel} expected")
        need = numel * st.stype.dtype.itemsize
        if need > remaining(f):
            raise CheckpointError(f"legacy checkpoint: storage {key!r} declares {need} bytes but only "
                                  f"{remaining(f)} remain in the file (truncated or hostile)")
        _attach(st, f.read(need))
    return _materialize(obj)


def _load_safetensors(blob):
    (n,) = struct.unpack_from("<Q", blob, 0)
    if n > MAX_HEADER or 8 + n > len(blob):
        raise CheckpointError(f"safetensors header size {n} does not fit the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"safetensors header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise CheckpointError("safetensors header is not a JSON object")
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"safetensors entry {name!r} lacks dtype/shape/data_offsets") from None
        if dtype not in SAFETENSORS_DTYPES:
            raise CheckpointError(f"safetensors tensor {name!r} has unsupported dtype {dtype}")
        np_dtype, is_bf16 = SAFETENSORS_DTYPES[dtype]
        if not isinstance(shape, list) or any(not isinstance(d, int) or d < 0 for d in shape):
            raise CheckpointError(f"safetensors tensor {name!r} has a bad shape {shape!r}")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        size = count * np.dtype(np_dtype).itemsize
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= len(data)
                and end - begin == size):
            raise CheckpointError(f"safetensors tensor {name!r}: offsets [{begin}, {end}) do not hold "
                                  f"{shape} {dtype} inside the {len(data)}-byte data section")
        arr = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape).copy()
        out[name] = bf16_to_f32(arr) if is_bf16 else arr
    return out


def load(path):
    """Returns the checkpoint's top-level object with tensors as numpy arrays."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror}") from None
    if head[:4] == b"PK\x03\x04":
        return _load_zip(path)
    if len(head) >= 262 and head[257:262] == b"ustar":
        raise CheckpointError("this is PyTorch's tar checkpoint format (before 0.4), which is not supported; "
                              "re-save it with a newer PyTorch")
    if head[:2] == b"\x80\x02":
        with open(path, "rb") as f:
            return _load_legacy(f)
    if len(head) >= 9 and head[8:9] == b"{":
        with open(path, "rb") as f:
            return _load_safetensors(f.read())
    raise CheckpointError("not a PyTorch checkpoint (zip or legacy) or a .safetensors file")


def is_tensor(obj):
    return isinstance(obj, np.ndarray)

