"""`lucent serve` under abuse, on loopback only: slow-header and slow-body clients, connection
floods and huge declared bodies beside a steady stream of normal requests. Normal requests must
all succeed, with the correct bytes and a p99 latency within 2x of the unloaded p99; the slow
clients must be cut off. Attackers connect from 127.0.0.1 and normal clients from 127.0.0.2
(both loopback), so the per-address connection cap applies to the attackers alone. Every loop
is bounded in count and time."""
import http.client
import json
import re
import socket
import sys
import threading
import time
import unittest

import numpy as np

from test_serve import Server, png_bytes

NORMAL_ADDR = "127.0.0.2"


def normal_request(port, body, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(NORMAL_ADDR, 0))
    try:
        t = time.monotonic()
        c.request("POST", "/v1/enhance", body=body, headers={"Content-Type": "image/png"})
        r = c.getresponse()
        data = r.read()
        return r.status, data, time.monotonic() - t
    finally:
        c.close()


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]


class SlowClients:
    """`n` sockets from 127.0.0.1, each sent `prefix` and then one byte of `drip` a second
    (never finishing) from one thread; records when the server cut each off."""

    def __init__(self, port, n, prefix, drip, seconds):
        self.socks, self.cut_at, self.answers = [], {}, {}
        self.t0 = time.monotonic()
        for _ in range(n):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", port))
                s.sendall(prefix)
            except OSError:
                self.cut_at[len(self.socks)] = 0.0
            s.setblocking(False)
            self.socks.append(s)
        self.drip, self.seconds = drip, seconds
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def check(self, i, s):
        try:
            data = s.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        # An answer (408, 503) or the end of the connection: either way the server cut it off.
        self.answers[i] = self.answers.get(i, b"") + data
        self.cut_at.setdefault(i, time.monotonic() - self.t0)

    def run(self):
        k = 0
        while time.monotonic() - self.t0 < self.seconds and len(self.cut_at) < len(self.socks):
            for i, s in enumerate(self.socks):
                if i in self.cut_at:
                    continue
                self.check(i, s)
                if i in self.cut_at:
                    continue
                try:
                    s.send(self.drip[k % len(self.drip):k % len(self.drip) + 1])
                except OSError:
                    self.cut_at.setdefault(i, time.monotonic() - self.t0)
            k += 1
            time.sleep(1.0)

    def close(self):
        self.thread.join(self.seconds + 5)
        for s in self.socks:
            s.close()


