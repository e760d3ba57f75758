"""Lucent from Python: super-resolution (SSR) and low-light enhancement (RED) on numpy arrays.

    import lucent
    big = lucent.upscale(image)                 # H x W x C uint8 -> 4H x 4W x C, embedded model
    model = lucent.Model("RealESRGAN_x4plus.lcw", threads=2)
    out = model.run(image)                       # same dtype and layout at the model's scale

Numbers are exactly the `lucent` command line's: uint8 and uint16 outputs are quantised as it
quantises PNG output, float32 is not clamped (its `.npy` output). The GIL is released while a
model runs, and one model may be run from several threads at once. `lucent.dask` runs folders
of files on a Dask cluster.
"""
from __future__ import annotations

import threading
from typing import Dict, Optional, Tuple

import numpy as np

from . import _lucent

__all__ = ["Error", "Model", "upscale", "enhance", "version"]

#: Raised with the library's own message (a bad model file, an image the model cannot take,
#: a run that would exceed the memory limit, ...). A RuntimeError.
Error = _lucent.Error

#: The version of the Lucent library inside this package.
version: str = _lucent.version

_KINDS = {"upscale": 1, "enhance": 2}
_DTYPES = (np.uint8, np.uint16, np.float32)


def _dtype_of(value, what: str) -> np.dtype:
    try:
        dt = np.dtype(value)
    except TypeError:
        raise TypeError(f"{what} must be uint8, uint16 or float32, not {value!r}") from None
    if dt not in [np.dtype(d) for d in _DTYPES]:
        raise TypeError(f"{what} must be uint8, uint16 or float32, not {dt}")
    return dt


