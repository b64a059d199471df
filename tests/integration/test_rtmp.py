"""Real-client integration tests for Junction's RTMP live server: ffmpeg, ffprobe, rtmpdump,
curl, openssl and a raw-socket RTMP client (rtmp_client.py).

Run from tests/integration:
    JUNCTION_BIN=../../build/src/junction /usr/bin/python3 -m unittest -v test_rtmp

Each test class starts its own junction (temporary config, every listener on 127.0.0.1 port 0,
--shards 2) and kills it afterwards. Nothing but 127.0.0.1 is contacted. Media is made once with
ffmpeg's lavfi sources; what players receive is compared packet by packet (MD5 of each packet's
data, as ffprobe -show_data_hash reads it) with what was published.
"""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import junction_process as jp
import rtmp_client as rc
from junction_process import JunctionProcess, curl, wait_for

TOOLS = ("ffmpeg", "ffprobe", "rtmpdump", "curl", "openssl")
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]

MODULE_DIR = None
SOURCE = None  # H.264 + AAC, 5 s, one keyframe per second (made in setUpModule)
SOURCE_SECONDS = 5


def setUpModule():
    global MODULE_DIR, SOURCE
    binary = jp.junction_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError("junction binary not found or not executable: %s (set JUNCTION_BIN)"
                           % binary)
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:  # a failure, not a skip: these tests are the proof the server works
        raise RuntimeError("required client tools missing: %s" % ", ".join(missing))
    MODULE_DIR = tempfile.mkdtemp(prefix="junction-it-rtmp-")
    SOURCE = os.path.join(MODULE_DIR, "src.flv")
    make_source(SOURCE, ["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-bf", "0",
                         "-c:a", "aac"])


def tearDownModule():
    if MODULE_DIR:
        shutil.rmtree(MODULE_DIR, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Media helpers


def make_source(path, codec_args, size="320x240", rate=25, seconds=SOURCE_SECONDS,
                sample_rate=44100, video_filter=None):
    video = "testsrc2=size=%s:rate=%d" % (size, rate)
    if video_filter:
        video += "," + video_filter
    cmd = FFMPEG + ["-f", "lavfi", "-i", video, "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=%d" % sample_rate,
                    "-t", str(seconds)] + codec_args + ["-f", "flv", path]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if done.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("could not make %s: %s" % (path, done.stderr.decode()[-2000:]))
    return path


def ffmpeg_encoders():
    done = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)
    names = set()
    for line in done.stdout.decode().split("\n"):
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return names


def flv_tags(data):
    """Complete tags of FLV bytes: (header bytes or None, [(type, timestamp, payload)], end).
    A tag cut off at the end (a player stopped mid-tag) is left out; `end` is where it began."""
    if len(data) < 13 or data[:3] != b"FLV":
        return None, [], 0
    at = int.from_bytes(data[5:9], "big") + 4
    tags = []
    while at + 11 <= len(data):
        size = int.from_bytes(data[at + 1:at + 4], "big")
        if at + 11 + size + 4 > len(data):
            break
        ts = int.from_bytes(data[at + 4:at + 7], "big") | data[at + 7] << 24
        tags.append((data[at] & 0x1F, ts, data[at + 11:at + 11 + size]))
        at += 11 + size + 4
    return data[:9], tags, at


def trimmed_copy(path):
    """A copy of an FLV file without a trailing partial tag (curl -m and killed players cut
    files anywhere); returns its path."""
    with open(path, "rb") as f:
        data = f.read()
    _header, _tags, end = flv_tags(data)
    out = path + ".trimmed.flv"
    with open(out, "wb") as f:
        f.write(data[:end])
    return out


class Probe:
    """What ffprobe reads from a file: codecs and, per track, [(md5 of packet data, keyframe)]."""

    def __init__(self, path):
        self.path = path
        cmd = ["ffprobe", "-v", "error", "-show_data_hash", "MD5",
               "-show_entries", "packet=codec_type,flags,size,data_hash:stream=codec_type,"
               "codec_name", "-of", "json", path]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if done.returncode != 0:
            raise AssertionError("ffprobe %s failed: %s" % (path, done.stderr.decode()[-1000:]))
        info = json.loads(done.stdout.decode() or "{}")
        self.codecs = {s.get("codec_type"): s.get("codec_name") for s in info.get("streams", [])}
        self.tracks = {"video": [], "audio": []}
        for p in info.get("packets", []):
            kind = p.get("codec_type")
            if kind in self.tracks:
                digest = p.get("data_hash") or ""
                if not digest.startswith("MD5:") or len(digest) != 36:
                    raise AssertionError("ffprobe gave no packet hash for %s: %r" % (path, p))
                self.tracks[kind].append((digest, "K" in p.get("flags", "")))

    @property
    def video(self):
        return self.tracks["video"]

    @property
    def audio(self):
        return self.tracks["audio"]


def probe_file(path):
    return Probe(trimmed_copy(path))


def find_run(got, src):
    """Index where the hashes `got` appear as one contiguous run of `src`, or None."""
    g = [h for h, _k in got]
    s = [h for h, _k in src]
    if not g or len(g) > len(s):
        return None
    for i in range(len(s) - len(g) + 1):
        if s[i] == g[0] and s[i:i + len(g)] == g:
            return i
    return None


def describe_mismatch(got, src):
    """Where the longest matching start of `got` stops matching the source (for messages)."""
    g = [h for h, _k in got]
    s = [h for h, _k in src]
    if not g:
        return "nothing received"
    starts = [i for i, h in enumerate(s) if h == g[0]]
    if not starts:
        return "first packet %s is not in the source at all" % g[0]
    best = (0, starts[0])
    for i in starts:
        n = 0
        while n < len(g) and i + n < len(s) and g[n] == s[i + n]:
            n += 1
        best = max(best, (n, i))
    n, i = best
    if i + n >= len(s):
        return ("packets 0..%d match source %d..%d, then %d more packets past the source's "
                "end (%d received, source has %d)" % (n - 1, i, i + n - 1, len(g) - n, len(g),
                                                      len(s)))
    return ("packets 0..%d match source %d..%d; packet %d is %s, source packet %d is %s "
            "(gap or changed bytes; %d received, source has %d)" % (
                n - 1, i, i + n - 1, n, g[n], i + n, s[i + n], len(g), len(s)))


# ---------------------------------------------------------------------------------------------
# Processes


class Proc:
    """A client process with its output in a file; always ended by the test that made it."""

    def __init__(self, cmd, log_path):
        self.cmd = cmd
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT)

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        """Exit code, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5.0):
        """SIGINT (ffmpeg and rtmpdump finish their files), then SIGKILL. Returns the code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            if self.wait(timeout) is None:
                self.popen.kill()
                self.wait(5)
        self._log.close()
        return self.popen.returncode

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def __repr__(self):
        return "<%s rc=%s: %s>" % (" ".join(self.cmd), self.popen.returncode, self.output())


def packet_sizes(path):
    """[(size, keyframe)] of a file's video packets."""
    done = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                           "packet=size,flags", "-of", "csv=p=0", path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = []
    for line in done.stdout.decode().split():
        size, flags = line.split(",")[:2]
        out.append((int(size), "K" in flags))
    return out


def socket_on_shard(junction, shard, tries=40):
    """A TCP connection to the HTTP listener that the kernel gave to `shard` (SO_REUSEPORT
    hashes each connection to one shard's acceptor), or None after `tries` connections."""
    port = junction.port("http")
    for _ in range(tries):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        mine = s.getsockname()[1]
        c = wait_for(lambda: connection_by_port(junction, mine), 2, 0.02)
        if c and c["shard"] == shard:
            return s
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    return None


def read_for(sock, seconds, limit=64 << 20):
    """Everything a socket delivers within `seconds` (or until EOF)."""
    deadline = time.monotonic() + seconds
    chunks = []
    total = 0
    while total < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def api_json(junction, path):
    r = curl(junction.url(path))
    if r.status != 200:
        raise AssertionError("%s answered %d: %r" % (path, r.status, r.body[:300]))
    return json.loads(r.body)


def streams(junction):
    return api_json(junction, "/api/v1/streams")["streams"]


def find_stream(junction, app, name):
    for s in streams(junction):
        if s["app"] == app and s["name"] == name:
            return s
    return None


def connections(junction, protocol=None):
    out = api_json(junction, "/api/v1/connections")["connections"]
    return [c for c in out if protocol is None or c["protocol"] == protocol]


def connection_by_port(junction, port):
    for c in connections(junction):
        if c["peer"].endswith(":%d" % port):
            return c
    return None


