"""Real-client integration tests for Junction's HTTP side: curl, raw sockets, python3-websockets.

Run from tests/integration:
    JUNCTION_BIN=../../build/src/junction /usr/bin/python3 -m unittest -v test_http

Each test class starts its own junction (temporary config, listeners on 127.0.0.1 port 0,
--shards 2) and kills it afterwards. Nothing but 127.0.0.1 is contacted.
"""

import asyncio
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import junction_process as jp
from junction_process import (JunctionProcess, CurlError, connect, curl, make_certificate, raw_exchange,
                              read_response, read_until_close, simple_get, wait_closed_by_peer,
                              wait_for)

try:
    import websockets
    import websockets.exceptions
except ImportError:  # need_websockets fails loudly below
    websockets = None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def setUpModule():
    binary = jp.junction_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError("junction binary not found or not executable: %s (set JUNCTION_BIN)"
                           % binary)
    # 1,000 concurrent sockets here and as many in the server (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ---------------------------------------------------------------------------------------------
# Shared fixtures


def make_web_root(base):
    """base/www with test files, and base/secret.txt next to (outside) it. Returns {name: bytes}."""
    rnd = random.Random(0x4A554E43)
    www = os.path.join(base, "www")
    os.makedirs(os.path.join(www, "sub"), exist_ok=True)
    files = {
        "big.bin": os.urandom(300 * 1024),     # > file_cache_max_file: streamed from disk
        "small.bin": os.urandom(2 * 1024),     # cached in memory
        "index.html": b"<!doctype html><title>root index</title>\n",
        "page.html": b"<!doctype html><p>page</p>\n",
        "style.css": b"body { color: #123456; }\n",
        "app.js": b"console.log('junction');\n",
        "image.png": b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(500)),
        "sub/index.html": b"<!doctype html><title>sub index</title>\n",
    }
    for name, data in files.items():
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)
    secret = b"TOP-SECRET-" + os.urandom(8).hex().encode() + b"\n"
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(secret)
    files["../secret.txt"] = secret
    return files


class JunctionTestCase(unittest.TestCase):
    """Starts one junction per class on cls.http_config / cls.server_config."""

    http_config = {}
    server_config = {}
    shards = 2

    @classmethod
    def prepare(cls, workdir):
        """Hook: create files in workdir; may return extra [http] keys."""
        return {}

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % cls.__name__)
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        http = dict(cls.http_config)
        http.update(cls.prepare(cls.workdir) or {})
        cls.junction = JunctionProcess(http=http, server=dict(cls.server_config),
                                       shards=cls.shards, workdir=cls.workdir)
        cls.addClassCleanup(cls.junction.cleanup)  # kills; fails on a sanitizer report
        cls.junction.start()

    @classmethod
    def tearDownClass(cls):
        cls.junction.stop(timeout=5)

    # helpers
    @property
    def port(self):
        return self.junction.port()

    def url(self, path, protocol="http"):
        return self.junction.url(path, protocol)

    def assert_healthy(self, protocol="http", *curl_args):
        r = curl(self.url("/healthz", protocol), *curl_args)
        self.assertEqual(r.status, 200, "healthz status")
        self.assertEqual(r.body, b"ok\n")


# ---------------------------------------------------------------------------------------------
# 1. Health, metrics, server information


