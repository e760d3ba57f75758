"""lucent.dask on a LocalCluster of two worker processes on 127.0.0.1: a folder gives exactly
`lucent upscale -o`'s files (names, skips, failures, bytes), a worker killed mid-batch loses
nothing, and `python3 -m lucent.dask` does the same from a shell."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import lucent
import lucent.dask

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def make_folder(path, n, size=48, seed=0):
    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray((rng.random((size, size + i, 3)) * 255).astype(np.uint8)).save(os.path.join(path, f"img{i:02d}.png"))


def folder_bytes(path):
    return {n: open(os.path.join(path, n), "rb").read() for n in sorted(os.listdir(path))}


def cli_outputs(lucent_bin, src, out, *extra):
    r = subprocess.run([lucent_bin, "upscale", "-o", str(out), *extra, str(src)], capture_output=True, text=True,
                       timeout=600)
    return r


def test_a_folder_equals_the_cli(tmp_path, client, lucent_bin):
    src = tmp_path / "in"
    make_folder(src, 6)
    (src / "notes.txt").write_text("not an image")
    with open(src / "broken.png", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n garbage")
    cli_out, dask_out = tmp_path / "cli", tmp_path / "dask"
    r = cli_outputs(lucent_bin, src, cli_out)
    assert r.returncode == 1  # broken.png fails, the rest are written
    results = lucent.dask.process_files(client, [str(src)], str(dask_out))
    by_status = {}
    for res in results:
        by_status.setdefault(res.status, []).append(os.path.basename(res.input))
    assert by_status["failed"] == ["broken.png"]
    assert len(by_status["written"]) == 6
    assert folder_bytes(dask_out) == folder_bytes(cli_out)
    assert sorted(os.listdir(dask_out)) == [f"img{i:02d}_x4.png" for i in range(6)]
    # Existing outputs are skipped unless overwrite, as with the CLI.
    again = lucent.dask.process_files(client, str(src), str(dask_out))
    assert sorted(r.status for r in again) == ["failed"] + ["skipped"] * 6
    over = lucent.dask.process_files(client, str(src), str(dask_out), overwrite=True, ext="npy", suffix="_f")
    assert sum(r.status == "written" for r in over) == 6
    cli_outputs(lucent_bin, src, tmp_path / "cli_npy", "--ext", "npy", "--suffix", "_f")
    npys = {k: v for k, v in folder_bytes(dask_out).items() if k.endswith(".npy")}
    assert npys == folder_bytes(tmp_path / "cli_npy")


def test_enhance_and_a_bad_model(tmp_path, client, lucent_bin):
    src = tmp_path / "in"
    make_folder(src, 2, seed=3)
    out = tmp_path / "out"
    res = lucent.dask.process_files(client, str(src), str(out), task="enhance")
    assert [r.status for r in res] == ["written", "written"]
    r = subprocess.run([lucent_bin, "enhance", "-o", str(tmp_path / "cli"), str(src)], capture_output=True)
    assert r.returncode == 0
    assert folder_bytes(out) == folder_bytes(tmp_path / "cli")
    with pytest.raises(lucent.Error):
        lucent.dask.process_files(client, str(src), str(out), model=str(tmp_path / "missing.lcw"))


def test_a_killed_worker_loses_nothing(tmp_path, client, lucent_bin):
    src = tmp_path / "in"
    make_folder(src, 10, size=160, seed=7)
    out = tmp_path / "out"
    pids = list(client.run(os.getpid).values())
    killed = []

    def progress(done, total, result):
        if not killed and done >= 1:
            # A worker in the middle of its next file: SIGKILL, no cleanup of its own.
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
                except ProcessLookupError:
                    continue

    results = lucent.dask.process_files(client, str(src), str(out), progress=progress)
    assert killed, "no worker was killed"
    assert [r.status for r in results] == ["written"] * 10, [(r.input, r.status, r.message) for r in results]
    assert not [n for n in os.listdir(out) if n.startswith(".lucent-")]
    r = cli_outputs(lucent_bin, src, tmp_path / "cli")
    assert r.returncode == 0, r.stderr
    assert folder_bytes(out) == folder_bytes(tmp_path / "cli")
    # The nanny restarts the killed worker: the cluster is whole again.
    deadline = time.monotonic() + 60
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)


def test_the_shell_command(tmp_path, client, lucent_bin):
    src = tmp_path / "in"
    make_folder(src, 3, seed=11)
    out = tmp_path / "out"
    addr = client.scheduler.address
    r = subprocess.run([sys.executable, "-m", "lucent.dask", "--scheduler", addr, "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "[3/3] 3 written, 0 skipped, 0 failed" in r.stderr
    cli_outputs(lucent_bin, src, tmp_path / "cli")
    assert folder_bytes(out) == folder_bytes(tmp_path / "cli")
    r = subprocess.run([sys.executable, "-m", "lucent.dask", "--scheduler", addr, "-o", str(out), "--task",
                        "enhance", "--model", str(tmp_path / "nope.lcw"), str(src)],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert r.returncode == 1
    assert "nope.lcw" in r.stderr