class RtmpTestCase(unittest.TestCase):
    """Starts one junction per class on cls.rtmp_config / cls.rtmp_apps / cls.server_config."""

    rtmp_config = {}
    rtmp_apps = None
    server_config = {}
    http_config = {}
    shards = 2

    @classmethod
    def prepare(cls, workdir):
        """Hook: create files in workdir before the server starts."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % cls.__name__)
        if not os.environ.get("JUNCTION_IT_KEEP"):  # keep logs and captures to debug a failure
            cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.prepare(cls.workdir)
        cls.junction = JunctionProcess(http=dict(cls.http_config),
                                       server=dict(cls.server_config),
                                       rtmp=dict(cls.rtmp_config), rtmp_apps=cls.rtmp_apps,
                                       shards=cls.shards, workdir=cls.workdir)
        cls.addClassCleanup(cls.junction.cleanup)  # kills; fails on a sanitizer report
        cls.junction.start()

    @classmethod
    def tearDownClass(cls):
        cls.junction.stop(timeout=5)

    # -- processes --

    def start(self, cmd, name):
        proc = Proc(cmd, os.path.join(self.workdir, "%s-%s.log" % (self._testMethodName, name)))
        self.addCleanup(proc.stop)
        return proc

    # -- raw RTMP clients (rtmp_client.py), which see every status message and frame --

    def client(self):
        c = rc.RtmpClient(self.junction.port("rtmp"), timeout=10)
        self.addCleanup(c.close)
        return c

    def start_publisher(self, app, name):
        c = self.client()
        sid = c.setup(app)
        status = c.publish(sid, name)
        self.assertEqual(status.status().get("code"), "NetStream.Publish.Start", status)
        return c, sid

    def start_players(self, app, name, count=4):
        base = self.metric("junction_rtmp_plays_total")
        players = []
        for _ in range(count):
            c = self.client()
            sid = c.setup(app)
            started = c.play(sid, name)
            self.assertEqual(started.status().get("code"), "NetStream.Play.Start", started)
            players.append((c, sid))
        self.wait_plays(count, base)
        return players

    @staticmethod
    def send_frames(publisher, sid, tag, count=5, first_ts=0):
        """Sorenson keyframes and Speex audio whose bodies carry `tag`: each player must get
        these bytes, and can tell one publisher's frames from another's."""
        for i in range(count):
            ts = first_ts + 40 * i
            publisher.send_message(6, rc.VIDEO, sid, b"\x12" + tag + b"-v%d" % i, timestamp=ts)
            publisher.send_message(4, rc.AUDIO, sid, b"\xb2" + tag + b"-a%d" % i, timestamp=ts)

    def expect_frames(self, players, tag, count=5):
        want = [b"\x12" + tag + b"-v%d" % i for i in range(count)]
        for n, (c, sid) in enumerate(players):
            got = []
            while len(got) < count:
                m = c.wait_for(lambda m: m.type == rc.VIDEO and m.stream_id == sid and tag in m.payload, 10,
                               "video of %r" % tag)
                got.append(m.payload)
            self.assertEqual(got, want, "player %d" % n)

    def out_path(self, name):
        return os.path.join(self.workdir, "%s-%s" % (self._testMethodName, name))

    def publisher(self, url, source=None, name="publisher", seconds=None, loop=False):
        """ffmpeg -re publishing a file as it is (-c copy)."""
        cmd = FFMPEG + ["-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        if seconds:
            cmd += ["-t", str(seconds)]
        cmd += ["-i", source or SOURCE, "-c", "copy", "-f", "flv", url]
        return self.start(cmd, name)

    def ffmpeg_player(self, url, name):
        """ffmpeg playing a stream into an FLV file (-c copy: packets as received)."""
        out = self.out_path(name + ".flv")
        return self.start(FFMPEG + ["-i", url, "-c", "copy", "-f", "flv", out], name), out

    def rtmpdump_player(self, url, name):
        out = self.out_path(name + ".flv")
        return self.start(["rtmpdump", "-q", "--live", "-r", url, "-o", out], name), out

    def finish_publisher(self, proc, timeout=SOURCE_SECONDS + 20):
        code = proc.wait(timeout)
        self.assertIsNotNone(code, "publisher still running after %ds: %r" % (timeout, proc))
        self.assertEqual(code, 0, "publisher failed: %r" % (proc,))

    def finish_player(self, proc, timeout=15):
        """Waits for a player that should end by itself (its publisher left)."""
        code = proc.wait(timeout)
        self.assertIsNotNone(code, "player did not end within %ds after its publisher left: "
                                   "%r" % (timeout, proc))
        return code

    # -- server state --

    def metric(self, name, **labels):
        return self.junction.metrics().sum(name, **labels)

    def wait_plays(self, count, baseline, timeout=15):
        ok = wait_for(lambda: self.metric("junction_rtmp_plays_total") >= baseline + count,
                      timeout, 0.1)
        self.assertTrue(ok, "%d players did not start playing within %ds (plays %s, base %s)" % (
            count, timeout, self.metric("junction_rtmp_plays_total"), baseline))

    def wait_live(self, app, name, timeout=15):
        s = wait_for(lambda: (lambda x: x if x and x["live"] else None)(
            find_stream(self.junction, app, name)), timeout, 0.1)
        self.assertTrue(s, "%s/%s not live within %ds: %r" % (app, name, timeout,
                                                              streams(self.junction)))
        return s

    def wait_into_stream(self, app, name, fraction=0.45, timeout=SOURCE_SECONDS + 10):
        """Waits until the publication has taken in `fraction` of the source file's bytes, so a
        player joining now is past the source's first GOP (a fixed sleep was not, on a loaded
        CI machine)."""
        want = fraction * os.path.getsize(SOURCE)
        ok = wait_for(lambda: (find_stream(self.junction, app, name) or {}).get("bytes_in", 0)
                      >= want, timeout, 0.05)
        self.assertTrue(ok, "%s/%s took in fewer than %d bytes within %ds: %r" % (
            app, name, want, timeout, streams(self.junction)))

    def log_has(self, pattern, timeout=5):
        """True once a line of the server's stderr matches the regular expression."""
        rx = re.compile(pattern)
        return wait_for(lambda: any(rx.search(line)
                                    for line in self.junction.stderr_text().split("\n")),
                        timeout, 0.1)

    def assert_log(self, pattern, timeout=5):
        self.assertTrue(self.log_has(pattern, timeout),
                        "no server log line matches %r; log tail:\n%s" % (
                            pattern, self.junction.stderr_text()[-3000:]))

    # -- packet comparison --

    def assert_run(self, label, got, src, kind, whole=False, to_end=False, late=False,
                   min_packets=10):
        """`got` (one track's packets) must be a contiguous run of the source's packets; video
        must start at a keyframe. whole: the run is the entire source; to_end: it reaches the
        source's last packet; late: it does not start at the source's first packet."""
        self.assertGreaterEqual(len(got), min_packets, "%s: only %d %s packets" % (
            label, len(got), kind))
        at = find_run(got, src)
        if at is None:
            self.fail("%s: %s packets are not a contiguous run of the source's: %s" % (
                label, kind, describe_mismatch(got, src)))
        if kind == "video":
            self.assertTrue(src[at][1], "%s: first video packet (source packet %d) is not a "
                                        "keyframe" % (label, at))
            self.assertTrue(got[0][1], "%s: first video packet not flagged as a keyframe" % label)
        if whole:
            self.assertEqual((at, len(got)), (0, len(src)),
                             "%s: %s packets are source %d..%d, not all %d" % (
                                 label, kind, at, at + len(got) - 1, len(src)))
        if to_end:
            self.assertEqual(at + len(got), len(src), "%s: %s packets stop at source packet %d "
                             "of %d" % (label, kind, at + len(got) - 1, len(src)))
        if late:
            self.assertGreater(at, 0, "%s: a late joiner got the %s from the very start" % (
                label, kind))
        return at

    def assert_same_media(self, label, path, source_probe, whole=False, to_end=False, late=False,
                          codecs=None):
        got = probe_file(path)
        if codecs:
            for kind, name in codecs.items():
                self.assertEqual(got.codecs.get(kind), name, "%s: %s codec" % (label, kind))
        self.assert_run(label, got.video, source_probe.video, "video", whole, to_end, late)
        self.assert_run(label, got.audio, source_probe.audio, "audio", whole, to_end,
                        late=False)
        return got


def source_probe():
    global _SOURCE_PROBE
    if _SOURCE_PROBE is None or _SOURCE_PROBE.path != SOURCE:
        _SOURCE_PROBE = Probe(SOURCE)
        if not _SOURCE_PROBE.video or not _SOURCE_PROBE.video[0][1]:
            raise AssertionError("source does not start with a video keyframe")
        for kind, packets in _SOURCE_PROBE.tracks.items():
            # The comparisons are only as good as the packets are distinct.
            if len(set(packets)) < 0.9 * len(packets) or len(packets) < 100:
                raise AssertionError("source %s packets too few or too alike" % kind)
    return _SOURCE_PROBE


_SOURCE_PROBE = None


# ---------------------------------------------------------------------------------------------
# 1 + 10. ffmpeg publishes H.264 + AAC; ffmpeg and rtmpdump play (digest handshake from ffmpeg)


