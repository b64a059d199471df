"""Helpers for Junction's real-client integration tests.

Starts a junction binary on a temporary TOML configuration (listeners on port 0), reads the
actual ports from its "listening: " lines, and offers small clients: curl, raw sockets and a
Prometheus text parser. Only the Python standard library, curl and openssl are used; nothing but
127.0.0.1 is ever contacted.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# How much slower the server under test is than a release build (the sanitizer build sets 3):
# waits for the server scale by it. Never a reason for a test to pass, only to wait longer.
SLOW = max(1.0, float(os.environ.get("JUNCTION_TEST_SLOW", "1") or 1))
# What ASan and UBSan print when they find something: the server's stderr is checked for it when
# a test is done with the server, so that a report fails the test even where the test passed.
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error: |"
                              r"WARNING: ThreadSanitizer")
DEFAULT_BIN = os.path.normpath(os.path.join(HERE, "..", "..", "build", "src", "junction"))


CHROMIUM = "/usr/bin/chromium"
BROWSER_DIR = os.path.normpath(os.path.join(HERE, "..", "browser"))


def require_browser():
    """Skips the calling test class or module unless Debian's Chromium and playwright-core (in
    tests/browser/node_modules) are there; under CI (the CI variable set), their absence fails."""
    import unittest
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(CHROMIUM + " (Debian package chromium)")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        missing.append("tests/browser/node_modules (npm ci in tests/browser)")
    if missing:
        why = "browser tests need %s; tools/setup.sh sets both up" % " and ".join(missing)
        if os.environ.get("CI"):
            raise RuntimeError(why + " (CI is set: not skipped)")
        raise unittest.SkipTest(why)


def junction_bin():
    # Absolute, because the server runs with its temporary folder as working directory.
    return os.path.abspath(os.environ.get("JUNCTION_BIN") or DEFAULT_BIN)


# --------------------------------------------------------------------------------------------
# TOML


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError("cannot write %r as TOML" % (value,))


def _is_table_array(value):
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        isinstance(v, dict) for v in value)


def _emit_table(out, path, keys, array=False):
    """One [path] (or [[path]] when array) table: plain keys first, then sub-tables and arrays
    of tables (TOML needs every plain key of a table before its first sub-table header)."""
    out.append(("[[%s]]" if array else "[%s]") % path)
    nested = []
    for key, value in keys.items():
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            out.append("%s = %s" % (key, _toml_value(value)))
    out.append("")
    for key, value in nested:
        if isinstance(value, dict):
            _emit_table(out, "%s.%s" % (path, key), value)
        else:
            for item in value:
                _emit_table(out, "%s.%s" % (path, key), item, array=True)


def to_toml(sections):
    """{"server": {...}, "http": {...}} -> TOML text (strings, ints, bools, lists).

    A dict value is written as a sub-table ([section.key]); a non-empty list of dicts as an
    array of tables ([[section.key]] once per dict), e.g. {"rtmp": {"app": [{...}, {...}]}}.
    """
    out = []
    for name, keys in sections.items():
        _emit_table(out, name, keys)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# The process


def make_certificate(folder, cert_file="cert.pem", key_file="key.pem", cn="localhost", san=None):
    """A self-signed certificate (RSA 2048, two days) for `cn`, with subjectAltName `san` when
    given ("IP:127.0.0.1"), written into `folder`: (certificate path, key path)."""
    cert, key = os.path.join(folder, cert_file), os.path.join(folder, key_file)
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
               "-keyout", key, "-out", cert]
    if san:
        command[-4:-4] = ["-addext", "subjectAltName=" + san]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if done.returncode != 0:
        raise RuntimeError("openssl failed: %s" % done.stderr.decode())
    return cert, key


class JunctionProcess:
    """One junction process on its own temporary config. Use start(), then stop() or kill()."""

    def __init__(self, http=None, server=None, shards=2, workdir=None, start_timeout=10.0,
                 rtmp=None, rtmp_apps=None, sip=None, xmpp=None, extra=None, env=None):
        """`extra`: more sections as they are ({"recording": {...}, "gateway": {...}}); `env`: more
        environment variables for the process (fault injection such as
        JUNCTION_TEST_STORE_DELAY_MS)."""
        self.env = dict(os.environ, **(env or {}))
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="junction-it-")
        self.shards = shards
        self.start_timeout = start_timeout
        server_keys = {"pin_cpus": False, "log_level": "info"}
        server_keys.update(server or {})
        http_keys = {"listen": ["127.0.0.1:0"], "access_log": ""}
        http_keys.update(http or {})
        # RTMP always on port 0 unless told otherwise: the built-in default (127.0.0.1:1935)
        # would collide when two junctions run at once (ctest -j).
        rtmp_keys = {"listen": ["127.0.0.1:0"]}
        rtmp_keys.update(rtmp or {})
        if rtmp_apps is not None:
            rtmp_keys["app"] = [dict(a) for a in rtmp_apps]
        # SIP likewise: 5060 is also where sipp and phones listen by default.
        sip_keys = {"listen": ["127.0.0.1:0"]}
        sip_keys.update(sip or {})
        # XMPP likewise (5222 is every XMPP server's).
        xmpp_keys = {"listen": ["127.0.0.1:0"], "s2s_listen": ["127.0.0.1:0"]}
        xmpp_keys.update(xmpp or {})
        self.sections = {"server": server_keys, "http": http_keys, "rtmp": rtmp_keys,
                         "sip": sip_keys, "xmpp": xmpp_keys}
        self.sections.update(extra or {})
        listening = [http_keys, rtmp_keys, sip_keys] + ([xmpp_keys] if xmpp_keys.get("enabled", True) else [])
        self.expected_listeners = sum(
            len(keys.get(name, [])) for keys in listening for name in ("listen", "tls_listen"))
        if xmpp_keys.get("enabled", True) and xmpp_keys.get("federation", True):
            self.expected_listeners += len(xmpp_keys.get("s2s_listen", []))
        self.config_path = os.path.join(self.workdir, "junction.toml")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self.proc = None
        self.listeners = []  # (protocol, transport, "host:port")
        self.stdout_lines = []
        self._cond = threading.Condition()
        self._stderr_file = None
        self._reader = None

    # -- life cycle --

    def start(self):
        """Starts junction; again after stop() too (a restart: new ports where they were 0)."""
        with self._cond:
            self.listeners = []
        self.write_config()
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [junction_bin(), "--config", self.config_path, "--shards", str(self.shards)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr_file,
            cwd=self.workdir, env=self.env)
        # Always drain stdout (access log lines go there too), so the server never blocks on a
        # full pipe.
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout * SLOW
        with self._cond:
            while len(self.listeners) < self.expected_listeners:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    break
                self._cond.wait(min(left, 0.1))
        if len(self.listeners) < self.expected_listeners:
            self.kill()
            raise RuntimeError("junction did not report %d listeners within %.0fs; stdout=%r "
                               "stderr=%r" % (self.expected_listeners, self.start_timeout,
                                              self.stdout_lines[-20:], self.stderr_text()[-2000:]))
        return self

    def write_config(self):
        """Writes self.sections to the configuration file (start() does; a reload test changes
        the sections, writes them and signals)."""
        with open(self.config_path, "w") as f:
            f.write(to_toml(self.sections))

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                if len(self.stdout_lines) < 10000:
                    self.stdout_lines.append(line)
                if line.startswith("listening: "):
                    parts = line[len("listening: "):].split()
                    if len(parts) == 3:
                        self.listeners.append(tuple(parts))
                self._cond.notify_all()

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout seconds (times SLOW)."""
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5.0):
        """SIGTERM, wait; SIGKILL if it hangs. Returns the exit code of the SIGTERM path or None."""
        if self.proc is None:
            return None
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.wait(timeout)
        else:
            code = self.proc.returncode
        self.kill()
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None and self.proc.stdout:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None

    def cleanup(self):
        self.kill()
        report = self.sanitizer_report()
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if report:
            raise AssertionError("the server's sanitizer found something:\n" + report)

    def sanitizer_report(self):
        """The first sanitizer report in the server's stderr (with what follows), or ""."""
        text = self.stderr_text()
        found = SANITIZER_REPORT.search(text)
        return text[max(0, found.start() - 200):found.start() + 6000] if found else ""

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- addresses --

    def address(self, protocol="http"):
        for proto, _transport, addr in self.listeners:
            if proto == protocol:
                return addr
        raise KeyError("no %s listener in %r" % (protocol, self.listeners))

    def port(self, protocol="http"):
        return int(self.address(protocol).rsplit(":", 1)[1])

    def url(self, path="/", protocol="http"):
        return "%s://%s%s" % (protocol, self.address(protocol), path)

    def http_address(self):
        return self.address("http")

    def rtmp_address(self):
        return self.address("rtmp")

    def rtmps_address(self):
        return self.address("rtmps")

    def sip_address(self):
        return self.address("sip")

    def add_user(self, aor, password):
        """`junction users add` on this server's store (as an operator would)."""
        done = subprocess.run([junction_bin(), "--config", self.config_path, "users", "add", aor, "--password", password],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        if done.returncode != 0:
            raise AssertionError(done.stdout)

    def sip_registered(self, aor):
        """Whether `aor` ("sip:bob@127.0.0.1") has a binding, by the registrations API."""
        status, _h, body = curl(self.url("/api/v1/sip/registrations"))
        return status == 200 and any(r["aor"] == aor for r in json.loads(body)["registrations"])

    def rtmp_url(self, app, stream, tls=False, query=""):
        """rtmp[s]://127.0.0.1:PORT/app/stream[?query]"""
        protocol = "rtmps" if tls else "rtmp"
        return "%s://%s/%s/%s%s" % (protocol, self.address(protocol), app, stream,
                                    "?" + query if query else "")

    # -- metrics --

    def metrics(self):
        status, _headers, body = curl(self.url("/metrics"))
        if status != 200:
            raise AssertionError("/metrics answered %d" % status)
        return parse_prometheus(body.decode())


# --------------------------------------------------------------------------------------------
# curl


class CurlResult:
    def __init__(self, status, headers, body, header_lines):
        self.status = status
        self.headers = headers  # last response's headers, lower-case names
        self.body = body
        self.header_lines = header_lines

    def __iter__(self):  # status, headers, body = curl(...)
        return iter((self.status, self.headers, self.body))

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


def curl(url, *args, timeout=10.0):
    """Runs curl once; returns CurlResult(status, headers, body bytes). Never follows redirects."""
    with tempfile.TemporaryDirectory(prefix="junction-curl-") as tmp:
        head_path = os.path.join(tmp, "head")
        body_path = os.path.join(tmp, "body")
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(int(max(1, timeout))),
               "-D", head_path, "-o", body_path, "-w", "%{http_code}"] + list(args) + [url]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout + 5)
        if done.returncode != 0:
            raise CurlError(done.returncode, done.stderr.decode("utf-8", "replace").strip(), cmd)
        body = b""
        if os.path.exists(body_path):
            with open(body_path, "rb") as f:
                body = f.read()
        raw_head = b""
        if os.path.exists(head_path):
            with open(head_path, "rb") as f:
                raw_head = f.read()
        # With 100-continue or redirects there may be several header blocks: keep the last.
        blocks = [b for b in raw_head.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
        lines = blocks[-1].decode("latin-1").split("\n") if blocks else []
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return CurlResult(int(done.stdout.decode() or 0), headers, body, lines)


class CurlError(Exception):
    def __init__(self, code, stderr, cmd):
        super().__init__("curl exited %d: %s (%s)" % (code, stderr, " ".join(cmd)))
        self.code = code
        self.stderr = stderr


# --------------------------------------------------------------------------------------------
# Raw sockets


class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_until(sock, marker, limit=1 << 20):
    """Reads until `marker` (bytes) has come, the peer closes, or `limit` bytes: what came."""
    got = b""
    while marker not in got and len(got) < limit:
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return got


def read_until_close(sock, timeout=5.0, limit=16 << 20):
    """Reads until EOF (or reset). Returns the bytes; raises socket.timeout past `timeout`."""
    deadline = time.monotonic() + timeout
    chunks = []
    total = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no EOF within %.1fs (got %d bytes)" % (timeout, total))
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
        if total > limit:
            break
    return b"".join(chunks)


def read_response(sock, head_only=False, timeout=5.0):
    """Reads one HTTP/1.1 response (Content-Length framed) off a socket; None on EOF first."""
    deadline = time.monotonic() + timeout
    buf = b""

    def more():
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("response incomplete after %.1fs: %r" % (timeout, buf[:200]))
        sock.settimeout(left)
        return sock.recv(65536)

    while b"\r\n\r\n" not in buf:
        data = more()
        if not data:
            if not buf:
                return None
            raise ConnectionError("EOF inside a response header: %r" % buf[:200])
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only or status in (204, 304) or 100 <= status < 200 else int(
        headers.get("content-length", "0"))
    body = rest
    while len(body) < length:
        data = more()
        if not data:
            raise ConnectionError("EOF after %d of %d body bytes" % (len(body), length))
        body += data
    return RawResponse(status, reason, headers, body[:length], head + b"\r\n\r\n" + body)


def raw_exchange(port, request, timeout=5.0):
    """Sends raw bytes, reads until the server closes; returns (RawResponse or None, raw bytes)."""
    with connect(port, timeout) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = read_until_close(s, timeout)
    return parse_raw(raw), raw


def parse_raw(raw):
    if b"\r\n\r\n" not in raw:
        return None
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return RawResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body, raw)