class BasicEndpointsTest(JunctionTestCase):
    server_config = {"max_connections": 5000}

    def test_healthz(self):
        r = curl(self.url("/healthz"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ok\n")
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)
        head = curl(self.url("/healthz"), "-I")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("content-length"), "3")

    def test_metrics_format(self):
        r = curl(self.url("/metrics"))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r.headers)
        m = jp.parse_prometheus(r.body.decode())
        self.assertEqual(m.bad_lines, [], "lines that are not Prometheus text format")
        self.assertTrue(m.samples, "no samples at all")
        for name, _labels, value in m.samples:
            self.assertIn(name, m.types, "sample %s without a # TYPE line" % name)
            self.assertIn(name, m.helps, "sample %s without a # HELP line" % name)
            if m.types[name] == "counter":
                self.assertGreaterEqual(value, 0, name)
                self.assertEqual(value, int(value), "counter %s not a whole number" % name)
        for name in ("junction_connections_accepted_total", "junction_connections_refused_total",
                     "junction_timeouts_total", "junction_protocol_errors_total"):
            self.assertEqual(m.types.get(name), "counter", name)
            shards = set(m.by_shard(name, protocol="http"))
            self.assertEqual(shards, {"0", "1"}, "%s{protocol=http} shards" % name)
        self.assertEqual(set(m.by_shard("junction_http_responses_total", code="2xx")), {"0", "1"})
        self.assertEqual(set(m.by_shard("junction_http_auth_failures_total")), {"0", "1"})
        # The counters move: the curl above was accepted and got a 2xx.
        self.assertGreaterEqual(m.sum("junction_connections_accepted_total", protocol="http"), 1)
        before_accepted = m.sum("junction_connections_accepted_total", protocol="http")
        before_2xx = m.sum("junction_http_responses_total", code="2xx")
        for _ in range(4):
            self.assert_healthy()
        after = self.junction.metrics()
        self.assertGreaterEqual(
            after.sum("junction_connections_accepted_total", protocol="http") - before_accepted, 5)
        self.assertGreaterEqual(after.sum("junction_http_responses_total", code="2xx")
                                - before_2xx, 4)

    def test_server_info(self):
        r = curl(self.url("/api/v1/server"))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type", "").startswith("application/json"), r.headers)
        info = json.loads(r.body)
        self.assertEqual(info["shards"], 2)
        self.assertEqual(info["max_connections"], 5000)
        self.assertIsInstance(info["uptime_seconds"], int)
        self.assertGreaterEqual(info["uptime_seconds"], 0)
        self.assertGreaterEqual(info["connections"], 1)  # this very request
        self.assertIn({"protocol": "http", "transport": "tcp",
                       "address": self.junction.address("http")}, info["listeners"])
        version = subprocess.run([jp.junction_bin(), "--version"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(version.returncode, 0)
        self.assertTrue(info["version"])
        self.assertIn(info["version"], version.stdout.decode() + version.stderr.decode())

    def test_unknown_path_and_method(self):
        self.assertEqual(curl(self.url("/no/such/thing")).status, 404)  # web_root conf/www absent
        r = curl(self.url("/healthz"), "-X", "POST")
        self.assertEqual(r.status, 405)
        self.assertIn("GET", r.header("allow", ""))

    def test_websocket_echo_off_by_default(self):
        with connect(self.port) as s:
            s.sendall(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            r = read_response(s)
        self.assertIsNotNone(r)
        self.assertNotEqual(r.status, 101, "echo answered although websocket_echo is off")


# ---------------------------------------------------------------------------------------------
# 2. Static files


class StaticFilesTest(JunctionTestCase):
    http_config = {"access_log": "-"}  # access lines share stdout with "listening:" lines

    @classmethod
    def prepare(cls, workdir):
        cls.files = make_web_root(workdir)
        return {"web_root": "www"}  # relative: resolved against the config file's folder

    def get(self, path, *args):
        return curl(self.url(path), *args)

    def test_files_byte_identical(self):
        for name in ("small.bin", "big.bin"):
            data = self.files[name]
            for attempt in range(3):  # the first fills the cache, the next ones use it
                with self.subTest(file=name, attempt=attempt):
                    r = self.get("/" + name)
                    self.assertEqual(r.status, 200)
                    self.assertEqual(len(r.body), len(data))
                    self.assertEqual(sha256(r.body), sha256(data))
                    self.assertEqual(int(r.header("content-length")), len(data))
                    self.assertEqual(r.header("accept-ranges"), "bytes")
                    self.assertTrue(r.header("etag"), r.headers)
                    self.assertTrue(r.header("last-modified"), r.headers)

    def test_files_on_one_keepalive_connection(self):
        with connect(self.port) as s:
            for name in ("small.bin", "big.bin", "small.bin", "big.bin"):
                s.sendall(simple_get("/" + name))
                r = read_response(s, timeout=10)
                self.assertEqual(r.status, 200)
                self.assertEqual(sha256(r.body), sha256(self.files[name]), name)

    def test_content_types(self):
        expected = {"page.html": "text/html", "style.css": "text/css",
                    "app.js": "text/javascript", "image.png": "image/png",
                    "big.bin": "application/octet-stream"}
        for name, mime in expected.items():
            with self.subTest(file=name):
                r = self.get("/" + name)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("content-type", "").split(";")[0].strip(), mime)
                self.assertEqual(r.body, self.files[name])

    def test_ranges(self):
        for name in ("small.bin", "big.bin"):
            data = self.files[name]
            size = len(data)
            cases = {"bytes=100-199": (100, 199), "bytes=-50": (size - 50, size - 1),
                     "bytes=1000-": (1000, size - 1), "bytes=0-0": (0, 0),
                     "bytes=%d-%d" % (size - 10, size + 1000): (size - 10, size - 1)}
            for spec, (first, last) in cases.items():
                with self.subTest(file=name, range=spec):
                    r = self.get("/" + name, "-H", "Range: " + spec)
                    self.assertEqual(r.status, 206)
                    self.assertEqual(r.header("content-range"),
                                     "bytes %d-%d/%d" % (first, last, size))
                    self.assertEqual(r.body, data[first:last + 1])
                    self.assertEqual(int(r.header("content-length")), last - first + 1)

    def test_unsatisfiable_range(self):
        for name in ("small.bin", "big.bin"):
            size = len(self.files[name])
            for spec in ("bytes=%d-" % size, "bytes=%d-%d" % (size + 10, size + 20)):
                with self.subTest(file=name, range=spec):
                    r = self.get("/" + name, "-H", "Range: " + spec)
                    self.assertEqual(r.status, 416)
                    self.assertEqual(r.header("content-range"), "bytes */%d" % size)

    def test_if_none_match(self):
        for name in ("small.bin", "big.bin"):
            with self.subTest(file=name):
                first = self.get("/" + name)
                tag = first.header("etag")
                self.assertTrue(tag)
                again = self.get("/" + name, "-H", "If-None-Match: " + tag)
                self.assertEqual(again.status, 304)
                self.assertEqual(again.body, b"")
                self.assertEqual(again.header("etag"), tag)
                weak = self.get("/" + name, "-H", 'If-None-Match: "nope", W/' + tag)
                self.assertEqual(weak.status, 304)
                other = self.get("/" + name, "-H", 'If-None-Match: "0-0"')
                self.assertEqual(other.status, 200)
                self.assertEqual(sha256(other.body), sha256(self.files[name]))

    def test_head(self):
        for name in ("small.bin", "big.bin", "page.html"):
            with self.subTest(file=name):
                with connect(self.port) as s:
                    s.sendall(simple_get("/" + name, method="HEAD", keep_alive=False))
                    raw = read_until_close(s, timeout=5)
                head, _, after = raw.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), raw[:200])
                headers = jp.parse_raw(raw).headers
                self.assertEqual(int(headers["content-length"]), len(self.files[name]))
                self.assertEqual(after, b"", "HEAD response carried a body")

    def test_directory_redirect_and_index(self):
        r = self.get("/sub")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/sub/")
        r = self.get("/sub?x=1")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/sub/?x=1")
        r = self.get("/sub/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.files["sub/index.html"])
        self.assertTrue(r.header("content-type", "").startswith("text/html"))
        r = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.files["index.html"])

    def test_directory_redirect_stays_on_host(self):
        # "//sub" names the directory "sub" (empty segments are skipped); the redirect must not
        # become the scheme-relative "//sub/", which a browser reads as http://sub/.
        with connect(self.port) as s:
            s.sendall(simple_get("//sub", keep_alive=False))
            r = read_response(s)
        self.assertEqual(r.status, 301)
        location = r.header("location", "")
        self.assertTrue(location.startswith("/"), location)
        self.assertFalse(location.startswith("//"),
                         "GET //sub redirects off-site to Location: %s" % location)

    def test_changed_file_is_served_fresh(self):
        # The in-memory cache re-validates by stat: a rewritten file is never served stale.
        for name, size in (("mutable-small.bin", 4096), ("mutable-big.bin", 300 * 1024)):
            with self.subTest(file=name):
                path = os.path.join(self.workdir, "www", name)
                for version in range(3):
                    data = os.urandom(size)  # same size each time: only the contents change
                    with open(path + ".tmp", "wb") as f:
                        f.write(data)
                    os.replace(path + ".tmp", path) if version % 2 else shutil.copyfile(
                        path + ".tmp", path)
                    r = self.get("/" + name)
                    self.assertEqual(r.status, 200)
                    self.assertEqual(sha256(r.body), sha256(data), "stale bytes, version %d"
                                     % version)

    def test_missing_file(self):
        self.assertEqual(self.get("/does-not-exist.txt").status, 404)
        self.assertEqual(self.get("/sub/nothing/here").status, 404)

    def test_access_log_on_stdout(self):
        marker = "/small.bin?marker=%d" % random.randrange(1 << 30)
        self.assertEqual(self.get(marker).status, 200)
        found = wait_for(lambda: any(marker in line for line in self.junction.stdout_lines), 5)
        self.assertTrue(found, "no access log line for %s on stdout" % marker)
        # Access log lines must not be taken for "listening: " lines: one HTTP listener only.
        self.assertEqual(len([l for l in self.junction.listeners if l[0] == "http"]), 1,
                         self.junction.listeners)