class Abuse(unittest.TestCase):
    HEADER_TIMEOUT = 2

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("--workers", "1", "--threads", "1", "--max-queue", "2", "--header-timeout",
                         str(cls.HEADER_TIMEOUT), "--body-grace", "2", "--min-rate", "16", "--quiet")
        rng = np.random.default_rng(9)
        cls.png = png_bytes((rng.random((64, 64, 3)) * 255).astype(np.uint8))
        status, cls.expected, _ = normal_request(cls.srv.port, cls.png)
        assert status == 200
        for _ in range(3):  # warm
            normal_request(cls.srv.port, cls.png)

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    @classmethod
    def timed_normal(cls):
        status, body, seconds = normal_request(cls.srv.port, cls.png)
        assert status == 200 and body == cls.expected, (status, body[:200])
        return seconds

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10, source_address=(NORMAL_ADDR, 0))
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        return {m.group(1): int(m.group(2)) for m in re.finditer(r'lucent_http_refusals_total\{cause="(\w+)"\} (\d+)', text)}, text

    def under_attack(self, clients, rounds=60):
        """Normal requests while `clients` drip; returns their latencies."""
        lat = []
        for _ in range(rounds):
            status, body, seconds = normal_request(self.srv.port, self.png)
            self.assertEqual(status, 200)
            self.assertEqual(body, self.expected)
            lat.append(seconds)
        return lat

    def assert_latency_holds(self, loaded, what, base_samples):
        base = p99(base_samples)
        got = p99(loaded)
        print(f"\n{what}: normal p99 {got * 1e3:.1f} ms loaded, {base * 1e3:.1f} ms unloaded", file=sys.stderr)
        self.assertLessEqual(got, 2 * base, f"{what}: p99 {got * 1e3:.1f} ms against {base * 1e3:.1f} ms unloaded")

    def baseline(self):
        """The unloaded latencies, measured right before an attack (the machine's load drifts)."""
        return [self.timed_normal() for _ in range(60)]

    def slow_headers(self, n):
        base = self.baseline()
        before, _ = self.metrics()
        slow = SlowClients(self.srv.port, n, b"POST /v1/enhance HTTP/1.1\r\n",
                           b"Host: x\r\nContent-Type: image/png\r\nX-Slow: " + b"a" * 200, self.HEADER_TIMEOUT + 8)
        try:
            loaded = self.under_attack(slow)
        finally:
            slow.close()
        self.assert_latency_holds(loaded, f"{n} slow-header clients", base)
        # Every one was cut off, by the header deadline or (beyond the per-address cap) at once.
        self.assertEqual(len(slow.cut_at), n, f"{n - len(slow.cut_at)} slow clients were never cut off")
        self.assertLessEqual(max(slow.cut_at.values()), self.HEADER_TIMEOUT + 3)
        after, _ = self.metrics()
        cut = sum(after.get(k, 0) - before.get(k, 0) for k in ("header_timeout", "too_many_per_client"))
        self.assertGreaterEqual(cut, n)
        return slow, before, after

    def test_twelve_slow_header_clients(self):
        slow, _, _ = self.slow_headers(12)
        self.assertTrue(all(a.startswith(b"HTTP/1.1 408 ") for a in slow.answers.values()), slow.answers)

    def test_a_hundred_slow_header_clients(self):
        _, before, after = self.slow_headers(100)
        self.assertGreater(after.get("too_many_per_client", 0), before.get("too_many_per_client", 0))

    def test_slow_bodies_are_cut_off(self):
        head = (b"POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n")
        base = self.baseline()
        before, _ = self.metrics()
        # --body-grace 2 and --min-rate 16 KiB/s: 100000 bytes must arrive within about 8 s.
        slow = SlowClients(self.srv.port, 12, head, b"\x89PNG", 16)
        try:
            loaded = self.under_attack(slow)
        finally:
            slow.close()
        self.assert_latency_holds(loaded, "12 slow-body clients", base)
        self.assertEqual(len(slow.cut_at), 12)
        after, _ = self.metrics()
        self.assertGreaterEqual(after.get("body_timeout", 0) - before.get("body_timeout", 0), 12)

    def raw(self, data, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=timeout)
        t = time.monotonic()
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the whole request was sent: the answer is still there
            got = b""
            while True:  # one answer: its head, then Content-Length bytes (or the close)
                try:
                    chunk = s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    break
                if not chunk:
                    break
                got += chunk
                end = got.find(b"\r\n\r\n")
                m = re.search(rb"\r\nContent-Length: (\d+)\r\n", got[:end + 2]) if end >= 0 else None
                if m and len(got) >= end + 4 + int(m.group(1)):
                    break
            return got, time.monotonic() - t
        finally:
            s.close()

    def status_of(self, answer):
        return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None

    def test_huge_declared_bodies_and_strict_heads(self):
        for length in (b"1000000000000", b"67108865"):
            answer, seconds = self.raw(b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                                       b"Content-Length: " + length + b"\r\n\r\n")
            self.assertEqual(self.status_of(answer), 413, answer[:200])
            self.assertIn(b"--max-body", answer)
            self.assertLess(seconds, 1.0)
        cases = [
            (b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
            (b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400),
            (b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", 400),
            (b"DELETE /v1/upscale HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
            (b"GET /v1/upscale HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n", 431),
            (b"GET /healthz HTTP/1.1\r\n" + b"X-A: " + b"b" * 20000 + b"\r\n\r\n", 431),
            (b"POST /v1/upscale HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
            (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET /healthz HTTP/1.1\r\n\r\n", 400),
        ]
        for data, want in cases:
            with self.subTest(request=data[:60]):
                answer, _ = self.raw(data)
                self.assertEqual(self.status_of(answer), want, answer[:300])
        answer, _ = self.raw(b"DELETE /v1/upscale HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"\r\nAllow: POST\r\n", answer)

    def test_form_encoded_body_is_415_naming_the_types(self):
        # curl --data-binary @photo.png sends application/x-www-form-urlencoded.
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        c.request("POST", "/v1/upscale", body=self.png + b"\0" * 12000,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        self.assertEqual(r.status, 415)
        self.assertIn("image/png", body["error"])

    def test_request_timing_starts_with_the_request(self):
        for _ in range(3):
            self.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
            self.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        _, text = self.metrics()
        # (Requests cut off by the header deadline count under "other" with their 2 s.)
        for endpoint in ("/healthz",):
            m = re.search(r'lucent_request_duration_seconds_sum\{endpoint="%s"\} ([\d.]+)' % re.escape(endpoint), text)
            n = re.search(r'lucent_request_duration_seconds_count\{endpoint="%s"\} (\d+)' % re.escape(endpoint), text)
            if m and n:
                self.assertLess(float(m.group(1)) / int(n.group(1)), 1.0, text)


if __name__ == "__main__":
    unittest.main()


class BodyBudget(unittest.TestCase):
    def test_bodies_held_at_once_are_bounded(self):
        # --max-body 1 MiB with 1 worker and no queue: at most 1 + 0 + 4 bodies (5 MiB) are held
        # at once; the sixth 1 MB upload is answered 503 at its head, before any byte is read.
        srv = Server("--workers", "1", "--threads", "1", "--max-queue", "0", "--max-body", "1", "--quiet")
        socks = []
        try:
            head = (b"POST /v1/enhance HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    b"Content-Length: 1000000\r\n\r\n")
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(head + b"\x89PNG" + b"\0" * 1000)
                socks.append(s)
            time.sleep(0.3)
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            t = time.monotonic()
            s.sendall(head)
            answer = s.recv(4096)
            s.close()
            self.assertTrue(answer.startswith(b"HTTP/1.1 503 "), answer[:200])
            self.assertIn(b"bodies_in_flight", answer)
            self.assertLess(time.monotonic() - t, 1.0)
            for s in socks:  # the held bodies free their budget when their connections go
                s.close()
            time.sleep(0.3)
            status, body, _ = normal_request(srv.port, png_bytes((np.zeros((8, 8, 3)) + 40).astype(np.uint8)))
            self.assertEqual(status, 200, body[:200])
        finally:
            for s in socks:
                s.close()
            self.assertEqual(srv.stop(), 0)
