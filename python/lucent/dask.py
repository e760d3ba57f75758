"""Batches of image files on a Dask cluster (dask.distributed): the same code on a laptop's
LocalCluster and on a cluster's scheduler.

    from dask.distributed import Client, LocalCluster
    import lucent.dask
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        results = lucent.dask.process_files(client, ["photos/"], "out/")

Each input becomes one task. A worker loads the model once and keeps it for every task it
runs; it reads and writes files exactly as `lucent upscale -o OUTDIR` does (the CLI's decoders,
encoders and NAME<suffix>.<ext> naming, planned by the CLI's own job planner), and each output
appears whole or not at all. When a worker dies, the scheduler runs its tasks again elsewhere;
the dead worker's temporary file (a hidden `.lucent-XXXXXX` in the output folder) never becomes
an output and is removed when the batch ends. The files must be reachable at the same paths
from the client and every worker (a shared file system on a cluster).

From a shell:

    python3 -m lucent.dask --scheduler tcp://HOST:8786 [--task upscale|enhance] [--model FILE]
                           -o OUTDIR INPUT...
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import lucent
from lucent import _lucent

__all__ = ["FileResult", "process_files", "main"]


@dataclass
class FileResult:
    """One input's outcome: status is 'written', 'skipped' or 'failed'; message says why
    (the skip reason or the library's error)."""
    input: str
    output: str
    status: str
    message: str = ""


# Models a worker process has loaded, by (task, model file, threads): loaded once, kept.
_models: Dict[Tuple[str, Optional[str], int], lucent.Model] = {}
_models_lock = threading.Lock()


def _worker_model(task: str, model: Optional[str], threads: int) -> lucent.Model:
    key = (task, model, threads)
    with _models_lock:
        if key not in _models:
            _models[key] = lucent.Model(model, task=task, threads=threads)
        return _models[key]


def _run_one(src: str, dst: str, task: str, model: Optional[str], threads: int) -> FileResult:
    """The task a worker runs for one file."""
    try:
        _worker_model(task, model, threads).process_file(src, dst)
    except (lucent.Error, ValueError) as e:
        return FileResult(src, dst, "failed", str(e))
    return FileResult(src, dst, "written")


def _remove_temporaries(outdirs: Iterable[str], since: float) -> int:
    """Removes the hidden temporary files that writers killed during this batch left behind."""
    removed = 0
    for d in set(outdirs):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            if not name.startswith(".lucent-"):
                continue
            path = os.path.join(d, name)
            try:
                if os.path.getmtime(path) >= since - 1.0:
                    os.remove(path)
                    removed += 1
            except OSError:
                pass
    return removed


def process_files(client, inputs, outdir: str, task: str = "upscale", model: Optional[str] = None,
                  suffix: Optional[str] = None, ext: str = "png", overwrite: bool = False,
                  threads: int = 1, progress: Optional[Callable[[int, int, FileResult], None]] = None
                  ) -> List[FileResult]:
    """Runs `task` on every input file (and every image file of every input folder, not
    recursively) on the workers of `client` (a dask.distributed.Client), writing
    OUTDIR/NAME<suffix>.<ext> as `lucent upscale -o OUTDIR` does.

    Args:
        client: a dask.distributed Client.
        inputs: a path or a list of files and folders.
        outdir: the output folder (created if missing).
        task: 'upscale' or 'enhance'.
        model: a .lcw file, or None for the embedded model.
        suffix: added to output names (default '_x<scale>' or '_enhanced', as the CLI).
        ext: 'png', 'jpg', 'ppm' or 'npy'.
        overwrite: replace existing outputs (else they are skipped, as the CLI does).
        threads: library threads per task (1 suits one task per worker thread).
        progress: called as progress(done, total, result) after each file.

    Returns:
        One FileResult per input, in input order.

    Raises:
        lucent.Error: the model cannot be loaded, or the inputs or output folder cannot be
        listed or created (nothing has run then).
    """
    if task not in ("upscale", "enhance"):
        raise ValueError(f"task must be 'upscale' or 'enhance', not {task!r}")
    if ext not in ("png", "jpg", "jpeg", "ppm", "pgm", "npy"):
        raise ValueError(f"ext must be png, jpg, ppm or npy, not {ext!r}")
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    inputs = [str(p) for p in inputs]
    # The model here too: its scale names the outputs, and a bad file fails before any task.
    local = lucent.Model(model, task=task, threads=1)
    default_suffix = f"_x{local.scale}" if task == "upscale" else "_enhanced"
    jobs = _lucent.plan_jobs(inputs, str(outdir), suffix, ext, overwrite, default_suffix)

    started = time.time()
    results: List[Optional[FileResult]] = [None] * len(jobs)
    todo = []
    for i, (src, dst, skip, error) in enumerate(jobs):
        if error:
            results[i] = FileResult(src, dst, "failed", error)
        elif skip:
            results[i] = FileResult(src, dst, "skipped", skip)
        else:
            todo.append(i)
    done = 0
    for r in results:
        if r is not None:
            done += 1
            if progress:
                progress(done, len(jobs), r)

    from dask.distributed import as_completed  # imported here: `import lucent.dask` stays light

    futures = {}
    for i in todo:
        src, dst = jobs[i][0], jobs[i][1]
        f = client.submit(_run_one, src, dst, task, model, threads, pure=False,
                          key=f"lucent-{os.path.basename(src)}-{i}-{started:.6f}")
        futures[f] = i
    for f in as_completed(list(futures)):
        i = futures[f]
        try:
            r = f.result()
        except Exception as e:  # a task that failed for good (e.g. KilledWorker past the retries)
            r = FileResult(jobs[i][0], jobs[i][1], "failed", f"{type(e).__name__}: {e}")
        results[i] = r
        done += 1
        if progress:
            progress(done, len(jobs), r)
    _remove_temporaries([os.path.dirname(j[1]) or "." for j in jobs], started)
    return [r for r in results if r is not None]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lucent.dask",
                                 description="Run lucent on files and folders on a Dask cluster, writing "
                                             "OUTDIR/NAME<suffix>.<ext> as `lucent upscale -o` does.")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", metavar="ADDR", help="the scheduler's address, e.g. tcp://host:8786")
    where.add_argument("--local-workers", type=int, metavar="N",
                       help="start a LocalCluster of N worker processes on this machine instead")
    ap.add_argument("--task", choices=["upscale", "enhance"], default="upscale")
    ap.add_argument("--model", metavar="FILE", help="a .lcw file (default: the embedded model)")
    ap.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    ap.add_argument("--suffix")
    ap.add_argument("--ext", default="png", choices=["png", "jpg", "jpeg", "ppm", "pgm", "npy"])
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="library threads per task (default 1)")
    ap.add_argument("--quiet", action="store_true", help="no progress line")
    ap.add_argument("inputs", nargs="+", metavar="INPUT")
    a = ap.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    counts = {"written": 0, "skipped": 0, "failed": 0}
    tty = sys.stderr.isatty()

    def show(done, total, r):
        counts[r.status] += 1
        if r.status == "failed":
            print(f"\nlucent: error: {r.input}: {r.message}" if tty else f"lucent: error: {r.input}: {r.message}",
                  file=sys.stderr)
        if not a.quiet:
            line = (f"[{done}/{total}] {counts['written']} written, {counts['skipped']} skipped, "
                    f"{counts['failed']} failed")
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    cluster = None
    try:
        if a.local_workers is not None:
            cluster = LocalCluster(n_workers=a.local_workers, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=":0")
            client = Client(cluster)
        else:
            client = Client(a.scheduler)
        with client:
            process_files(client, a.inputs, a.output, task=a.task, model=a.model, suffix=a.suffix, ext=a.ext,
                          overwrite=a.overwrite, threads=a.threads, progress=show)
    except (lucent.Error, ValueError, OSError) as e:
        print(f"lucent: error: {e}", file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.close()
    if tty and not a.quiet:
        print(file=sys.stderr)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    # Run as `python3 -m lucent.dask`: call the imported module's main, so the tasks sent to the
    # workers are lucent.dask._run_one (importable there), not __main__._run_one.
    from lucent.dask import main as _main

    sys.exit(_main())