# ---------------------------------------------------------------------------------------------
# 3. Path traversal


class TraversalTest(JunctionTestCase):
    @classmethod
    def prepare(cls, workdir):
        cls.files = make_web_root(workdir)
        return {"web_root": os.path.join(workdir, "www")}

    def setUp(self):
        with open("/etc/passwd", "rb") as f:
            self.passwd = f.read()
        self.secret = self.files["../secret.txt"]

    ATTEMPTS = [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/a/%2F..%2F..%2Fetc/passwd",
        "/..%2f..%2f..%2fetc/passwd",
        "/..%5c..%5cetc/passwd",
        "/%00",
        "/small.bin%00.html",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/.%2e/secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/sub/..%5c..%5csecret.txt",
        "/%2e%2e%2fsecret.txt",
    ]
    RAW_ONLY = [
        "../secret.txt",
        "..%2fsecret.txt",
        "/..\\secret.txt",
        "http://127.0.0.1/../secret.txt",
        "/\x00/etc/passwd",
    ]

    def check(self, what, status, body):
        self.assertGreaterEqual(status, 400, "%s answered %d" % (what, status))
        self.assertLess(status, 500, "%s answered %d" % (what, status))
        self.assertNotIn(b"root:", body, what)
        self.assertNotIn(self.passwd[:40], body, what)
        self.assertNotIn(self.secret.strip(), body, what)

    def test_traversal_with_curl(self):
        for path in self.ATTEMPTS:
            with self.subTest(path=path):
                r = curl(self.url(path), "--path-as-is")
                self.check(path, r.status, r.body)

    def test_traversal_with_raw_sockets(self):
        for path in self.ATTEMPTS + self.RAW_ONLY:
            with self.subTest(path=path):
                req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode(
                    "latin-1")
                r, raw = raw_exchange(self.port, req)
                self.assertIsNotNone(r, "%r: no HTTP response: %r" % (path, raw[:200]))
                self.check(path, r.status, raw)

    def test_dotdot_is_403_and_encoded_separators_400(self):
        self.assertEqual(curl(self.url("/../secret.txt"), "--path-as-is").status, 403)
        self.assertEqual(curl(self.url("/%2e%2e/secret.txt"), "--path-as-is").status, 403)
        self.assertEqual(curl(self.url("/a/%2F..%2Fsecret.txt"), "--path-as-is").status, 400)
        self.assertEqual(curl(self.url("/%00"), "--path-as-is").status, 400)

    def test_files_inside_root_still_served(self):
        r = curl(self.url("/./sub/./index.html"), "--path-as-is")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.files["sub/index.html"])
        r = curl(self.url("//small.bin"), "--path-as-is")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.files["small.bin"])


# ---------------------------------------------------------------------------------------------
# 4. Bad input