def wait_closed_by_peer(sock, timeout):
    """True if the peer closes (EOF or reset) within timeout seconds; data read is discarded."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            continue
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            continue
        if not data:
            return True


def simple_get(path, host="x", keep_alive=True, method="GET", extra=""):
    return ("%s %s HTTP/1.1\r\nHost: %s\r\n%s%s\r\n" % (
        method, path, host, "" if keep_alive else "Connection: close\r\n", extra)).encode()


# --------------------------------------------------------------------------------------------
# Prometheus text

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    def __init__(self, samples, helps, types, bad_lines):
        self.samples = samples  # list of (name, {labels}, float)
        self.helps = helps
        self.types = types
        self.bad_lines = bad_lines

    def select(self, name, **labels):
        return [(l, v) for n, l, v in self.samples
                if n == name and all(l.get(k) == str(want) for k, want in labels.items())]

    def sum(self, name, **labels):
        return sum(v for _l, v in self.select(name, **labels))

    def by_shard(self, name, **labels):
        out = {}
        for l, v in self.select(name, **labels):
            out[l.get("shard")] = out.get(l.get("shard"), 0) + v
        return out


def parse_prometheus(text):
    samples, helps, types, bad = [], {}, {}, []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            helps[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) == 4:
                types[parts[2]] = parts[3]
            else:
                bad.append(line)
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        try:
            value = float(m.group(4))
        except ValueError:
            bad.append(line)
            continue
        samples.append((m.group(1), labels, value))
    return Metrics(samples, helps, types, bad)


def wait_for(predicate, timeout, interval=0.05):
    """Polls predicate() until truthy or timeout (times SLOW); returns the last value."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