class LivePassThroughTest(RtmpTestCase):
    def test_players_receive_the_published_packets_unchanged(self):
        src = source_probe()
        url = self.junction.rtmp_url("live", "cam")
        base = self.metric("junction_rtmp_plays_total")
        # Players that are there before the publisher: everything from the first packet.
        early, early_out = self.ffmpeg_player(url, "early-ffmpeg")
        dump, dump_out = self.rtmpdump_player(url, "early-rtmpdump")
        self.wait_plays(2, base)
        waiting = find_stream(self.junction, "live", "cam")
        self.assertIsNotNone(waiting, "players waiting for live/cam are not listed")
        self.assertFalse(waiting["live"], waiting)
        self.assertEqual(waiting["players"], 2, waiting)

        publishes = self.metric("junction_rtmp_publishes_total")
        pub = self.publisher(url)
        self.wait_live("live", "cam")
        s = wait_for(lambda: (lambda x: x if x and x["audio_codec"] and x["video_codec"]
                              else None)(find_stream(self.junction, "live", "cam")), 10, 0.1)
        self.assertTrue(s, find_stream(self.junction, "live", "cam"))
        self.assertEqual((s["video_codec"], s["audio_codec"]), ("h264", "aac"), s)
        self.assertTrue(s["publisher"]["address"].startswith("127.0.0.1:"), s)
        rtmp_ids = {c["id"]: c for c in connections(self.junction, "rtmp")}
        self.assertIn(s["publisher"]["connection"], rtmp_ids,
                      "publisher connection %s not among the rtmp connections %r" % (
                          s["publisher"]["connection"], list(rtmp_ids)))
        self.assertGreaterEqual(len(rtmp_ids), 3, rtmp_ids)
        self.assertEqual(self.metric("junction_rtmp_publishes_total"), publishes + 1)
        self.assertGreaterEqual(self.metric("junction_connections_active", protocol="rtmp"), 3)
        self.assertGreaterEqual(
            self.metric("junction_connections_accepted_total", protocol="rtmp"), 3)
        # ffmpeg shakes hands with the digest (Flash 9) scheme: see
        # BadInputTest.test_ffmpeg_digest_and_raw_plain_handshakes for the log's word on it.

        # A late joiner, 2 s in: starts at a keyframe from the GOP cache, no gap after.
        self.wait_into_stream("live", "cam")
        late, late_out = self.ffmpeg_player(url, "late-ffmpeg")
        self.wait_plays(3, base)

        self.finish_publisher(pub)
        for proc in (early, dump, late):
            self.finish_player(proc)
        self.assertEqual(early.popen.returncode, 0, early)
        self.assertEqual(late.popen.returncode, 0, late)

        codecs = {"video": "h264", "audio": "aac"}
        self.assert_same_media("early ffmpeg player", early_out, src, whole=True, codecs=codecs)
        self.assert_same_media("early rtmpdump player", dump_out, src, whole=True, codecs=codecs)
        self.assert_same_media("late ffmpeg player", late_out, src, to_end=True, late=True,
                               codecs=codecs)

        m = self.junction.metrics()
        self.assertGreaterEqual(m.sum("junction_rtmp_frames_in_total"),
                                len(src.video) + len(src.audio))
        # Three players' worth of the source went out, the source came in once.
        self.assertGreater(m.sum("junction_bytes_sent_total", protocol="rtmp"),
                           2 * os.path.getsize(SOURCE))
        self.assertGreater(m.sum("junction_bytes_received_total", protocol="rtmp"),
                           0.9 * os.path.getsize(SOURCE))
        self.assertEqual(m.sum("junction_rtmp_dropped_frames_total"), 0)
        self.assertEqual(m.sum("junction_rtmp_player_skips_total"), 0)
        # The publication is gone once its publisher left and players went away.
        self.assertTrue(wait_for(lambda: not (find_stream(self.junction, "live", "cam") or {})
                                 .get("live"), 5), streams(self.junction))

    def test_rtmpdump_plays_a_running_stream(self):
        src = source_probe()
        url = self.junction.rtmp_url("live", "dump")
        pub = self.publisher(url)
        self.wait_live("live", "dump")
        self.wait_into_stream("live", "dump")
        dump, out = self.rtmpdump_player(url, "rtmpdump")
        self.finish_publisher(pub)
        self.finish_player(dump)
        with open(out, "rb") as f:
            head = f.read(9)
        self.assertEqual(head[:4], b"FLV\x01", head)
        self.assert_same_media("rtmpdump", out, src, to_end=True, late=True,
                               codecs={"video": "h264", "audio": "aac"})

    def test_rtmpdump_live_says_no_error(self):
        # Issue 16: rtmpdump --live sends FCSubscribe; its _error made rtmpdump log "ERROR: rtmp
        # server sent error" although the stream then played. Not quiet here: every line kept.
        url = self.junction.rtmp_url("live", "loud")
        pub = self.publisher(url)
        self.wait_live("live", "loud")
        out = self.out_path("loud.flv")
        dump = self.start(["rtmpdump", "--live", "-r", url, "-o", out], "loud-rtmpdump")
        self.finish_publisher(pub)
        self.finish_player(dump)
        with open(dump.log_path, errors="replace") as f:
            said = f.read()
        self.assertNotIn("ERROR", said, said[-2000:])
        self.assertTrue(os.path.getsize(out) > 100000, said[-2000:])


# ---------------------------------------------------------------------------------------------
# 2. Flash-era codecs: Sorenson Spark with Speex and with Nellymoser


class FlashCodecsTest(RtmpTestCase):
    @classmethod
    def prepare(cls, workdir):
        cls.encoders = ffmpeg_encoders()

    def make(self, name, audio_args):
        missing = [e for e in ("flv", "libspeex", "nellymoser") if e not in self.encoders]
        if missing:  # a failure, not a skip
            self.fail("ffmpeg lacks the encoders %s (ffmpeg -encoders)" % ", ".join(missing))
        return make_source(os.path.join(self.workdir, name + ".flv"),
                           ["-c:v", "flv", "-g", "25", "-q:v", "5"] + audio_args,
                           sample_rate=int(audio_args[audio_args.index("-ar") + 1]))

    def test_sorenson_with_speex_and_nellymoser_pass_unchanged(self):
        cases = {
            "speex": (self.make("speex", ["-c:a", "libspeex", "-ar", "16000", "-ac", "1"]),
                      {"video": "flv1", "audio": "speex"}),
            "nelly": (self.make("nelly", ["-c:a", "nellymoser", "-ar", "22050", "-ac", "1"]),
                      {"video": "flv1", "audio": "nellymoser"}),
        }
        base = self.metric("junction_rtmp_plays_total")
        players = {}
        for name in cases:
            players[name] = self.ffmpeg_player(self.junction.rtmp_url("flash", name), name)
        self.wait_plays(len(cases), base)
        pubs = {name: self.publisher(self.junction.rtmp_url("flash", name), path,
                                     name="pub-" + name)
                for name, (path, _codecs) in cases.items()}
        api_codecs = {"speex": ("sorenson_h263", "speex"),
                      "nelly": ("sorenson_h263", "nellymoser")}
        for name in cases:
            self.wait_live("flash", name)
            # The codecs are known once the first frames went through.
            s = wait_for(lambda: (lambda x: x if x and x["audio_codec"] and x["video_codec"]
                                  else None)(find_stream(self.junction, "flash", name)), 10, 0.1)
            self.assertTrue(s, find_stream(self.junction, "flash", name))
            self.assertEqual((s["video_codec"], s["audio_codec"]), api_codecs[name], s)
        for name, (path, codecs) in cases.items():
            self.finish_publisher(pubs[name])
            self.finish_player(players[name][0])
            src = Probe(path)
            self.assertEqual(src.codecs, codecs, "source made with the wrong codecs")
            self.assert_same_media("%s player" % name, players[name][1], src, whole=True,
                                   codecs=codecs)


# ---------------------------------------------------------------------------------------------
# 3. Shards: players on both shards get the same packets; a late joiner starts at a keyframe


class ShardsTest(RtmpTestCase):
    shards = 2

    def test_players_on_both_shards(self):
        src = source_probe()
        url = self.junction.rtmp_url("live", "spread")
        base = self.metric("junction_rtmp_plays_total")
        players = []
        shards_seen = set()
        # The kernel's SO_REUSEPORT hash picks the shard; add players until both have some
        # (all of 10 on one shard: 1 in 512).
        for i in range(10):
            if i % 2 == 0:
                players.append(self.ffmpeg_player(url, "player%d" % i))
            else:
                players.append(self.rtmpdump_player(url, "player%d" % i))
            self.wait_plays(i + 1, base)
            shards_seen = {c["shard"] for c in connections(self.junction, "rtmp")}
            if len(shards_seen) == 2 and len(players) >= 3:
                break
        self.assertEqual(len(shards_seen), 2, "%d players all on shard(s) %r" % (
            len(players), shards_seen))
        pub = self.publisher(url)
        s = self.wait_live("live", "spread")
        self.assertEqual(s["players"], len(players), s)
        self.wait_into_stream("live", "spread")
        late, late_out = self.ffmpeg_player(url, "late")
        self.wait_plays(len(players) + 1, base)
        self.finish_publisher(pub)
        for proc, _out in players:
            self.finish_player(proc)
        self.finish_player(late)
        by_shard = self.junction.metrics().by_shard("junction_rtmp_plays_total")
        self.assertEqual(sum(1 for v in by_shard.values() if v > 0), 2, by_shard)
        for i, (proc, out) in enumerate(players):
            self.assert_same_media("player %d (%s)" % (i, proc.cmd[0]), out, src, whole=True)
        got = self.assert_same_media("late joiner", late_out, src, to_end=True, late=True)
        self.assertTrue(got.video[0][1], "late joiner's first video packet is not a keyframe")