class BadInputTest(JunctionTestCase):
    http_config = {"header_timeout": "1s", "body_limit": 4096}

    def errors(self):
        return self.junction.metrics().sum("junction_protocol_errors_total", protocol="http")

    def test_garbage_request_line(self):
        before = self.errors()
        for garbage in (b"THIS IS NOT HTTP\r\n\r\n", b"\x00\x01\x02\xff garbage\r\n\r\n",
                        b"GET / HTTP/9\r\n\r\n"):
            with self.subTest(request=garbage):
                r, raw = raw_exchange(self.port, garbage)  # returns only once the server closes
                self.assertIsNotNone(r, "no HTTP response to %r: %r" % (garbage, raw))
                self.assertEqual(r.status, 400)
                self.assertEqual(r.header("connection", "").lower(), "close")
        self.assert_healthy()
        self.assertGreaterEqual(self.errors() - before, 3)

    def test_oversized_header(self):
        req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024) + b"\r\n\r\n")
        r, raw = raw_exchange(self.port, req)
        self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
        self.assertEqual(r.status, 431)
        # Many medium headers adding up past the limit are the same case.
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(100)) + b"\r\n"
        r, raw = raw_exchange(self.port, req)
        self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
        self.assertEqual(r.status, 431)
        self.assert_healthy()

    def test_body_over_limit(self):
        req = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"a" * 5000)
        r, raw = raw_exchange(self.port, req)
        self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
        self.assertEqual(r.status, 413)

    def test_transfer_encoding_that_does_not_end_in_chunked_is_400_and_close(self):
        # RFC 9112 section 6.3: the body's length cannot be known, so never read it as no body.
        for te, status in ((b"gzip", 400), (b"identity", 400), (b"chunked, identity", 400),
                           (b"gzip, chunked", 501)):
            with self.subTest(te=te):
                req = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                       b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                r, raw = raw_exchange(self.port, req)  # returns only once the server closes
                self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
                self.assertEqual(r.status, status, raw[:200])
                self.assertEqual(raw.count(b"HTTP/1.1 "), 1, "the smuggled request was answered: %r" % raw)
        self.assert_healthy()

    def test_http11_request_without_host_is_400(self):
        # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
        r, raw = raw_exchange(self.port, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
        self.assertEqual(r.status, 400, raw[:200])
        # HTTP/1.0 has no Host requirement.
        r, raw = raw_exchange(self.port, b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertIsNotNone(r, "no HTTP response: %r" % raw[:200])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ok\n")

    def test_pipelined_requests(self):
        req = simple_get("/healthz") + simple_get("/api/v1/server") + simple_get(
            "/healthz", keep_alive=False)
        _r, raw = raw_exchange(self.port, req)
        self.assertEqual(raw.count(b"HTTP/1.1 200 OK"), 3, raw[:600])
        self.assertTrue(raw.endswith(b"ok\n"))

    def test_slowloris(self):
        before = self.junction.metrics().sum("junction_timeouts_total", protocol="http")
        message = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 200
        health = {}

        def healthz_meanwhile():
            try:
                health["result"] = curl(self.url("/healthz"), timeout=5)
            except Exception as e:  # reported below
                health["error"] = e

        closed = False
        with connect(self.port) as s:
            start = time.monotonic()
            checker = None
            for i, byte in enumerate(message):
                try:
                    s.send(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                if i == 1:
                    checker = threading.Thread(target=healthz_meanwhile)
                    checker.start()
                if wait_closed_by_peer(s, 0.4):
                    closed = True
                    break
                if time.monotonic() - start > 8:
                    break
            elapsed = time.monotonic() - start
            if checker:
                checker.join(10)
        self.assertTrue(closed, "a client trickling one byte per 0.4 s was not closed in %.1fs"
                        % elapsed)
        self.assertLess(elapsed, 6, "closed only after %.1fs with header_timeout 1s" % elapsed)
        self.assertNotIn("error", health)
        self.assertEqual(health["result"].status, 200)
        self.assertEqual(health["result"].body, b"ok\n")
        after = wait_for(lambda: self.junction.metrics().sum(
            "junction_timeouts_total", protocol="http") > before, 3)
        self.assertTrue(after, "junction_timeouts_total{protocol=http} did not rise")

    def test_silent_client_closed(self):
        before = self.junction.metrics().sum("junction_timeouts_total", protocol="http")
        with connect(self.port) as s:
            start = time.monotonic()
            self.assertTrue(wait_closed_by_peer(s, 6), "a connection that never sends stays open")
            self.assertLess(time.monotonic() - start, 6)
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum(
            "junction_timeouts_total", protocol="http") > before, 3))
        self.assert_healthy()


# ---------------------------------------------------------------------------------------------
# 5. Connection limit


class ConnectionLimitTest(JunctionTestCase):
    server_config = {"max_connections": 20}

    def test_connections_past_limit_are_closed(self):
        held, extra = [], []
        try:
            # 20 connections, each proven accepted by a completed keep-alive request.
            for _ in range(20):
                s = connect(self.port)
                held.append(s)
                s.sendall(simple_get("/healthz"))
                r = read_response(s)
                self.assertIsNotNone(r, "connection %d of 20 refused" % len(held))
                self.assertEqual(r.status, 200)
            for _ in range(10):
                s = connect(self.port)
                extra.append(s)
                try:
                    s.sendall(simple_get("/healthz"))
                except (BrokenPipeError, ConnectionResetError):
                    pass
            for i, s in enumerate(extra):
                try:
                    got = read_until_close(s, timeout=5)
                except socket.timeout:
                    self.fail("connection %d past the limit was kept open" % (i + 21))
                self.assertEqual(got, b"", "connection %d past the limit was answered: %r"
                                 % (i + 21, got[:100]))
            # The 20 held connections are unharmed.
            for s in held:
                s.sendall(simple_get("/healthz"))
                r = read_response(s)
                self.assertIsNotNone(r)
                self.assertEqual(r.status, 200)
        finally:
            for s in held + extra:
                s.close()

        def healthy():
            try:
                r = curl(self.url("/healthz"), timeout=2)
                return r.status == 200 and r.body == b"ok\n"
            except CurlError:
                return False
        self.assertTrue(wait_for(healthy, 5, 0.1), "/healthz fails after the connections closed")
        m = self.junction.metrics()
        self.assertGreaterEqual(m.sum("junction_connections_refused_total", protocol="http"), 10)
        info = json.loads(curl(self.url("/api/v1/server")).body)
        self.assertEqual(info["max_connections"], 20)


class TimeoutsAfterStreamedFilesTest(JunctionTestCase):
    """Issue 13: after many file responses streamed from disk, a burst of connections that send
    nothing until header_timeout made the server complete accepts with descriptor 0 (io_uring
    cancellations delivered as other requests' results: src/core/asio_impl.cpp), close its own
    stdin, leave sessions counted as open and corrupt its heap (abort at SIGTERM). Here: the same
    sequence, then every idle connection must have been closed, the gauge back at 0, the server
    still serving and a clean exit."""
    shards = 1  # one submission ring, wrapped sooner
    http_config = {"header_timeout": "1s"}
    server_config = {"max_connections_per_source": 0}

    @classmethod
    def prepare(cls, workdir):
        www = os.path.join(workdir, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "large.bin"), "wb") as f:
            f.write(os.urandom(2 << 20))  # > file_cache_max_file: read with pread as it is sent
        return {"web_root": "www"}

    def test_idle_connections_after_streamed_files(self):
        for _ in range(600):
            s = connect(self.port)
            try:
                s.sendall(simple_get("/large.bin", keep_alive=False))
                got = read_until_close(s, timeout=10)
            finally:
                s.close()
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:100])
        idle = [connect(self.port, timeout=10) for _ in range(200)]
        try:
            for i, s in enumerate(idle):
                self.assertEqual(read_until_close(s, timeout=10), b"", "idle connection %d" % i)
        finally:
            for s in idle:
                s.close()

        def gauge():
            return self.junction.metrics().sum("junction_connections_active", protocol="http")
        self.assertTrue(wait_for(lambda: gauge() <= 1, 5, 0.1), "sessions left counted: %s" % gauge())
        self.assertEqual(curl(self.url("/healthz")).body, b"ok\n")
        code = self.junction.stop(timeout=10)
        with open(self.junction.stderr_path, errors="replace") as f:
            stderr = f.read()
        self.assertEqual(code, 0, stderr[-2000:])
        self.assertNotIn("corrupted", stderr)


