"""`lucent serve` on loopback: answers identical to the CLI, concurrency without leaks, overload
answered by 503 at once, bad requests answered (or closed) without harming the server, and a
graceful SIGTERM. Every loop here is bounded in count and time."""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import numpy as np
from PIL import Image

from common import LUCENT, TempDir, run_lucent


class Server:
    def __init__(self, *args):
        env = dict(os.environ)
        # Under AddressSanitizer freed memory waits in a 256 MB quarantine, which would read as
        # growth in the RSS check; a small quarantine keeps use-after-free detection.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
        self.proc = subprocess.Popen([LUCENT, "serve", "--port", "0", *args], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line}")
        self.port = int(m.group(1))
        self.log = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)  # a started job finishes first (slow under ASan)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.proc.stderr.close()
        return self.proc.returncode


def png_bytes(arr):
    import io
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.holder = TempDir()
        cls.tmp = cls.holder.__enter__()
        rng = np.random.default_rng(4)
        cls.small = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
        cls.small_png = png_bytes(cls.small)
        cls.srv = Server("--workers", "2", "--threads", "1", "--max-queue", "16", "--quiet")

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.holder.__exit__(None, None, None)
        assert code == 0, f"server exit {code}"

    def cli_output(self, command, data, ext):
        src, dst = os.path.join(self.tmp, "in.png"), os.path.join(self.tmp, f"out.{ext}")
        with open(src, "wb") as f:
            f.write(data)
        r = run_lucent(command, "--threads", "1", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(dst, "rb") as f:
            return f.read()

    def test_answers_equal_the_cli(self):
        rgba = np.dstack([self.small, self.small[..., 1]])
        for command in ("upscale", "enhance"):
            for data in (self.small_png, png_bytes(rgba)):
                status, headers, body = self.srv.request("POST", f"/v1/{command}", data, {"Content-Type": "image/png"})
                self.assertEqual(status, 200, body[:200])
                self.assertEqual(headers["Content-Type"], "image/png")
                self.assertEqual(body, self.cli_output(command, data, "png"), command)
            status, headers, body = self.srv.request("POST", f"/v1/{command}?format=jpeg", self.small_png,
                                                     {"Content-Type": "image/png"})
            self.assertEqual((status, headers["Content-Type"]), (200, "image/jpeg"))
            self.assertEqual(body, self.cli_output(command, self.small_png, "jpg"))
            status, headers, _ = self.srv.request("POST", f"/v1/{command}", self.small_png,
                                                  {"Content-Type": "image/png", "Accept": "image/jpeg"})
            self.assertEqual(headers["Content-Type"], "image/jpeg")

    def test_multipart_upload(self):
        boundary = "lucentboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + self.small_png + f"\r\n--{boundary}--\r\n".encode()
        status, _, out = self.srv.request("POST", "/v1/enhance", body,
                                          {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        self.assertEqual(status, 200, out[:200])
        self.assertEqual(out, self.cli_output("enhance", self.small_png, "png"))

    def test_idle_server_leaves_the_cores_alone(self):
        # After a request, the pool's workers spin for tens of microseconds, then sleep: an idle
        # server must not keep a core busy (a shared machine needs it).
        self.srv.request("POST", "/v1/enhance", self.small_png, {"Content-Type": "image/png"})
        time.sleep(0.2)

        def cpu_ticks():
            with open(f"/proc/{self.srv.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime

        before, t0 = cpu_ticks(), time.monotonic()
        time.sleep(1.0)
        used = (cpu_ticks() - before) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)
        self.assertLess(used, 0.05, f"idle server used {used:.0%} of a core")

    def test_health_ready_metrics(self):
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.srv.request("GET", "/readyz")[0], 200)
        self.srv.request("POST", "/v1/enhance", self.small_png, {"Content-Type": "image/png"})
        status, headers, body = self.srv.request("GET", "/metrics")
        text = body.decode()
        self.assertEqual(status, 200)
        self.assertIn('lucent_requests_total{endpoint="/v1/enhance",code="200"}', text)
        self.assertIn('lucent_request_duration_seconds_bucket{endpoint="/v1/enhance",le="+Inf"}', text)
        self.assertRegex(text, r"lucent_pixels_processed_total [1-9]\d*")
        self.assertIn("lucent_queue_depth ", text)
        self.assertIn("lucent_in_flight ", text)

    def test_concurrent_clients_no_leak(self):
        expected = self.cli_output("enhance", self.small_png, "png")

        def client(n):
            ok = 0
            for _ in range(n):
                status, _, body = self.srv.request("POST", "/v1/enhance", self.small_png, {"Content-Type": "image/png"})
                ok += status == 200 and body == expected
            return ok

        client(5)  # warm-up
        rss_before = self.srv.rss_kib()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            results = list(ex.map(client, [20] * 8))
        self.assertEqual(sum(results), 160)
        rss_after = self.srv.rss_kib()
        self.assertLess(rss_after, rss_before * 1.25 + 20000, f"RSS {rss_before} -> {rss_after} KiB")

    def test_bad_requests_keep_the_server_serving(self):
        s = self.srv
        self.assertEqual(s.request("POST", "/v1/enhance", b"hello", {"Content-Type": "text/plain"})[0], 415)
        status, _, body = s.request("POST", "/v1/enhance", os.urandom(3000), {"Content-Type": "image/png"})
        self.assertEqual(status, 422)
        self.assertIn("error", json.loads(body))
        self.assertEqual(s.request("POST", "/v1/enhance", b"", {"Content-Type": "image/png"})[0], 400)
        self.assertEqual(s.request("GET", "/nope")[0], 404)
        self.assertEqual(s.request("POST", "/v1/enhance?format=gif", self.small_png,
                                   {"Content-Type": "image/png"})[0], 400)
        # Truncated image (valid header, half the data).
        status, _, _ = s.request("POST", "/v1/enhance", self.small_png[: len(self.small_png) // 2],
                                 {"Content-Type": "image/png"})
        self.assertEqual(status, 422)

        def raw(data, read=True, timeout=15):
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=timeout)
            try:
                sock.sendall(data)
                if not read:
                    return b""
                chunks = []
                while True:
                    try:
                        chunk = sock.recv(65536)
                    except (socket.timeout, ConnectionResetError):
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                sock.close()

        # Malformed HTTP: a 400 or a closed connection.
        answer = raw(b"GARBAGE \x00\x01\x02 / HTTP/9.9\r\n\r\n")
        self.assertTrue(answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:80])
        # A huge declared body: 413 naming the limit (or a closed connection).
        answer = raw(b"POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                     b"Content-Length: 1000000000000\r\n\r\n")
        self.assertTrue(answer == b"" or b" 413 " in answer.split(b"\r\n")[0], answer[:80])
        # A body shorter than declared, then a hang-up; and a client that leaves mid-request.
        raw(b"POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n"
            + self.small_png[:100], read=False)
        raw(b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: "
            + str(len(self.small_png)).encode() + b"\r\n\r\n" + self.small_png, read=False)
        # Still serving, and correctly.
        status, _, body = s.request("POST", "/v1/enhance", self.small_png, {"Content-Type": "image/png"})
        self.assertEqual(status, 200)
        self.assertEqual(body, self.cli_output("enhance", self.small_png, "png"))
        self.assertEqual(s.request("GET", "/healthz")[0], 200)


class Limits(unittest.TestCase):
    def test_pixel_and_body_limits(self):
        srv = Server("--max-pixels", "500", "--max-body", "1", "--quiet")
        try:
            big = png_bytes((np.random.default_rng(1).random((30, 30, 3)) * 255).astype(np.uint8))
            status, _, body = srv.request("POST", "/v1/enhance", big, {"Content-Type": "image/png"})
            self.assertEqual(status, 422)
            err = json.loads(body)
            self.assertEqual((err["limit"], err["max_pixels"], err["width"]), ("max_pixels", 500, 30))
            status, _, body = srv.request("POST", "/v1/enhance", b"\x89PNG" + b"\0" * (2 << 20),
                                          {"Content-Type": "image/png"})
            self.assertEqual(status, 413)
            self.assertEqual(json.loads(body)["limit"], "max_body")
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_timeout_is_504_naming_the_limit(self):
        srv = Server("--workers", "1", "--threads", "1", "--timeout", "1", "--quiet")
        try:
            slow = png_bytes((np.random.default_rng(3).random((400, 400, 3)) * 255).astype(np.uint8))
            t = time.monotonic()
            status, _, body = srv.request("POST", "/v1/upscale", slow, {"Content-Type": "image/png"})
            self.assertEqual(status, 504, body[:200])
            self.assertEqual(json.loads(body)["limit"], "timeout")
            self.assertLess(time.monotonic() - t, 5)
            self.assertEqual(srv.request("GET", "/healthz")[0], 200)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_overload_is_503_at_once_and_sigterm_finishes_in_flight(self):
        srv = Server("--workers", "1", "--threads", "1", "--max-queue", "1", "--quiet")
        slow = png_bytes((np.random.default_rng(2).random((240, 240, 3)) * 255).astype(np.uint8))
        results = []

        def post():
            t = time.monotonic()
            status, headers, _ = srv.request("POST", "/v1/upscale", slow, {"Content-Type": "image/png"}, timeout=120)
            results.append((status, time.monotonic() - t, headers.get("Retry-After")))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)  # two requests are in flight or queued
        for t in threads:
            t.join(120)
        code = srv.stop()
        self.assertEqual(code, 0)
        ok = [r for r in results if r[0] == 200]
        busy = [r for r in results if r[0] == 503]
        self.assertEqual(len(results), 6)
        self.assertGreaterEqual(len(ok), 2, results)  # accepted requests completed despite SIGTERM
        self.assertGreaterEqual(len(busy), 3, results)
        for status, seconds, retry in busy:
            self.assertEqual(retry, "1")
            self.assertLess(seconds, 0.5, "a 503 must come at once")


if __name__ == "__main__":
    unittest.main()