class MergedWritesTest(RtmpTestCase):
    """rtmp.merge_write: a publisher's input is read once per shard tick, so every player gets one
    write per window. Nothing may be lost, reordered or held back at the end of a stream."""
    shards = 2
    rtmp_config = {"merge_write": "100ms"}

    def test_players_on_both_shards_get_every_packet(self):
        src = source_probe()
        url = self.junction.rtmp_url("live", "merged")
        base = self.metric("junction_rtmp_plays_total")
        players = []
        for i in range(6):
            make = self.ffmpeg_player if i % 2 == 0 else self.rtmpdump_player
            players.append(make(url, "player%d" % i))
            self.wait_plays(i + 1, base)
        pub = self.publisher(url)
        self.finish_publisher(pub)
        for proc, _out in players:
            self.finish_player(proc)
        for i, (proc, out) in enumerate(players):
            self.assert_same_media("merged player %d (%s)" % (i, proc.cmd[0]), out, src,
                                   whole=True)

    def test_a_player_that_leaves_is_closed_while_the_publisher_waits_for_the_tick(self):
        url = self.junction.rtmp_url("live", "leaving")
        pub = self.publisher(url, loop=True)
        self.wait_live("live", "leaving")
        leaving = rc.RtmpClient(self.junction.port("rtmp"))
        self.addCleanup(leaving.close)
        sid = leaving.setup("live")
        started = leaving.play(sid, "leaving")
        self.assertEqual(started.status().get("code"), "NetStream.Play.Start", started)
        port = leaving.local_port
        self.assertIsNotNone(connection_by_port(self.junction, port))
        leaving.close()
        self.assertTrue(wait_for(lambda: connection_by_port(self.junction, port) is None, 5, 0.1),
                        "a player that hung up is still listed with merged writes on")
        self.assertTrue(pub.running(), "the publisher suffered from a player leaving")


class PublisherLifecycleTest(RtmpTestCase):
    """A publisher leaves and returns; a second publisher takes a name over; players of a name
    nobody publishes again are closed after publisher_wait. Raw RTMP clients on both sides, so the
    test reads every status message and frame. Players are spread over both shards."""
    rtmp_apps = [
        {"name": "live"},
        {"name": "takeover", "takeover": True},
        {"name": "wait", "publisher_wait": "2s"},
    ]

    def test_players_get_unpublish_notify_and_resume_when_the_publisher_returns(self):
        players = self.start_players("live", "comeback")
        first, sid = self.start_publisher("live", "comeback")
        self.send_frames(first, sid, b"one")
        self.expect_frames(players, b"one")
        first.close()
        for c, psid in players:
            gone = c.wait_status(psid, codes=("NetStream.Play.UnpublishNotify",))
            self.assertEqual(gone.status().get("level"), "status", gone)
        second, sid2 = self.start_publisher("live", "comeback")
        for c, psid in players:
            c.wait_status(psid, codes=("NetStream.Play.PublishNotify",))
        self.send_frames(second, sid2, b"two")
        self.expect_frames(players, b"two")

    def test_takeover_evicts_the_first_publisher_and_players_follow(self):
        players = self.start_players("takeover", "seat", count=2)
        first, sid = self.start_publisher("takeover", "seat")
        self.send_frames(first, sid, b"old")
        self.expect_frames(players, b"old")
        second, sid2 = self.start_publisher("takeover", "seat")  # Publish.Start, not BadName
        self.assertTrue(first.closed_within(5), "the evicted publisher was not closed")
        # Players follow the stream to its new shard (one elsewhere gets UnpublishNotify and
        # PublishNotify on the way, and the frames sent meanwhile are not its). From then on
        # every frame is theirs: 20 frames over a second, of which each player must get an
        # unbroken run to the last.
        for i in range(20):
            second.send_message(6, rc.VIDEO, sid2, b"\x12new-v%d" % i, timestamp=40 * i)
            time.sleep(0.05)
        for n, (c, _sid) in enumerate(players):
            got = []
            while not got or got[-1] != 19:
                m = c.wait_for(lambda m: m.type == rc.VIDEO and b"new-v" in m.payload, 10,
                               "video of the new publisher")
                got.append(int(m.payload.rsplit(b"-v", 1)[1]))
            self.assertEqual(got, list(range(got[0], 20)), "player %d" % n)
            self.assertLessEqual(got[0], 10, "player %d followed the takeover late" % n)
        s = find_stream(self.junction, "takeover", "seat")
        self.assertEqual(s["publisher"]["address"].rsplit(":", 1)[1], str(second.local_port), s)

    def test_players_are_closed_when_nobody_publishes_within_publisher_wait(self):
        players = self.start_players("wait", "brief", count=2)
        pub, sid = self.start_publisher("wait", "brief")
        self.send_frames(pub, sid, b"only")
        self.expect_frames(players, b"only")
        pub.close()
        for c, _sid in players:
            self.assertTrue(c.closed_within(10), "a player outlived publisher_wait (2 s)")


class MergedPublisherLifecycleTest(PublisherLifecycleTest):
    """The same with merged writes: a publisher is read once per tick, and leaving while it waits
    for the tick must not lose its last frames or delay the UnpublishNotify."""
    rtmp_config = {"merge_write": "100ms"}


class LowLatencyTest(RtmpTestCase):
    """An application with low_latency = true is read as data comes whatever rtmp.merge_write
    says. With a 10 s window a merged stream reaches its players in one burst per window (at most
    one of three consecutive seconds sees frames); the low-latency one in every second."""
    rtmp_config = {"merge_write": "10s"}
    rtmp_apps = [{"name": "live"}, {"name": "fast", "low_latency": True}]

    def seconds_with_frames(self, app):
        self.publisher(self.junction.rtmp_url(app, "cam"), loop=True, seconds=30, name=app + "-publisher")
        self.wait_live(app, "cam")
        player = HealthyPlayer(self.junction.port("rtmp"), app, "cam")
        player.start()
        self.addCleanup(player.stop)
        self.assertTrue(wait_for(lambda: player.media > 0, 15), "no frame at all")  # past the GOP cache's burst
        counts = []
        for _ in range(3):
            before = player.media
            time.sleep(1)  # the window being measured, not a wait for a condition
            counts.append(player.media - before)
        self.assertIsNone(player.error)
        return sum(1 for c in counts if c >= 10), counts

    def test_a_low_latency_application_is_not_merged(self):
        busy, counts = self.seconds_with_frames("fast")
        self.assertEqual(busy, 3, counts)

    def test_the_merged_application_is(self):
        # The control: the same measure tells a merged stream apart.
        busy, counts = self.seconds_with_frames("live")
        self.assertLessEqual(busy, 1, counts)


# ---------------------------------------------------------------------------------------------
# 4. A player that stops reading is skipped to keyframes / closed; others get every packet


def make_fat_source(workdir):
    """2 Mbit/s of noise (incompressible), every frame well below a 64 KiB player queue (VBV caps
    frames near bufsize/8 bytes), so a player that reads keeps up and one that does not
    overflows its queue within a second or two."""
    return make_source(os.path.join(workdir, "fat.flv"), [
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", "2M",
        "-maxrate", "2M", "-bufsize", "160k", "-g", "25", "-bf", "0", "-c:a", "aac"],
        video_filter="noise=alls=40:allf=t")