class AdminWithoutTokenTest(JunctionTestCase):
    """With no admin token, loopback is the only proof of an operator, and a browser on this
    machine must not be usable as one (issue 13): DNS rebinding (a foreign Host) and cross-site
    requests (a foreign Origin, a text/plain POST) are refused; curl and scripts still work."""

    def users(self):
        r = curl(self.url("/api/v1/users"))
        self.assertEqual(r.status, 200, r.body)
        return [u["user"] for u in json.loads(r.body)["users"]]

    def test_cross_site_and_rebinding_requests_are_refused(self):
        body = json.dumps({"user": "mallory@127.0.0.1", "password": "pw"})
        for args in (("-H", "Content-Type: text/plain"),
                     ("-H", "Content-Type: application/x-www-form-urlencoded"),
                     ("-H", "Content-Type: application/json", "-H", "Origin: http://evil.example"),
                     ("-H", "Content-Type: application/json", "-H", "Host: evil.example"),
                     ("-H", "Content-Type: application/json", "-H", "Origin: null")):
            with self.subTest(args=args):
                r = curl(self.url("/api/v1/users"), "-X", "POST", "--data-binary", body, *args)
                self.assertEqual(r.status, 403, r.body)
        self.assertNotIn("mallory@127.0.0.1", self.users())
        self.assertEqual(curl(self.url("/api/v1/connections"), "-H", "Host: evil.example:%d" % self.port).status, 403)
        self.assertEqual(curl(self.url("/api/v1/connections"), "-H", "Origin: http://evil.example").status, 403)
        # What an operator sends still works: a same-origin page, curl with JSON.
        self.assertEqual(curl(self.url("/api/v1/connections"), "-H", "Origin: http://127.0.0.1:%d" % self.port).status, 200)
        r = curl(self.url("/api/v1/users"), "-X", "POST", "--data-binary", body, "-H", "Content-Type: application/json")
        self.assertEqual(r.status, 201, r.body)
        self.assertIn("mallory@127.0.0.1", self.users())


class PerSourceLimitTest(JunctionTestCase):
    """One address cannot take every connection (issue 13): past server.max_connections_per_source
    its connections are closed unanswered and counted, while another address is still served."""
    server_config = {"max_connections_per_source": 8}

    def test_one_source_is_held_to_its_share(self):
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for _ in range(8):
            s = connect(self.port)
            held.append(s)
            s.sendall(simple_get("/healthz"))
            r = read_response(s)
            self.assertIsNotNone(r)
            self.assertEqual(r.status, 200)
        extra = connect(self.port)
        held.append(extra)
        try:
            extra.sendall(simple_get("/healthz"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertEqual(read_until_close(extra, timeout=5), b"", "the ninth connection was answered")
        # Another source address on this machine is its own source.
        other = socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=("127.0.0.2", 0))
        held.append(other)
        other.sendall(simple_get("/healthz"))
        r = read_response(other)
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200)
        # Closing one gives its place back.
        held[0].close()
        def served():
            s = connect(self.port)
            try:
                s.sendall(simple_get("/healthz", keep_alive=False))
                return read_until_close(s, timeout=5).startswith(b"HTTP/1.1 200")
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                return False
            finally:
                s.close()
        self.assertTrue(wait_for(served, 5, 0.1))
        for s in held:
            s.close()
        m = self.junction.metrics()
        self.assertGreaterEqual(m.sum("junction_connections_refused_total", protocol="http"), 1)


# ---------------------------------------------------------------------------------------------
# 6. Many concurrent connections


