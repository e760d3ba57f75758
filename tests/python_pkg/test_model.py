"""lucent.Model against the CLI: every dtype and channel count gives the CLI's numbers bit for
bit (uint8 / uint16 PNG pixels, float32 .npy values), errors are raised before any work with the
right exception, and one model runs from several Python threads at once with the GIL released."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

import lucent

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "converters"))


def cli(lucent_bin, *args):
    r = subprocess.run([lucent_bin, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def rand_image(shape, dtype, seed=0):
    x = np.random.default_rng(seed).random(shape)
    if dtype == np.uint8:
        return (x * 255).round().astype(np.uint8)
    if dtype == np.uint16:
        return (x * 65535).round().astype(np.uint16)
    return x.astype(np.float32)


def save_png(path, arr):
    if arr.dtype == np.uint16:
        assert arr.ndim == 2
        Image.fromarray(arr, "I;16").save(path)
    else:
        Image.fromarray(arr).save(path)


def read_png(path):
    with Image.open(path) as im:
        if im.mode in ("I;16", "I;16B", "I"):
            return np.asarray(im).astype(np.uint16)
        return np.asarray(im)


@pytest.mark.parametrize("task", ["upscale", "enhance"])
@pytest.mark.parametrize("channels", [None, 1, 2, 3, 4])
def test_uint8_equals_the_cli_png(tmp_path, lucent_bin, task, channels):
    shape = (21, 17) if channels is None else (21, 17, channels)
    x = rand_image(shape, np.uint8, seed=channels or 0)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    save_png(src, x if channels != 1 else x[..., 0])
    cli(lucent_bin, task, str(src), str(dst))
    want = read_png(dst)
    got = lucent.Model(task=task).run(x)
    if channels == 1:  # PNG stores H x W x 1 as H x W
        got = got[..., 0] if got.ndim == 3 and got.shape[2] == 1 else got
    assert got.dtype == np.uint8
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    # The module functions run the same cached defaults.
    fn = lucent.upscale if task == "upscale" else lucent.enhance
    assert np.array_equal(fn(x), lucent.Model(task=task).run(x))


@pytest.mark.parametrize("task", ["upscale", "enhance"])
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_float32_equals_the_cli_npy(tmp_path, lucent_bin, task, channels):
    shape = (19, 23) if channels is None else (19, 23, channels)
    x = rand_image(shape, np.float32, seed=5)
    x[0, 0] = 1.5  # out of [0, 1]: taken as it is, as the CLI takes .npy input
    src, dst = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, x)
    cli(lucent_bin, task, str(src), str(dst))
    want = np.load(dst)
    got = lucent.Model(task=task).run(x)
    assert got.dtype == np.float32
    assert got.reshape(want.shape).tobytes() == want.tobytes()
    assert got.ndim == x.ndim or channels is None


def test_uint16_equals_the_cli_16_bit_png(tmp_path, lucent_bin):
    x = rand_image((15, 18), np.uint16, seed=3)
    src, dst = tmp_path / "in16.png", tmp_path / "out16.png"
    save_png(src, x)
    cli(lucent_bin, "upscale", str(src), str(dst))
    got = lucent.Model().run(x)
    assert got.dtype == np.uint16
    assert np.array_equal(got, read_png(dst))


def test_uint8_in_float_out_equals_the_cli_npy_of_a_png(tmp_path, lucent_bin):
    x = rand_image((20, 20, 3), np.uint8, seed=8)
    src, dst = tmp_path / "in.png", tmp_path / "out.npy"
    save_png(src, x)
    cli(lucent_bin, "upscale", str(src), str(dst))
    got = lucent.Model().run(x, out_dtype=np.float32)
    assert got.tobytes() == np.load(dst).tobytes()


def test_a_converted_model_file_and_properties(tmp_path, lucent_bin):
    import torch
    from reference_models import SSR
    torch.manual_seed(3)
    pth, lcw = tmp_path / "m.pth", tmp_path / "m.lcw"
    torch.save(SSR(nf=8, nb=1, gc=4, n_up=1).eval().state_dict(), pth)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "converters", "convert.py"), str(pth), str(lcw)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = lucent.Model(str(lcw), threads=1)
    assert (m.task, m.graph, m.scale, m.threads) == ("upscale", "SSR", 2, 1)
    x = rand_image((11, 13, 3), np.uint8)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    save_png(src, x)
    cli(lucent_bin, "upscale", "--model", str(lcw), str(src), str(dst))
    assert np.array_equal(m.run(x), read_png(dst))
    with pytest.raises(ValueError, match="SSR"):
        lucent.Model(str(lcw), task="enhance")
    e = lucent.Model(task="enhance")
    assert (e.graph, e.scale) == ("RED", 1)
    from reference_models import Compact
    compact_pth, compact_lcw = tmp_path / "c.pth", tmp_path / "c.lcw"
    torch.save({"params": Compact(nf=8, num_conv=1, scale=2).eval().state_dict()}, compact_pth)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "converters", "convert.py"), str(compact_pth),
                        str(compact_lcw)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    c = lucent.Model(str(compact_lcw))
    assert (c.task, c.graph, c.scale) == ("upscale", "compact", 2)
    save_png(src, x)
    cli(lucent_bin, "upscale", "--model", str(compact_lcw), str(src), str(dst))
    assert np.array_equal(c.run(x), read_png(dst))
    assert "Model" in repr(m)


def test_errors_before_any_work():
    m = lucent.Model()
    with pytest.raises(TypeError):
        m.run(np.zeros((4, 4, 3), np.int32))
    with pytest.raises(TypeError):
        m.run(np.zeros((4, 4, 3), np.float64))
    with pytest.raises(TypeError):
        m.run([[0, 1], [2, 3]])
    with pytest.raises(ValueError):
        m.run(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError):
        m.run(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        m.run(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(TypeError):
        m.run(np.zeros((4, 4, 3), np.uint8), out_dtype=np.int8)
    with pytest.raises(ValueError):
        lucent.Model(task="sharpen")
    with pytest.raises(ValueError):
        lucent.Model(precision="fp16")
    with pytest.raises(ValueError):
        lucent.Model(threads=-1)
    with pytest.raises(lucent.Error, match="nonexistent"):
        lucent.Model("/nonexistent/model.lcw")
    assert issubclass(lucent.Error, RuntimeError)
    with open(__file__, "rb") as f:
        pass
    with pytest.raises(lucent.Error):
        lucent.Model(__file__)  # not a weight file
    # The library's own refusal: a memory budget no stripe fits.
    tight = lucent.Model(max_memory_mib=1)
    with pytest.raises(lucent.Error, match="MiB"):
        tight.run(np.zeros((300, 300, 3), np.uint8))


def test_non_contiguous_read_only_and_views():
    m = lucent.Model(threads=1)
    x = rand_image((24, 30, 4), np.uint8, seed=2)
    ro = x.copy()
    ro.flags.writeable = False  # np.asarray(PIL image) is read-only
    assert np.array_equal(m.run(ro), m.run(x))
    view = x[:, ::-1, :3]  # non-contiguous, three channels of four
    assert np.array_equal(m.run(view), m.run(np.ascontiguousarray(view)))


def test_threads_share_a_model_and_release_the_gil():
    m = lucent.Model(threads=1)
    xs = [rand_image((48, 48, 3), np.uint8, seed=i) for i in range(4)]
    want = [m.run(x) for x in xs]
    got = [None] * len(xs)
    errors = []

    def work(i):
        try:
            for _ in range(3):
                got[i] = m.run(xs[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def test_the_gil_is_released_while_a_model_runs():
    m = lucent.Model(threads=1)
    x = rand_image((160, 160, 3), np.uint8)
    m.run(x)  # plan and warm
    t = threading.Thread(target=m.run, args=(x,))
    spins, t0 = 0, time.monotonic()
    t.start()
    while t.is_alive():  # pure Python: only runs while the other thread has let go of the GIL
        spins += 1
    elapsed = time.monotonic() - t0
    t.join()
    assert elapsed > 0.02
    assert spins > 20000 * elapsed, f"{spins} loop turns in {elapsed:.3f} s: the GIL was held"


def test_help_reads_well():
    doc = lucent.Model.__doc__ + lucent.Model.run.__doc__
    for word in ("path", "task", "threads", "precision", "max_memory_mib", "uint16", "Raises"):
        assert word in doc