class SlowPlayerTest(RtmpTestCase):
    # A 64 KiB queue is less than one 200 ms window of this stream: with merged writes a window's
    # frames are queued at once, so the queue must hold a window (the default, 8 MiB, holds 30 s
    # of 2 Mbit/s). These tests are about one write per frame.
    rtmp_config = {"player_queue_bytes": 65536, "send_timeout": "3s", "merge_write": "0ms"}

    @classmethod
    def prepare(cls, workdir):
        cls.fat = make_fat_source(workdir)
        # Keyframes of ~200 KiB (static noise on every picture), other frames ~20 KiB.
        cls.big_keyframes = make_source(os.path.join(workdir, "bigkey.flv"), [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "10", "-bf", "0",
            "-c:a", "aac"], size="640x480", rate=10, seconds=3,
            video_filter="noise=alls=50:allf=u")
        sizes = packet_sizes(cls.big_keyframes)
        if not (max(n for n, key in sizes if key) > 100000 and
                max(n for n, key in sizes if not key) < 32768):
            raise RuntimeError("bigkey.flv is not made of big keyframes and small other frames")

    def test_keyframe_bigger_than_the_queue_reaches_a_fast_player(self):
        # player_queue_bytes bounds what waits behind the socket: a keyframe bigger than the
        # whole budget (~200 KiB here, 64 KiB allowed) still goes to a player that keeps up.
        url = self.junction.rtmp_url("live", "bigkey")
        base = self.metric("junction_rtmp_plays_total")
        player, out = self.ffmpeg_player(url, "fast")
        self.wait_plays(1, base)
        pub = self.publisher(url, self.big_keyframes)
        self.finish_publisher(pub)
        self.finish_player(player)
        src = Probe(self.big_keyframes)
        got = probe_file(out)
        self.assert_run("fast player of big keyframes", got.video, src.video, "video",
                        whole=True)

    def test_stalled_player_is_skipped_or_closed_and_others_get_everything(self):
        src = Probe(self.fat)
        biggest = max(n for n, _key in packet_sizes(self.fat))
        self.assertLess(biggest, 32768, "test source has a frame bigger than half the queue")
        self.assertGreater(os.path.getsize(self.fat), 800 << 10, "test source too small")

        url = self.junction.rtmp_url("live", "fat")
        base = self.metric("junction_rtmp_plays_total")
        skips0 = self.metric("junction_rtmp_player_skips_total")
        timeouts0 = self.metric("junction_timeouts_total", protocol="rtmp")
        dropped0 = self.metric("junction_rtmp_dropped_frames_total")
        # A tiny receive buffer, and a tiny MSS announced in its SYN: loopback's 64 KiB MSS
        # would let the server's kernel buffer megabytes for it; with 536 bytes it buffers
        # some 100 KiB, and the server's own queue has to take the rest.
        stalled = rc.RtmpClient(self.junction.port("rtmp"), rcvbuf=4096, mss=536)
        self.addCleanup(stalled.close)
        sid = stalled.setup("live")
        started = stalled.play(sid, "fat")
        self.assertEqual(started.status().get("code"), "NetStream.Play.Start", started)
        stalled_port = stalled.local_port
        # From here on the stalled player reads nothing.
        normal, normal_out = self.ffmpeg_player(url, "normal")
        self.wait_plays(2, base)
        pub = self.publisher(url, self.fat)
        self.finish_publisher(pub, timeout=30)
        self.finish_player(normal)

        def stalled_handled():
            m = self.junction.metrics()
            skipped = m.sum("junction_rtmp_player_skips_total") > skips0
            dropped = m.sum("junction_rtmp_dropped_frames_total") > dropped0
            closed = connection_by_port(self.junction, stalled_port) is None
            return (skipped or dropped or closed) and (skipped, dropped, closed)
        handled = wait_for(stalled_handled, 3 + 5, 0.2)
        self.assertTrue(handled, "the stalled player was neither skipped to a keyframe nor "
                                 "closed (metrics and /api/v1/connections unchanged)")
        skipped, dropped, closed = handled
        if skipped:
            self.assert_log(r"127\.0\.0\.1:%d: player too slow" % stalled_port)
        # The player that kept reading got every packet: nothing skipped for it.
        self.assert_same_media("normal player next to a stalled one", normal_out, src,
                               whole=True)
        # send_timeout: its socket accepts nothing, so it is closed within a few seconds.
        self.assertTrue(wait_for(lambda: connection_by_port(self.junction, stalled_port) is None,
                                 3 + 6, 0.2),
                        "stalled player still connected %ds past send_timeout" % 6)
        self.assertGreater(self.metric("junction_timeouts_total", protocol="rtmp"), timeouts0,
                           "send_timeout close not counted in junction_timeouts_total")
        # The server keeps serving: a new player and publisher work.
        url2 = self.junction.rtmp_url("live", "after")
        after, after_out = self.ffmpeg_player(url2, "after")
        self.wait_plays(3, base)
        pub2 = self.publisher(url2, name="publisher2", seconds=2)
        self.finish_publisher(pub2)
        self.finish_player(after)
        got = probe_file(after_out)
        self.assert_run("player after the stall", got.video, source_probe().video, "video",
                        min_packets=25)


class SlowReaderTest(RtmpTestCase):
    """A player that reads, only too slowly: it is skipped ahead to keyframes, not closed.
    rtmp.send_buffer bounds the kernel's socket buffer (32 KiB, the kernel doubles it), so the
    backlog waits in the 64 KiB player queue, where it is seen: without it loopback's buffers
    grow to megabytes and can hold a whole slow player's backlog."""
    rtmp_config = {"player_queue_bytes": 65536, "send_buffer": 32768, "send_timeout": "10s"}

    @classmethod
    def prepare(cls, workdir):
        cls.fat = make_fat_source(workdir)

    def test_a_player_that_reads_too_slowly_is_skipped_to_keyframes_and_stays(self):
        # 1.2 MB published in 5 s; it reads 50 KB a second. Kernel and queue hold some 140 KiB:
        # the rest of its backlog cannot wait anywhere, so it is skipped, again and again.
        url = self.junction.rtmp_url("live", "slowfat")
        skips0 = self.metric("junction_rtmp_player_skips_total")
        timeouts0 = self.metric("junction_timeouts_total", protocol="rtmp")
        slow = rc.RtmpClient(self.junction.port("rtmp"), rcvbuf=4096)
        self.addCleanup(slow.close)
        sid = slow.setup("live")
        self.assertEqual(slow.play(sid, "slowfat").status().get("code"), "NetStream.Play.Start")
        port = slow.local_port
        pub = self.publisher(url, self.fat)
        video, read, started = [], 0, time.monotonic()
        while time.monotonic() - started < 60:  # the source is 5 s: bounded well past it
            try:
                m = slow.read_message(2)
            except rc.RtmpTimeout:
                if not pub.running():
                    break  # published to the end and read to the end
                continue
            if m.type == rc.VIDEO and len(m.payload) > 1 and m.payload[1] == 1:  # AVC pictures
                video.append((m.timestamp, m.payload[0] >> 4 == 1))
            read += len(m.payload)
            time.sleep(max(0.0, read / 50000.0 - (time.monotonic() - started)))
        self.finish_publisher(pub, timeout=30)
        self.assertGreater(self.metric("junction_rtmp_player_skips_total"), skips0, "the slow player was never skipped")
        self.assertIsNotNone(connection_by_port(self.junction, port),
                             "the slow player was closed although its socket took data")
        self.assertEqual(self.metric("junction_timeouts_total", protocol="rtmp"), timeouts0)
        self.assert_log(r"127\.0\.0\.1:%d: player too slow" % port)
        self.assertTrue(video, "the slow player got no video")
        self.assertTrue(video[0][1], "its first picture is not a keyframe")
        gaps = 0
        for (before, _k), (after, key) in zip(video, video[1:]):
            if after - before > 60:  # pictures are 40 ms apart: something was skipped here
                gaps += 1
                self.assertTrue(key, "after a skip (%d -> %d ms) the next picture is not a keyframe" % (before, after))
        self.assertGreater(gaps, 0, "skipped, yet every picture came")


# ---------------------------------------------------------------------------------------------
# 5. HTTP-FLV



class HttpFlvTest(RtmpTestCase):
    def test_http_flv_carries_the_published_packets(self):
        src = source_probe()
        pub = self.publisher(self.junction.rtmp_url("live", "web"))
        self.wait_live("live", "web")
        plays = self.metric("junction_http_flv_plays_total")
        url = self.junction.url("/live/web.flv")
        self.wait_into_stream("live", "web", 0.3)  # late joiners: they start from the GOP cache
        cut_out = self.out_path("cut.flv")
        whole_out = self.out_path("whole.flv")
        curl_base = ["curl", "-sS", "--noproxy", "*", "-o"]
        cut = self.start(curl_base + [cut_out, "-m", "3", url], "curl-cut")
        whole_head = self.out_path("whole.head")
        whole = self.start(curl_base + [whole_out, "-D", whole_head, "-m", "30", url],
                           "curl-whole")
        self.assertTrue(wait_for(lambda: self.metric("junction_http_flv_plays_total")
                                 >= plays + 2, 10), "HTTP-FLV players not counted")
        http_conns = connections(self.junction, "http")
        self.assertGreaterEqual(len(http_conns), 2, http_conns)
        self.assertEqual(cut.wait(15), 28, "curl -m 3 should stop on its time limit: %r" % cut)
        self.finish_publisher(pub)
        self.assertEqual(whole.wait(15), 0, "HTTP-FLV body did not end with its publisher: %r"
                         % whole)
        with open(whole_head, "rb") as f:
            head = f.read().decode("latin-1")
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertRegex(head, r"(?im)^content-type:\s*video/x-flv\s*$")
        for label, out, to_end in (("curl -m 3", cut_out, False), ("curl", whole_out, True)):
            with open(out, "rb") as f:
                data = f.read()
            self.assertEqual(data[:4], b"FLV\x01", "%s: no FLV header in %r" % (label,
                                                                                data[:16]))
            self.assertEqual(data[4] & 0x05, 0x05, "%s: FLV header flags %#x" % (label, data[4]))
            self.assert_same_media(label, out, src, to_end=to_end, late=True,
                                   codecs={"video": "h264", "audio": "aac"})

    def test_http_flv_body_starts_with_the_flv_header(self):
        # On both shards: on the publisher's the GOP cache is replayed the moment the client
        # subscribes, so the FLV header must already be queued by then.
        pub = self.publisher(self.junction.rtmp_url("live", "head"), seconds=4)
        s = self.wait_live("live", "head")
        owner = [c for c in connections(self.junction) if c["id"] == s["publisher"]["connection"]]
        self.assertEqual(len(owner), 1, s)
        # One raw HTTP client on each shard: the replay happens at once on the publisher's
        # shard and a little later (when the relay starts) on the other one. A second of the
        # source in first, so that the cache holds a GOP.
        self.wait_into_stream("live", "head", 0.2)
        bodies = {}
        for shard in range(self.shards):
            sock = socket_on_shard(self.junction, shard)
            self.assertIsNotNone(sock, "no connection landed on shard %d in 40 tries" % shard)
            with sock:
                sock.sendall(b"GET /live/head.flv HTTP/1.1\r\nHost: x\r\n\r\n")
                raw = read_for(sock, 1.0)
            head, _sep, body = raw.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
            bodies[shard] = body
        self.finish_publisher(pub)
        problems = []
        for shard, data in sorted(bodies.items()):
            where = "shard %d (publisher on shard %d)" % (shard, owner[0]["shard"])
            if len(data) <= 13:
                problems.append("%s: HTTP-FLV body of %d bytes" % (where, len(data)))
            elif data[:13] != b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00":
                problems.append("%s: body starts %r; FLV header at offset %d" % (
                    where, data[:16], data.find(b"FLV\x01")))
            elif data[13] not in (8, 9, 18):
                problems.append("%s: first tag type %d" % (where, data[13]))
        self.assertEqual(problems, [])

    def test_missing_stream_is_404(self):
        r = curl(self.junction.url("/live/nobody.flv"))
        self.assertEqual(r.status, 404)
        r = curl(self.junction.url("/live/nobody.flv"), "-I")
        self.assertEqual(r.status, 404)