class ManyConnectionsTest(JunctionTestCase):
    server_config = {"max_connections": 10000, "max_connections_per_source": 0}
    COUNT = 1000

    async def open_and_ask(self, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(simple_get("/healthz"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        body = await reader.readexactly(length)
        return reader, writer, head.split(b"\r\n", 1)[0], body

    async def run_many(self, port):
        results = await asyncio.gather(*(self.open_and_ask(port) for _ in range(self.COUNT)),
                                       return_exceptions=True)
        return results

    def test_thousand_concurrent_connections(self):
        before = self.junction.metrics().by_shard("junction_connections_accepted_total",
                                                  protocol="http")
        loop = asyncio.new_event_loop()
        results = []
        try:
            results = loop.run_until_complete(
                asyncio.wait_for(self.run_many(self.port), timeout=40))
            failures = [r for r in results if isinstance(r, BaseException)]
            self.assertEqual(failures[:5], [], "%d of %d connections failed"
                             % (len(failures), self.COUNT))
            for _reader, _writer, status, body in results:
                self.assertEqual(status, b"HTTP/1.1 200 OK")
                self.assertEqual(body, b"ok\n")
            ours = {w.get_extra_info("sockname")[1] for _r, w, _s, _b in results}
            self.assertEqual(len(ours), self.COUNT)

            # All 1,000 are open at once: the server lists every one of them.
            listed = json.loads(curl(self.url("/api/v1/connections"), timeout=20).body)
            peers = {c["peer"] for c in listed["connections"]}
            missing = [p for p in ours if "127.0.0.1:%d" % p not in peers]
            self.assertEqual(len(missing), 0, "%d of our connections not listed" % len(missing))
            info = json.loads(curl(self.url("/api/v1/server")).body)
            self.assertGreaterEqual(info["connections"], self.COUNT)
            shards_used = {c["shard"] for c in listed["connections"]
                           if int(c["peer"].rsplit(":", 1)[1]) in ours}
            self.assertEqual(shards_used, {0, 1})

            after = self.junction.metrics().by_shard("junction_connections_accepted_total",
                                                     protocol="http")
            for shard in ("0", "1"):
                self.assertGreater(after.get(shard, 0) - before.get(shard, 0), 0,
                                   "shard %s accepted none of %d connections" % (shard,
                                                                                  self.COUNT))
            self.assertGreaterEqual(sum(after.values()) - sum(before.values()), self.COUNT)
        finally:
            for r in results:
                if not isinstance(r, BaseException):
                    r[1].close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()
        self.assert_healthy()


# ---------------------------------------------------------------------------------------------
# 7. Admin endpoints


class AdminTest(JunctionTestCase):
    http_config = {"admin_token": "s3cret"}
    TOKEN = ("-H", "Authorization: Bearer s3cret")

    def test_auth_scheme_is_case_insensitive(self):
        # RFC 9110 section 11.1: the authentication scheme name is case-insensitive.
        for scheme in ("bearer", "BEARER"):
            with self.subTest(scheme=scheme):
                r = curl(self.url("/api/v1/connections"), "-H",
                         "Authorization: %s s3cret" % scheme)
                self.assertEqual(r.status, 200, r.body)

    def failures(self):
        return self.junction.metrics().sum("junction_http_auth_failures_total")

    def test_token_required(self):
        before = self.failures()
        r = curl(self.url("/api/v1/connections"))
        self.assertEqual(r.status, 401)
        self.assertTrue(r.header("www-authenticate", "").startswith("Bearer"), r.headers)
        self.assertNotIn(b"connections\"", r.body)
        r = curl(self.url("/api/v1/connections"), "-H", "Authorization: Bearer wrong")
        self.assertEqual(r.status, 401)
        self.assertTrue(r.header("www-authenticate"), r.headers)
        self.assertEqual(self.failures() - before, 2)
        r = curl(self.url("/api/v1/connections"), *self.TOKEN)
        self.assertEqual(r.status, 200)
        self.assertIsInstance(json.loads(r.body)["connections"], list)
        self.assertEqual(self.failures() - before, 2)
        # Public endpoints need no token.
        self.assertEqual(curl(self.url("/api/v1/server")).status, 200)
        self.assert_healthy()

    def test_list_and_close_connection(self):
        with connect(self.port) as s:
            request = simple_get("/healthz")
            s.sendall(request)
            r = read_response(s)
            self.assertEqual(r.status, 200)
            peer = "127.0.0.1:%d" % s.getsockname()[1]

            def find():
                listed = json.loads(curl(self.url("/api/v1/connections"), *self.TOKEN).body)
                for c in listed["connections"]:
                    if c["peer"] == peer and c["idle"]:
                        return c
                return None
            mine = wait_for(find, 3, 0.1)
            self.assertIsNotNone(mine, "held connection %s not listed (idle)" % peer)
            self.assertIsInstance(mine["id"], str)
            self.assertTrue(mine["id"].isdigit(), mine)
            self.assertIn(mine["shard"], (0, 1))
            self.assertEqual(mine["protocol"], "http")
            self.assertGreaterEqual(mine["age_ms"], 0)
            self.assertGreaterEqual(mine["bytes_in"], len(request))
            self.assertGreaterEqual(mine["bytes_out"], len(r.raw))

            # Wrong or missing token may not close it.
            r = curl(self.url("/api/v1/connections/" + mine["id"]), "-X", "DELETE")
            self.assertEqual(r.status, 401)
            self.assertFalse(wait_closed_by_peer(s, 0.3), "closed by an unauthorised DELETE")

            r = curl(self.url("/api/v1/connections/" + mine["id"]), "-X", "DELETE", *self.TOKEN)
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(wait_closed_by_peer(s, 5), "DELETE did not close the connection")

        r = curl(self.url("/api/v1/connections/" + mine["id"]), "-X", "DELETE", *self.TOKEN)
        self.assertEqual(r.status, 404)
        r = curl(self.url("/api/v1/connections/not-a-number"), "-X", "DELETE", *self.TOKEN)
        self.assertEqual(r.status, 400)


# ---------------------------------------------------------------------------------------------
# 8. HTTPS


class HttpsTest(JunctionTestCase):
    @classmethod
    def prepare(cls, workdir):
        cls.files = make_web_root(workdir)
        cls.cert, cls.key = make_certificate(workdir)
        return {"web_root": "www", "tls_listen": ["127.0.0.1:0"], "tls_certificate": "cert.pem",
                "tls_private_key": "key.pem"}

    def test_healthz_over_tls(self):
        before = self.junction.metrics().sum("junction_connections_accepted_total",
                                             protocol="https")
        self.assertNotEqual(self.junction.port("https"), self.junction.port("http"))
        r = curl(self.url("/healthz", "https"), "-k")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ok\n")
        after = self.junction.metrics().sum("junction_connections_accepted_total",
                                            protocol="https")
        self.assertGreaterEqual(after - before, 1)
        self.assert_healthy()  # plain listener still there

    def test_certificate_is_ours(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False  # CN-only certificate; the chain is what is checked here
        with socket.create_connection(("127.0.0.1", self.junction.port("https")), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                peer = tls.getpeercert()
                tls.sendall(simple_get("/healthz", keep_alive=False))
                data = read_until_close(tls, timeout=5)
        subject = dict(x[0] for x in peer["subject"])
        self.assertEqual(subject.get("commonName"), "localhost")
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])

    def test_static_files_over_tls(self):
        for name in ("small.bin", "big.bin", "page.html"):
            with self.subTest(file=name):
                r = curl(self.url("/" + name, "https"), "-k")
                self.assertEqual(r.status, 200)
                self.assertEqual(sha256(r.body), sha256(self.files[name]))
        r = curl(self.url("/big.bin", "https"), "-k", "-H", "Range: bytes=100-199")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, self.files["big.bin"][100:200])

    def test_plain_http_on_tls_port_does_not_serve(self):
        with connect(self.junction.port("https")) as s:
            s.sendall(simple_get("/healthz", keep_alive=False))
            try:
                data = read_until_close(s, timeout=5)
            except socket.timeout:
                self.fail("TLS listener kept a plain-HTTP client open for 5 s")
        self.assertNotIn(b"HTTP/1.1 200", data, "TLS listener answered plain HTTP")


# ---------------------------------------------------------------------------------------------
# 9. WebSocket


def need_websockets(test):
    # tools/setup.sh installs python3-websockets: its absence is a failure, not a skip.
    if websockets is None:
        raise RuntimeError("python3-websockets missing: run tools/setup.sh")
    return test


def insecure_client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def echo_round_trips(uri, messages, **kwargs):
    got = []
    async with websockets.connect(uri, open_timeout=5, close_timeout=3, max_size=4 << 20,
                                  compression=None, **kwargs) as ws:
        for m in messages:
            await ws.send(m)
            got.append(await asyncio.wait_for(ws.recv(), 10))
    return got


@need_websockets
class WebSocketTest(JunctionTestCase):
    http_config = {"websocket_echo": True}

    @classmethod
    def prepare(cls, workdir):
        cert, key = make_certificate(workdir)
        return {"tls_listen": ["127.0.0.1:0"], "tls_certificate": cert, "tls_private_key": key}

    def messages(self):
        return ["hello", "h\u00e9llo \u00fcn\u00efc\u00f6d\u00e9 \u2603", "", bytes(range(256)),
                b"", os.urandom(100 * 1024), "x" * 70000]

    def check_echoes(self, sent, got):
        self.assertEqual(len(got), len(sent))
        for s, g in zip(sent, got):
            self.assertIs(type(g), type(s), "text/binary type changed")
            if isinstance(s, bytes):
                self.assertEqual(sha256(g), sha256(s))
            else:
                self.assertEqual(g, s)

    def test_echo_plain(self):
        before = self.junction.metrics().sum("junction_websocket_sessions_total")
        sent = self.messages()
        got = asyncio.run(asyncio.wait_for(echo_round_trips(
            "ws://%s/ws/echo" % self.junction.address("http"), sent), 30))
        self.check_echoes(sent, got)
        self.assertGreaterEqual(self.junction.metrics().sum("junction_websocket_sessions_total")
                                - before, 1)

    def test_echo_tls(self):
        sent = self.messages()
        got = asyncio.run(asyncio.wait_for(echo_round_trips(
            "wss://%s/ws/echo" % self.junction.address("https"), sent,
            ssl=insecure_client_context()), 30))
        self.check_echoes(sent, got)

    def test_many_messages_in_flight(self):
        async def go():
            async with websockets.connect("ws://%s/ws/echo" % self.junction.address("http"),
                                          open_timeout=5, close_timeout=3,
                                          compression=None) as ws:
                sent = [os.urandom(random.randrange(1, 5000)) for _ in range(200)]
                for m in sent:
                    await ws.send(m)
                got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
                return sent, got
        sent, got = asyncio.run(asyncio.wait_for(go(), 30))
        self.assertEqual([sha256(x) for x in got], [sha256(x) for x in sent])


@need_websockets
class WebSocketLimitTest(JunctionTestCase):
    http_config = {"websocket_echo": True, "websocket_message_limit": 64 * 1024}

    def test_message_over_limit_closes_with_1009(self):
        async def go():
            async with websockets.connect("ws://%s/ws/echo" % self.junction.address("http"),
                                          open_timeout=5, close_timeout=3, max_size=4 << 20,
                                          compression=None) as ws:
                small = os.urandom(60 * 1024)
                await ws.send(small)
                echoed = await asyncio.wait_for(ws.recv(), 10)
                await ws.send(os.urandom(100 * 1024))
                try:
                    extra = await asyncio.wait_for(ws.recv(), 10)
                except websockets.exceptions.ConnectionClosed as e:
                    return small, echoed, e, None
                return small, echoed, None, extra
        small, echoed, closed, extra = asyncio.run(asyncio.wait_for(go(), 30))
        self.assertEqual(sha256(echoed), sha256(small), "a message under the limit is echoed")
        self.assertTrue(extra is None, "a 100 KiB message over a 64 KiB limit was answered "
                        "(%d bytes)" % len(extra or b""))
        self.assertIsNotNone(closed)
        self.assertIsNotNone(closed.rcvd, "no close frame from the server: %s" % closed)
        self.assertEqual(closed.rcvd.code, 1009, str(closed))
        self.assert_healthy()


# ---------------------------------------------------------------------------------------------
# 10. Configuration checking (no server started)


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="junction-it-config-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text, name="junction.toml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, path):
        return subprocess.run([jp.junction_bin(), "--config", path, "--check-config"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)

    @staticmethod
    def line_of(text, needle):
        for number, line in enumerate(text.split("\n"), 1):
            if needle in line:
                return number
        raise AssertionError(needle)

    def test_unknown_key(self):
        text = ('[server]\nshards = 2\n\n[http]\nlisten = ["127.0.0.1:0"]\n'
                'header_limt = 4096\nindex = "index.html"\n')
        path = self.write(text)
        done = self.check(path)
        err = done.stderr.decode()
        self.assertEqual(done.returncode, 2, err)
        self.assertIn("%s:%d" % (path, self.line_of(text, "header_limt")), err)
        self.assertIn("header_limt", err)
        self.assertNotIn("configuration OK", done.stdout.decode())

    def test_unknown_section(self):
        text = '[server]\nshards = 1\n\n[htttp]\nlisten = ["127.0.0.1:0"]\n'
        path = self.write(text)
        done = self.check(path)
        err = done.stderr.decode()
        self.assertEqual(done.returncode, 2, err)
        self.assertIn("%s:%d" % (path, self.line_of(text, "[htttp]")), err)
        self.assertIn("htttp", err)

    def test_bad_values(self):
        cases = [
            ("[http]\nweb_root = \"www\"\nheader_limit = \"big\"\n", "header_limit"),
            ("[server]\nshards = 1\nmax_connections = 0\n", "max_connections"),
            ("[http]\nidle_timeout = \"ten seconds\"\n", "idle_timeout"),
            ("[http]\nwebsocket_echo = \"yes\"\n", "websocket_echo"),
            ("[http]\nlisten = [\"127.0.0.1:99999\"]\n", "listen"),
            ("[server]\nlog_level = \"loud\"\n", "log_level"),
        ]
        for text, key in cases:
            with self.subTest(key=key):
                path = self.write(text, "bad-%s.toml" % key)
                done = self.check(path)
                err = done.stderr.decode()
                self.assertEqual(done.returncode, 2, err)
                self.assertIn("%s:%d" % (path, self.line_of(text, key + " =")), err)
                self.assertIn(key, err)

    def test_an_empty_domain_list_is_refused(self):
        # Issue 16: sip.domains = [] passed, and the server then refused every SIP request.
        done = self.check(self.write("[sip]\ndomains = []\n"))
        self.assertEqual(done.returncode, 2, done.stderr.decode())
        self.assertIn("sip.domains is empty", done.stderr.decode())

    def test_toml_syntax_error(self):
        text = '[http]\nlisten = ["127.0.0.1:0"\nindex = "x"\n'
        path = self.write(text)
        done = self.check(path)
        self.assertEqual(done.returncode, 2, done.stderr.decode())
        self.assertIn(path + ":", done.stderr.decode())

    def test_good_file(self):
        path = self.write('[server]\nshards = 2\nshutdown_timeout = "5s"\n\n[http]\n'
                          'listen = ["127.0.0.1:0"]\nheader_limit = 4096\n'
                          'header_timeout = "500ms"\nwebsocket_echo = true\n')
        done = self.check(path)
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        self.assertIn("configuration OK: %s" % path, done.stdout.decode())

    def test_shipped_config(self):
        shipped = os.path.normpath(os.path.join(jp.HERE, "..", "..", "conf", "junction.toml"))
        done = self.check(shipped)
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        self.assertIn("configuration OK", done.stdout.decode())


# ---------------------------------------------------------------------------------------------
# 11. Graceful shutdown (one process per test: each test ends it)


class GracefulShutdownTest(unittest.TestCase):
    def setUp(self):
        self.junction = JunctionProcess(http={"header_timeout": "10s", "websocket_echo": True},
                                        server={"shutdown_timeout": "2s"})
        self.addCleanup(self.junction.cleanup)
        self.junction.start()
        self.port = self.junction.port()

    def accepted(self, *socks):
        """True once the server lists every one of `socks` among its connections."""
        peers = {"127.0.0.1:%d" % s.getsockname()[1] for s in socks}
        listed = json.loads(curl(self.junction.url("/api/v1/connections")).body)["connections"]
        return peers <= {c["peer"] for c in listed}

    def draining(self):
        return "received: draining" in self.junction.stderr_text()

    def test_sigterm_closes_idle_connections_and_exits_zero(self):
        with connect(self.port) as idle, connect(self.port) as fresh:
            idle.sendall(simple_get("/healthz"))
            r = read_response(idle)
            self.assertEqual(r.status, 200)
            self.assertTrue(wait_for(lambda: self.accepted(idle, fresh), 5), "connections not accepted")
            self.junction.signal(signal.SIGTERM)
            self.assertTrue(wait_closed_by_peer(idle, 5),
                            "idle keep-alive connection not closed on SIGTERM")
            self.assertTrue(wait_closed_by_peer(fresh, 5),
                            "connection that never sent a byte not closed on SIGTERM")
            code = self.junction.wait(5)
            self.assertIsNotNone(code, "junction still running 5 s after SIGTERM")
            self.assertEqual(code, 0, self.junction.stderr_text()[-2000:])
        with self.assertRaises(OSError):
            connect(self.port, timeout=2).close()

    def test_busy_connection_finishes_and_sees_draining(self):
        with connect(self.port) as busy:
            busy.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # header not finished
            self.assertTrue(wait_for(lambda: self.accepted(busy), 5), "connection not accepted")
            self.junction.signal(signal.SIGTERM)
            self.assertTrue(wait_for(self.draining, 5), "SIGTERM not acted on")
            self.assertIsNone(self.junction.wait(0.1), "exited with a request in progress")
            busy.sendall(b"\r\n")
            r = read_response(busy)
            self.assertIsNotNone(r, "request in progress at SIGTERM got no answer")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.body, b"draining\n")
            self.assertTrue(wait_closed_by_peer(busy, 5))
        code = self.junction.wait(5)
        self.assertEqual(code, 0, self.junction.stderr_text()[-2000:])

    @need_websockets
    def test_sigterm_with_open_websocket(self):
        # A WebSocket is never idle: it gets shutdown_timeout (2 s here), then is closed.
        async def go():
            async with websockets.connect("ws://%s/ws/echo" % self.junction.address("http"),
                                          open_timeout=5, close_timeout=2,
                                          compression=None) as ws:
                await ws.send("before")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "before")
                start = time.monotonic()
                self.junction.signal(signal.SIGTERM)
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 8)
                except websockets.exceptions.ConnectionClosed:
                    pass
                return time.monotonic() - start
        took = asyncio.run(asyncio.wait_for(go(), 20))
        self.assertLess(took, 6, "WebSocket still open %.1fs after SIGTERM" % took)
        code = self.junction.wait(5)
        self.assertEqual(code, 0, self.junction.stderr_text()[-2000:])