class Model:
    """A loaded model: an upscaling network (SSR / RRDBNet or the compact SRVGGNetCompact) or
    the RED enhancement network.

    Args:
        path: a `.lcw` weight file (`converters/convert.py` makes one from `.pth` or
            `.safetensors`), or None for the model embedded in the library.
        task: 'upscale' or 'enhance'. With path=None it picks the embedded model (default
            'upscale'); with a path it must match the file's graph when given (ValueError
            otherwise), and is taken from the file when None.
        threads: threads per run; 0 uses every core this process may use.
        precision: 'fp32' (matches PyTorch fp32) or 'bf16' (AMX or AVX512-BF16; refused with
            lucent.Error on CPUs without them).
        max_memory_mib: working-memory budget per run in MiB; None uses physical memory (or the
            container's limit). Runs stream in stripes to fit it; a run that cannot is refused.

    Raises:
        lucent.Error: the file cannot be read or is not a model; bf16 is not available.
        ValueError / TypeError: a bad argument.
    """

    def __init__(self, path: Optional[str] = None, task: Optional[str] = None, threads: int = 0,
                 precision: str = "fp32", max_memory_mib: Optional[float] = None) -> None:
        if task is not None and task not in _KINDS:
            raise ValueError(f"task must be 'upscale' or 'enhance', not {task!r}")
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', not {precision!r}")
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
            raise ValueError(f"threads must be an integer >= 0, not {threads!r}")
        if max_memory_mib is not None and not (max_memory_mib > 0):
            raise ValueError(f"max_memory_mib must be positive, not {max_memory_mib!r}")
        if path is not None and not isinstance(path, str):
            path = str(path)  # os.PathLike
        kind = _KINDS[task or "upscale"]
        budget = 0 if max_memory_mib is None else int(max_memory_mib * (1 << 20))
        self._m = _lucent.Model(path or "", kind, int(threads), precision == "bf16", budget)
        if path is not None and task is not None and self._m.kind != kind:
            have = "upscale" if self._m.kind == 1 else "enhance"
            raise ValueError(f"{path} holds a {self._m.graph} ({have}) model, not one for task {task!r}")
        self._precision = precision

    @property
    def task(self) -> str:
        """'upscale' (SSR) or 'enhance' (RED)."""
        return "upscale" if self._m.kind == 1 else "enhance"

    @property
    def graph(self) -> str:
        """The network: 'SSR' (RRDBNet), 'compact' (SRVGGNetCompact, an upscaler) or 'RED'."""
        return self._m.graph

    @property
    def scale(self) -> int:
        """Output size / input size (1 for enhancement)."""
        return self._m.scale

    @property
    def name(self) -> str:
        """The file it was loaded from, or the embedded model's name."""
        return self._m.name

    @property
    def threads(self) -> int:
        """Threads each run uses."""
        return self._m.threads

    @property
    def precision(self) -> str:
        return self._precision

    def output_shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The shape run() returns for an input of `shape` (H x W or H x W x C)."""
        h, w, c = self._check_shape(tuple(shape))
        oh, ow, oc = self._m.output_size(w, h, c)
        return (oh, ow) if len(shape) == 2 and oc == 1 else (oh, ow, oc)

    def run(self, image: np.ndarray, out_dtype=None) -> np.ndarray:
        """Runs the model on one image.

        Args:
            image: H x W x C (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) or H x W, dtype uint8,
                uint16 or float32 (float in [0, 1], taken as it is).
            out_dtype: the output's dtype (default: the input's): uint8 / uint16 are quantised
                as the CLI writes PNG, float32 is unclamped (the CLI's `.npy` output).

        Returns:
            The result at the model's scale, in the input's layout (alpha resized alongside
            or kept, as the CLI does).

        Raises:
            TypeError: not a numpy array, or another dtype.
            ValueError: another number of dimensions or channels, or an empty image.
            lucent.Error: the model cannot take it (channels, size, memory limit).
        """
        if not isinstance(image, np.ndarray):
            raise TypeError(f"image must be a numpy array, not {type(image).__name__}")
        _dtype_of(image.dtype, "image's dtype")
        odt = image.dtype if out_dtype is None else _dtype_of(out_dtype, "out_dtype")
        h, w, c = self._check_shape(image.shape)
        src = np.ascontiguousarray(image)
        oh, ow, oc = self._m.output_size(w, h, c)
        out = np.empty((oh, ow) if image.ndim == 2 and oc == 1 else (oh, ow, oc), dtype=odt)
        self._m.run(src, out)
        return out

    def _check_shape(self, shape: Tuple[int, ...]) -> Tuple[int, int, int]:
        if len(shape) not in (2, 3):
            raise ValueError(f"image must be H x W or H x W x C, not {len(shape)}-D (shape {shape})")
        c = shape[2] if len(shape) == 3 else 1
        if not 1 <= c <= 4:
            raise ValueError(f"image must have 1 to 4 channels, not {c} (shape {shape})")
        if shape[0] < 1 or shape[1] < 1:
            raise ValueError(f"image must not be empty (shape {shape})")
        return int(shape[0]), int(shape[1]), int(c)

    def process_file(self, src: str, dst: str) -> Dict[str, object]:
        """Reads an image file and writes the result exactly as `lucent upscale SRC DST` (or
        `enhance`) does: the same decoders, memory check, encoders and atomic write (the file
        appears complete or not at all). Returns sizes and timing; raises lucent.Error."""
        return self._m.process_file(str(src), str(dst))

    def release_working_memory(self) -> None:
        """Frees the plans and memory kept from earlier runs for the next run of a size."""
        self._m.release_working_memory()

    def __repr__(self) -> str:
        return (f"lucent.Model({self.name!r}, task={self.task!r}, graph={self.graph!r}, scale={self.scale}, "
                f"threads={self.threads}, precision={self.precision!r})")


_defaults: Dict[str, Model] = {}
_defaults_lock = threading.Lock()


def _default(task: str) -> Model:
    with _defaults_lock:
        if task not in _defaults:
            _defaults[task] = Model(task=task)
        return _defaults[task]


def upscale(image: np.ndarray, out_dtype=None) -> np.ndarray:
    """The embedded super-resolution model on `image` (see Model.run); loaded once, cached."""
    return _default("upscale").run(image, out_dtype)


def enhance(image: np.ndarray, out_dtype=None) -> np.ndarray:
    """The embedded low-light model on `image` (see Model.run); loaded once, cached."""
    return _default("enhance").run(image, out_dtype)
