#!/usr/bin/env python3
"""Throughput and latency of `lucent serve` on loopback: 1, 2 and 4 concurrent clients posting
256x256 PNGs to /v1/upscale and /v1/enhance (the embedded default models), each client
sending a fixed number of requests. Prints images/s and p50 / p99 latency per setting.

    python3 bench/bench_serve.py [--requests 12] [--workers 2] [--threads 1] [--lucent build/lucent]
"""
import argparse
import concurrent.futures
import http.client
import io
import os
import re
import signal
import statistics
import subprocess
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=12, help="requests per client")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lucent", default=os.environ.get("LUCENT_BIN", os.path.join(ROOT, "build", "lucent")))
    args = ap.parse_args()
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8)).save(buf, "PNG")
    body = buf.getvalue()
    proc = subprocess.Popen([args.lucent, "serve", "--port", "0", "--workers", str(args.workers), "--threads",
                             str(args.threads), "--max-queue", "64", "--quiet"], stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+) ", proc.stderr.readline()).group(1))

    def one(path):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        t = time.perf_counter()
        c.request("POST", path, body=body, headers={"Content-Type": "image/png"})
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 200, r.status
        return time.perf_counter() - t

    print(f"lucent serve, {args.workers} worker(s) x {args.threads} thread(s), 256x256 PNG, "
          f"{args.requests} requests per client")
    print("| endpoint | clients | images/s | p50 | p99 |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for path in ("/v1/upscale", "/v1/enhance"):
            one(path)  # warm-up
            for clients in (1, 2, 4):
                t0 = time.perf_counter()
                with concurrent.futures.ThreadPoolExecutor(clients) as ex:
                    lat = list(ex.map(lambda _: one(path), range(clients * args.requests)))
                wall = time.perf_counter() - t0
                lat.sort()
                p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
                print(f"| {path} | {clients} | {len(lat) / wall:.2f} | {statistics.median(lat) * 1e3:.0f} ms | "
                      f"{p99 * 1e3:.0f} ms |", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


if __name__ == "__main__":
    main()