# ---------------------------------------------------------------------------------------------
# 6. RTMPS


class RtmpsTest(RtmpTestCase):
    rtmp_config = {"tls_listen": ["127.0.0.1:0"], "tls_certificate": "cert.pem",
                   "tls_private_key": "key.pem"}

    @classmethod
    def prepare(cls, workdir):
        done = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(workdir, "key.pem"),
             "-out", os.path.join(workdir, "cert.pem")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if done.returncode != 0:
            raise RuntimeError("openssl failed: %s" % done.stderr.decode())

    def test_tls_listener_serves_the_certificate(self):
        done = subprocess.run(["openssl", "s_client", "-connect", self.junction.rtmps_address(),
                               "-servername", "127.0.0.1"], input=b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        text = done.stdout.decode("utf-8", "replace")
        self.assertIn("CN = 127.0.0.1", text + done.stderr.decode("utf-8", "replace"))
        self.assertRegex(text, r"Protocol\s*:\s*TLSv1\.[23]|New, TLSv1\.[23]")

    def test_publish_plain_play_tls_and_back(self):
        src = source_probe()
        base = self.metric("junction_rtmp_plays_total")
        # a: published over rtmp, played over rtmps. b: published over rtmps, played over rtmp.
        play_a, out_a = self.ffmpeg_player(self.junction.rtmp_url("live", "a", tls=True),
                                           "rtmps-player")
        play_b, out_b = self.ffmpeg_player(self.junction.rtmp_url("live", "b"), "rtmp-player")
        self.wait_plays(2, base)
        pub_a = self.publisher(self.junction.rtmp_url("live", "a"), name="rtmp-publisher")
        pub_b = self.publisher(self.junction.rtmp_url("live", "b", tls=True),
                               name="rtmps-publisher")
        b = self.wait_live("live", "b")
        tls_publisher = [c for c in connections(self.junction)
                         if c["id"] == b["publisher"]["connection"]]
        self.assertEqual(len(tls_publisher), 1, b)
        self.assertEqual(tls_publisher[0]["protocol"], "rtmps", tls_publisher)
        a = self.wait_live("live", "a")
        plain_publisher = [c for c in connections(self.junction) if c["id"] == a["publisher"]["connection"]]
        self.assertEqual(plain_publisher[0]["protocol"], "rtmp", plain_publisher)
        for proc in (pub_a, pub_b):
            self.finish_publisher(proc)
        for proc in (play_a, play_b):
            self.finish_player(proc)
        self.assert_same_media("rtmps player", out_a, src, whole=True)
        self.assert_same_media("player of an rtmps publisher", out_b, src, whole=True)


# ---------------------------------------------------------------------------------------------
# 7. Hooks


def http_flv_status(url):
    """The status of an HTTP-FLV play, read for 2 s (a live body does not end by itself)."""
    done = subprocess.run(["curl", "-sS", "--noproxy", "*", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url],
                          capture_output=True, text=True, timeout=20)
    return done.stdout


class HookRecorder:
    """A tiny HTTP server on 127.0.0.1:0 recording JSON POSTs; refuses some stream names."""

    def __init__(self, refuse):
        self.refuse = refuse  # {path: stream name answered 403}
        self.bodies = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, 1 << 20))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsable": raw.decode("latin-1")}
                with recorder.lock:
                    recorder.bodies.append((self.path, body))
                status = 403 if body.get("stream") == recorder.refuse.get(self.path) else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)

    def find(self, path, **fields):
        with self.lock:
            return [b for p, b in self.bodies if p == path and all(
                b.get(k) == v for k, v in fields.items())]

    def wait(self, path, timeout=10, **fields):
        return wait_for(lambda: self.find(path, **fields), timeout, 0.05)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HooksTest(RtmpTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hooks = HookRecorder({"/publish": "forbidden", "/play": "noplay"})
        cls.addClassCleanup(cls.hooks.close)
        cls.rtmp_apps = [{"name": "*", "on_connect": cls.hooks.url("/connect"),
                          "on_publish": cls.hooks.url("/publish"),
                          "on_play": cls.hooks.url("/play"), "on_done": cls.hooks.url("/done"),
                          "hook_timeout": "3s"}]
        super().setUpClass()

    def test_on_publish_refusal(self):
        refused = self.publisher(self.junction.rtmp_url("live", "forbidden"), name="forbidden")
        code = refused.wait(20)
        self.assertIsNotNone(code, "publisher refused by on_publish still running: %r" % refused)
        self.assertNotEqual(code, 0, "ffmpeg published although on_publish said 403")
        self.assertTrue(self.hooks.find("/publish", stream="forbidden"))
        self.assertIsNone(find_stream(self.junction, "live", "forbidden"), streams(self.junction))
        self.assert_log(r"publish of 'live/forbidden' refused: refused by the on_publish hook")
        # The raw client sees the exact status, then the connection closes.
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("live")
            status = c.publish(sid, "forbidden")
            self.assertEqual(status.status().get("code"), "NetStream.Publish.Denied", status)
            self.assertEqual(status.status().get("level"), "error", status)
            self.assertTrue(c.closed_within(5), "refused publisher's connection left open")

    def test_on_publish_on_play_on_done(self):
        pub = self.publisher(self.junction.rtmp_url("live", "ok"))
        self.wait_live("live", "ok")
        bodies = self.hooks.find("/publish", stream="ok")
        self.assertEqual(len(bodies), 1, self.hooks.bodies)
        body = bodies[0]
        self.assertEqual(body.get("action"), "on_publish", body)
        self.assertEqual(body.get("app"), "live", body)
        self.assertEqual(body.get("ip"), "127.0.0.1", body)
        self.assertIn("/live", body.get("tcUrl", ""), body)
        self.assertIn("client_id", body)

        # on_play: "noplay" is refused (ffmpeg fails; raw client sees Play.Failed), "ok" plays.
        refused = self.start(FFMPEG + ["-i", self.junction.rtmp_url("live", "noplay"), "-t", "1",
                                       "-f", "null", "-"], "noplay")
        code = refused.wait(20)
        self.assertIsNotNone(code, "player refused by on_play still running: %r" % refused)
        self.assertNotEqual(code, 0, refused)
        self.assertTrue(self.hooks.find("/play", stream="noplay", action="on_play"))
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("live")
            status = c.play(sid, "noplay")
            self.assertEqual(status.status().get("code"), "NetStream.Play.Failed", status)
            self.assertTrue(c.closed_within(5), "refused player's connection left open")
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("live")
            status = c.play(sid, "ok")
            self.assertEqual(status.status().get("code"), "NetStream.Play.Start", status)
            media = c.wait_for(lambda m: m.type == rc.VIDEO, 10, "video")
            self.assertEqual(media.payload[0] >> 4, 1, "first video message is not a keyframe")
        play_body = self.hooks.wait("/play", stream="ok", action="on_play")
        self.assertTrue(play_body, self.hooks.bodies)
        self.assertEqual(play_body[0].get("app"), "live")
        # on_done: the player that left, then the publisher when it ends.
        self.assertTrue(self.hooks.wait("/done", stream="ok", action="on_stop", app="live"),
                        "no on_done notice for the player that left: %r" % self.hooks.bodies)
        self.finish_publisher(pub)
        self.assertTrue(self.hooks.wait("/done", stream="ok", action="on_unpublish", app="live"),
                        "no on_done notice for the publisher: %r" % self.hooks.bodies)

    def test_http_flv_plays_ask_on_play(self):
        pub, psid = self.start_publisher("live", "webok")
        self.send_frames(pub, psid, b"web", 2)
        self.wait_live("live", "webok")
        r = curl(self.junction.url("/live/noplay.flv"))
        self.assertEqual(r.status, 403, r.body)
        self.assertIn(b"on_play", r.body)
        self.assertEqual(http_flv_status(self.junction.url("/live/webok.flv")), "200")
        for name in ("noplay", "webok"):
            bodies = self.hooks.wait("/play", stream=name, action="on_play")
            self.assertTrue(bodies, self.hooks.bodies)
            self.assertEqual(bodies[-1].get("protocol"), "http-flv", bodies[-1])
            self.assertEqual(bodies[-1].get("app"), "live", bodies[-1])

    def test_on_connect_hook_gets_app_and_tcurl(self):
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            c.handshake()
            tc_url = "rtmp://127.0.0.1:%d/hooked" % self.junction.port("rtmp")
            reply = c.connect("hooked", tc_url=tc_url)
            self.assertEqual(reply.command_name, "_result", reply)
        bodies = self.hooks.wait("/connect", action="on_connect")
        self.assertTrue(bodies, self.hooks.bodies)
        mine = [b for b in bodies if b.get("tcUrl") == tc_url or b.get("app") == "hooked"]
        self.assertTrue(mine, "on_connect bodies carry no app/tcUrl: %r" % bodies)
        self.assertEqual(mine[0].get("app"), "hooked", mine[0])
        self.assertEqual(mine[0].get("tcUrl"), tc_url, mine[0])


# ---------------------------------------------------------------------------------------------
# 8. Policies: one name one publisher, tokens, allow lists, idle_streams = false


class CatchAllTest(RtmpTestCase):
    """Issue 16: naming one application kept no catch-all, and ffmpeg said "Unknown connect
    error". The built-in "*" stays unless the file says otherwise (rtmp.catch_all)."""
    rtmp_apps = [{"name": "secure", "publish_token": "secret"}]

    def test_other_applications_are_still_served(self):
        c, _sid = self.start_publisher("anything", "cam")
        self.addCleanup(c.close)
        with rc.RtmpClient(self.junction.port("rtmp")) as refused:
            refused.handshake()
            reply = refused.connect("secure")
            self.assertEqual(reply.command_name, "_result", reply)
            sid = refused.create_stream()
            status = refused.publish(sid, "cam")
            # The named application's own rule still holds.
            self.assertEqual(status.status().get("code"), "NetStream.Publish.Denied", status)


class PoliciesTest(RtmpTestCase):
    rtmp_config = {"catch_all": False}  # unknown applications are refused
    rtmp_apps = [
        {"name": "live"},
        {"name": "secure", "publish_token": "secret"},
        {"name": "lan", "allow_publish": ["10.0.0.0/8"]},
        {"name": "strict", "idle_streams": False},
        {"name": "members", "play_token": "letmein"},
    ]

    def test_play_token_over_rtmp_and_http_flv(self):
        pub, psid = self.start_publisher("members", "show")
        self.send_frames(pub, psid, b"members", 2)
        self.wait_live("members", "show")
        # RTMP: the token in the stream name's query.
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("members")
            self.assertEqual(c.play(sid, "show").status().get("code"), "NetStream.Play.Failed")
            self.assertTrue(c.closed_within(5))
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("members")
            self.assertEqual(c.play(sid, "show?token=letmein").status().get("code"), "NetStream.Play.Start")
        # HTTP-FLV: the same token in the URL's query.
        for query in ("", "?token=nope"):
            r = curl(self.junction.url("/members/show.flv" + query))
            self.assertEqual(r.status, 403, r.body)
            self.assertIn(b"token", r.body)
        self.assertEqual(http_flv_status(self.junction.url("/members/show.flv?token=letmein")), "200")

    def raw_publish(self, app, name):
        c = rc.RtmpClient(self.junction.port("rtmp"))
        self.addCleanup(c.close)
        sid = c.setup(app)
        return c, c.publish(sid, name)

    def test_second_publisher_gets_bad_name(self):
        first = self.publisher(self.junction.rtmp_url("live", "dup"), name="first")
        s = self.wait_live("live", "dup")
        owner = s["publisher"]["connection"]
        c, status = self.raw_publish("live", "dup")
        self.assertEqual(status.status().get("code"), "NetStream.Publish.BadName", status)
        self.assertEqual(status.status().get("level"), "error", status)
        self.assertGreater(c.create_stream(), 0)  # the connection stays usable (as FMS)
        second = self.publisher(self.junction.rtmp_url("live", "dup"), name="second")
        code = second.wait(15)
        self.assertIsNotNone(code, "second publisher of live/dup still running: %r" % second)
        self.assertNotEqual(code, 0, "second publisher of live/dup succeeded")
        self.assertTrue(first.running(), "first publisher ended when a second one was refused: "
                                         "%r" % first)
        now = find_stream(self.junction, "live", "dup")
        self.assertTrue(now and now["live"], now)
        self.assertEqual(now["publisher"]["connection"], owner, now)
        before = now["bytes_in"]
        self.assertTrue(wait_for(lambda: find_stream(self.junction, "live", "dup")["bytes_in"]
                                 > before, 5), "first publisher's bytes stopped arriving")
        self.finish_publisher(first)

    def test_publish_token(self):
        ok = self.publisher(self.junction.rtmp_url("secure", "x", query="token=secret"),
                            name="with-token", seconds=2)
        self.wait_live("secure", "x")
        self.finish_publisher(ok)
        without = self.publisher(self.junction.rtmp_url("secure", "y"), name="without-token",
                                 seconds=2)
        code = without.wait(15)
        self.assertIsNotNone(code, without)
        self.assertNotEqual(code, 0, "published to secure/y without the token")
        wrong = self.publisher(self.junction.rtmp_url("secure", "y", query="token=guess"),
                               name="wrong-token", seconds=2)
        code = wrong.wait(15)
        self.assertIsNotNone(code, wrong)
        self.assertNotEqual(code, 0, "published to secure/y with a wrong token")
        self.assertIsNone(find_stream(self.junction, "secure", "y"))
        c, status = self.raw_publish("secure", "z")
        self.assertEqual(status.status().get("code"), "NetStream.Publish.Denied", status)
        self.assertTrue(c.closed_within(5))
        self.assert_log(r"publish of 'secure/z' refused: missing or wrong token")

    def test_allow_publish_refuses_loopback(self):
        c, status = self.raw_publish("lan", "cam")
        self.assertEqual(status.status().get("code"), "NetStream.Publish.Denied", status)
        self.assertTrue(c.closed_within(5))
        self.assert_log(r"publish of 'lan/cam' refused: address not allowed to publish")
        pub = self.publisher(self.junction.rtmp_url("lan", "cam2"), name="lan", seconds=2)
        code = pub.wait(15)
        self.assertIsNotNone(code, pub)
        self.assertNotEqual(code, 0, "127.0.0.1 published although allow_publish is 10/8")
        # Playing there is open to anyone (allow_play empty).
        with rc.RtmpClient(self.junction.port("rtmp")) as p:
            status = p.play(p.setup("lan"), "cam")
            self.assertEqual(status.status().get("code"), "NetStream.Play.Start", status)

    def test_idle_streams_false(self):
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("strict")
            status = c.play(sid, "nobody")
            self.assertEqual(status.status().get("code"), "NetStream.Play.StreamNotFound", status)
        pub = self.publisher(self.junction.rtmp_url("strict", "somebody"), name="strict",
                             seconds=3)
        self.wait_live("strict", "somebody")
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            sid = c.setup("strict")
            status = c.play(sid, "somebody")
            self.assertEqual(status.status().get("code"), "NetStream.Play.Start", status)
            c.wait_for(lambda m: m.type == rc.VIDEO, 10, "video")
        self.finish_publisher(pub)

    def test_unknown_application_is_rejected(self):
        with rc.RtmpClient(self.junction.port("rtmp")) as c:
            c.handshake()
            reply = c.connect("nosuchapp")
            self.assertEqual(reply.command_name, "_error", reply)
            self.assertEqual(reply.status().get("code"), "NetConnection.Connect.Rejected", reply)
            self.assertTrue(c.closed_within(5))


# ---------------------------------------------------------------------------------------------
# 9. Bad input from a raw client, next to a healthy player


class HealthyPlayer(threading.Thread):
    """A raw-client player that reads all the time and counts media messages."""

    def __init__(self, port, app, name):
        super().__init__(daemon=True)
        self.client = rc.RtmpClient(port)
        sid = self.client.setup(app)
        status = self.client.play(sid, name)
        if status.status().get("code") != "NetStream.Play.Start":
            raise AssertionError("healthy player could not play: %r" % status)
        self.media = 0
        self.error = None
        self.stopping = threading.Event()

    def run(self):
        deadline = time.monotonic() + 600
        try:
            while not self.stopping.is_set() and time.monotonic() < deadline:
                try:
                    m = self.client.read_message(0.5)
                except rc.RtmpTimeout:
                    continue
                if m.type in (rc.AUDIO, rc.VIDEO):
                    self.media += 1
        except Exception as e:  # recorded for the tests to report
            if not self.stopping.is_set():
                self.error = e

    def stop(self):
        self.stopping.set()
        self.join(5)
        self.client.close()


class BadInputTest(RtmpTestCase):
    # debug: the handshake timeout's close is logged at debug level only.
    server_config = {"log_level": "debug"}
    rtmp_config = {"max_message_size": 65536, "handshake_timeout": "1s", "incomplete_message_timeout": "1s"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.publisher_proc = Proc(FFMPEG + ["-re", "-stream_loop", "-1", "-i", SOURCE, "-c",
                                            "copy", "-f", "flv",
                                            cls.junction.rtmp_url("live", "healthy")],
                                  os.path.join(cls.workdir, "healthy-publisher.log"))
        cls.addClassCleanup(cls.publisher_proc.stop)
        ok = wait_for(lambda: (find_stream(cls.junction, "live", "healthy") or {}).get("live"),
                      15, 0.1)
        if not ok:
            raise RuntimeError("healthy publisher did not start: %r" % cls.publisher_proc)
        cls.healthy = HealthyPlayer(cls.junction.port("rtmp"), "live", "healthy")
        cls.healthy.start()
        cls.addClassCleanup(cls.healthy.stop)

    def client(self):
        c = rc.RtmpClient(self.junction.port("rtmp"))
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addCleanup(c.close)
        return c

    def assert_unharmed(self):
        """The healthy player keeps receiving, and a new connection works."""
        self.assertIsNone(self.healthy.error, "healthy player failed: %r" % self.healthy.error)
        before = self.healthy.media
        self.assertTrue(wait_for(lambda: self.healthy.media >= before + 10, 5),
                        "healthy player stopped receiving (%d -> %d media messages; error %r)" % (
                            before, self.healthy.media, self.healthy.error))
        self.assertTrue(self.publisher_proc.running(), self.publisher_proc)
        with rc.RtmpClient(self.junction.port("rtmp")) as fresh:
            sid = fresh.setup("live")
            self.assertGreater(sid, 0)
            status = fresh.play(sid, "healthy")
            self.assertEqual(status.status().get("code"), "NetStream.Play.Start", status)
            fresh.wait_for(lambda m: m.type == rc.VIDEO, 5, "video")

    def assert_bad_input_closes(self, data, log_pattern, connect_first=False, handshake=True):
        errors = self.metric("junction_protocol_errors_total", protocol="rtmp")
        c = self.client()
        port = c.local_port
        if handshake:
            c.handshake()
        if connect_first:
            reply = c.connect("live")
            self.assertEqual(reply.command_name, "_result", reply)
        try:
            c.send_raw(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(c.closed_within(5), "connection still open 5 s after bad input %r" % (
            data[:40],))
        self.assert_log(r"127\.0\.0\.1:%d: %s" % (port, log_pattern))
        self.assertTrue(wait_for(lambda: self.metric("junction_protocol_errors_total",
                                                     protocol="rtmp") > errors, 5),
                        "junction_protocol_errors_total{protocol=\"rtmp\"} did not grow")
        self.assert_unharmed()

    def test_set_chunk_size_zero(self):
        self.assert_bad_input_closes(rc.set_chunk_size_message(0),
                                     r"RTMP Set Chunk Size outside 1\.\.16777215")

    def test_set_chunk_size_too_big(self):
        self.assert_bad_input_closes(rc.set_chunk_size_message(0x7FFFFFFF),
                                     r"RTMP Set Chunk Size outside 1\.\.16777215",
                                     connect_first=True)

    def test_message_longer_than_max_message_size(self):
        for length in (1 << 20, (16 << 20) - 1):
            with self.subTest(length=length):
                data = rc.chunk_header(0, 3, 0, length, rc.COMMAND_AMF0, 0) + \
                    rc.amf0_encode("connect") + b"\x00" * 100
                self.assert_bad_input_closes(
                    data, r"RTMP message longer than the configured maximum")

    def test_unfinished_messages_on_many_chunk_streams_are_limited(self):
        # Issue 13: all but the last chunk of an 8 MB message on each of 60 chunk streams, before
        # connect, took 4 connections to 2 GB. Before publish a connection may hold 256 KiB of
        # unfinished messages (rtmp.incomplete_bytes_before_publish); here messages are at most
        # 64 KiB, so each holds 60,000 bytes and the fifth ends it.
        data = rc.set_chunk_size_message(32768)
        for csid in range(3, 63):
            data += rc.chunk_header(0, csid, 0, 60000, rc.VIDEO, 1) + b"\x17" * 32768
        self.assert_bad_input_closes(data, r"RTMP incomplete messages exceed the connection's buffer limit")

    def test_a_message_left_unfinished_is_timed_out(self):
        timeouts = self.metric("junction_timeouts_total", protocol="rtmp")
        c = self.client()
        port = c.local_port
        c.handshake()
        self.assertEqual(c.connect("live").command_name, "_result")
        c.send_raw(rc.chunk_header(0, 7, 0, 1000, rc.VIDEO, 1) + b"\x17" * 128)  # 128 of 1000 bytes
        self.assertTrue(c.closed_within(8), "open 8 s past a 1 s incomplete_message_timeout")
        self.assert_log(r"127\.0\.0\.1:%d: a message stayed incomplete" % port)
        self.assertGreater(self.metric("junction_timeouts_total", protocol="rtmp"), timeouts)
        self.assert_unharmed()

    def test_continuation_on_unknown_chunk_stream(self):
        for fmt in (1, 2, 3):
            with self.subTest(fmt=fmt):
                data = rc.chunk_header(fmt, 5, 0, 10, rc.COMMAND_AMF0, 0) + b"\x02" * 10
                self.assert_bad_input_closes(
                    data, r"RTMP chunk continues a chunk stream that never had a full")

    def test_bad_handshake_versions(self):
        for version, pattern in ((6, r"encrypted RTMP \(RTMPE\) is not supported"),
                                 (4, r"unsupported RTMP version")):
            with self.subTest(version=version):
                self.assert_bad_input_closes(bytes([version]) + os.urandom(1536), pattern,
                                             handshake=False)

    def test_silent_client_handshake_timeout(self):
        timeouts = self.metric("junction_timeouts_total", protocol="rtmp")
        c = self.client()
        port = c.local_port
        self.assertTrue(c.closed_within(6), "silent connection open 6 s past a 1 s "
                                            "handshake_timeout")
        self.assert_log(r"127\.0\.0\.1:%d: closing: handshake not completed in time" % port)
        self.assertGreater(self.metric("junction_timeouts_total", protocol="rtmp"), timeouts)
        self.assert_unharmed()

    def test_nested_amf_connect_is_not_accepted(self):
        # connect whose command object nests 100 objects (the decoder's limit is 32).
        c = self.client()
        c.handshake()
        c.send_command("connect", 1, rc.nested_objects(100))
        try:
            reply = c.wait_reply(1, timeout=2)
        except (rc.RtmpTimeout, rc.RtmpClosed):
            reply = None
        self.assertIsNone(reply, "a connect nested 100 deep was answered: %r" % reply)
        self.assert_unharmed()

    def test_nested_amf_connect_closes_the_connection(self):
        # AMF nesting past 32 levels: a log line, and only this connection closes.
        c = self.client()
        port = c.local_port
        c.handshake()
        c.send_command("connect", 1, rc.nested_objects(100))
        self.assertTrue(c.closed_within(3), "connection with a 100-deep AMF connect left open")
        self.assert_log(r"127\.0\.0\.1:%d: .*AMF nesting deeper" % port, timeout=1)

    def test_ffmpeg_digest_and_raw_plain_handshakes(self):
        # ffmpeg sends a Flash 9 (digest) C1; the raw client a plain one (zero version field).
        s = find_stream(self.junction, "live", "healthy")
        self.assertTrue(s and s["live"], s)
        address = re.escape(s["publisher"]["address"])
        self.assert_log(r"rtmp conn=\d+ %s: handshake done \(digest\)" % address)
        c = self.client()
        c.handshake()
        self.assertEqual(c.connect("live").command_name, "_result")
        self.assert_log(r"rtmp conn=\d+ 127\.0\.0\.1:%d: handshake done \(plain\)" % c.local_port)

    def test_unknown_command_answers_error_and_keeps_connection(self):
        c = self.client()
        c.handshake()
        self.assertEqual(c.connect("live").command_name, "_result")
        reply = c.call("fooBar", 42)
        self.assertEqual(reply.command_name, "_error", reply)
        self.assertEqual(reply.status().get("code"), "NetConnection.Call.Failed", reply)
        self.assertGreater(c.create_stream(), 0)
        version = c.call("junction.version")
        self.assertEqual(version.command_name, "_result", version)
        self.assert_unharmed()

    def test_connect_answers_and_control_messages(self):
        c = self.client()
        c.handshake()
        reply = c.connect("live")
        self.assertEqual(reply.command_name, "_result", reply)
        self.assertEqual(reply.status().get("code"), "NetConnection.Connect.Success", reply)
        # Window Ack Size, Set Peer Bandwidth, Set Chunk Size (4096), in that order, before it.
        kinds = [k for k, _v in c.server_messages]
        self.assertEqual(kinds[:3], [rc.WINDOW_ACK_SIZE, rc.SET_PEER_BANDWIDTH,
                                     rc.SET_CHUNK_SIZE], c.server_messages)
        self.assertEqual(c.server_messages[:3], [(rc.WINDOW_ACK_SIZE, 2500000),
                                                 (rc.SET_PEER_BANDWIDTH, 2500000),
                                                 (rc.SET_CHUNK_SIZE, 4096)])
        self.assertEqual(c.in_chunk_size, 4096)

    def test_amf3_client_connects(self):
        for as_type_17 in (False, True):
            with self.subTest(command_type=17 if as_type_17 else 20):
                c = self.client()
                c.handshake()
                reply = c.connect("live", object_encoding=3, amf3_message=as_type_17)
                self.assertEqual(reply.command_name, "_result", reply)
                self.assertEqual(reply.status().get("code"), "NetConnection.Connect.Success")
                self.assertEqual(reply.status().get("objectEncoding"), 3, reply)
                self.assertGreater(c.create_stream(), 0)
        self.assert_unharmed()


if __name__ == "__main__":
    unittest.main()