class ProcessLifecycleTest(unittest.TestCase):
    """What the README promises of the process: exit code 1 and the address when a port is
    taken, SIGINT stops it as SIGTERM does, and a second signal during the drain closes what is
    left at once instead of waiting for server.shutdown_timeout."""

    def test_a_port_in_use_exits_1_and_names_it(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            junction = JunctionProcess(http={"listen": ["127.0.0.1:%d" % port]})
            self.addCleanup(junction.cleanup)
            with self.assertRaises(RuntimeError):
                junction.start()
            self.assertEqual(junction.proc.returncode, 1, junction.stderr_text()[-2000:])
            self.assertIn("127.0.0.1:%d" % port, junction.stderr_text())
            self.assertIn("cannot start", junction.stderr_text())

    def test_refused_arguments_exit_2_and_help_exits_0(self):
        # Issue 16: CLI11's own codes (109, 105, 104) were returned; the README promises 2.
        missing = os.path.join(tempfile.gettempdir(), "junction-no-such-%d.toml" % os.getpid())
        for args in (["--no-such-option"], ["--shards", "many"], ["--config", missing], ["users", "frobnicate"],
                     ["--log-level", "loud"]):
            done = subprocess.run([jp.junction_bin()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
            self.assertEqual(done.returncode, 2, (args, done.stderr.decode()[-500:]))
            self.assertTrue(done.stderr.strip(), "%r: nothing said" % args)
        for args in (["--help"], ["--version"]):
            done = subprocess.run([jp.junction_bin()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
            self.assertEqual(done.returncode, 0, args)
            self.assertTrue(done.stdout.strip())

    def test_a_listen_address_may_name_a_host(self):
        # Issue 16: "localhost:8080" was refused ("the host must be a numeric address").
        junction = JunctionProcess(http={"listen": ["localhost:0"]}).start()
        self.addCleanup(junction.cleanup)
        self.assertIn(junction.address("http").rsplit(":", 1)[0], ("127.0.0.1", "[::1]"))
        self.assertEqual(curl(junction.url("/healthz")).status, 200)

    def test_sigint_stops_like_sigterm(self):
        junction = JunctionProcess().start()
        self.addCleanup(junction.cleanup)
        self.assertEqual(curl(junction.url("/healthz")).status, 200)
        junction.signal(signal.SIGINT)
        self.assertEqual(junction.wait(10), 0, junction.stderr_text()[-2000:])
        self.assertIn("SIGINT received: draining", junction.stderr_text())

    def test_a_second_signal_closes_at_once(self):
        junction = JunctionProcess(server={"shutdown_timeout": "120s"}).start()
        self.addCleanup(junction.cleanup)
        with connect(junction.port()) as busy:
            busy.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished: holds the drain
            peer = "127.0.0.1:%d" % busy.getsockname()[1]
            self.assertTrue(wait_for(lambda: peer in curl(junction.url("/api/v1/connections")).body.decode(), 5),
                            "the connection was not accepted")
            junction.signal(signal.SIGTERM)
            self.assertTrue(wait_for(lambda: "received: draining" in junction.stderr_text(), 5))
            self.assertIsNone(junction.wait(0.5), "exited with a request in progress")
            junction.signal(signal.SIGTERM)
            # Long before the 120 s deadline: the second signal did it.
            self.assertIsNotNone(junction.wait(15), "a second SIGTERM did not stop the drain")
            self.assertTrue(wait_closed_by_peer(busy, 5), "the busy connection was left open")

if __name__ == "__main__":
    unittest.main()
