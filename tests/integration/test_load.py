"""junction-load against a real junction: correctness of the load generator and of the server's
fan-out under it (every player gets every frame, in order). No timing assertions: the machine
is shared, so only counts are checked.

Run from tests/integration:
    JUNCTION_BIN=../../build/src/junction JUNCTION_LOAD_BIN=../../build/tools/junction-load \\
        /usr/bin/python3 -m unittest -v test_load

Each test class starts its own junction (temporary config, listeners on 127.0.0.1 port 0,
--shards 2) and kills it afterwards. Nothing but 127.0.0.1 is contacted.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

import junction_process as jp
from junction_process import JunctionProcess, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LOAD_BIN = os.path.normpath(os.path.join(HERE, "..", "..", "build", "tools", "junction-load"))
# A 1 s H.264 + AAC file (FFmpeg, 64x48, 10 fps), also the FLV reader's fuzz seed.
SAMPLE_FLV = os.path.normpath(os.path.join(HERE, "..", "fuzz", "corpus", "flv_reader",
                                           "ffmpeg_h264_aac.flv"))

# Every key of the JSON report that bench scripts read.
REPORT_KEYS = (
    "url", "duration_s", "publishers", "players_per_stream", "players_started",
    "players_completed", "connect_failures", "handshake_failures", "publish_failures",
    "play_failures", "frames_sent", "bytes_sent", "frames_received_total",
    "bytes_received_total", "frames_received_per_player", "missing_frames",
    "out_of_order_frames", "players_with_missing_frames", "first_keyframe_ms", "latency_ms",
    "delivered_mbps", "tool_cpu_seconds", "tool_cpu_percent", "short_frames", "players_short",
    "joined_at_video_frame")


BENCH_SIPP = os.path.normpath(os.path.join(HERE, "..", "..", "bench", "sipp"))


def load_bin():
    return os.path.abspath(os.environ.get("JUNCTION_LOAD_BIN") or DEFAULT_LOAD_BIN)


def setUpModule():
    for binary in (jp.junction_bin(), load_bin()):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise RuntimeError("binary not found or not executable: %s (set JUNCTION_BIN and "
                               "JUNCTION_LOAD_BIN)" % binary)


def run_load(*args, timeout=60):
    """Runs junction-load; returns (exit code, stdout text, stderr text)."""
    done = subprocess.run([load_bin()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode(
        "utf-8", "replace")


def free_port():
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoadAgainstJunction(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = JunctionProcess(shards=2).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()
            cls.server.cleanup()

    def url(self, stream):
        return "rtmp://%s/live/%s" % (self.server.rtmp_address(), stream)

    def run_json(self, *args):
        code, out, err = run_load("rtmp", *args, "--json", "--shards", "2")
        self.assertEqual(code, 0, "junction-load failed: %s\n%s\nserver: %s"
                         % (err, out, self.server.stderr_text()[-2000:]))
        report = json.loads(out)
        for key in REPORT_KEYS:
            self.assertIn(key, report)
        return report

    def assert_every_frame_delivered(self, report, players):
        self.assertEqual(report["players_started"], players, report)
        self.assertEqual(report["players_completed"], players, report)
        for key in ("connect_failures", "handshake_failures", "publish_failures",
                    "play_failures", "missing_frames", "out_of_order_frames",
                    "players_with_missing_frames", "misrouted_frames", "unidentified_frames",
                    "players_disconnected", "short_frames", "players_short"):
            self.assertEqual(report[key], 0, "%s: %r" % (key, report))
        self.assertGreater(report["frames_sent"], 0, report)
        self.assertGreater(report["frames_received_total"], 0, report)
        self.assertGreater(report["frames_received_per_player"]["min"], 0, report)
        # A player never gets more than was published (plus nothing invented).
        self.assertLessEqual(report["frames_received_per_player"]["max"], report["frames_sent"])

    def test_one_publisher_twenty_players(self):
        report = self.run_json("--url", self.url("fanout"), "--players", "20",
                               "--duration", "5s", "--warmup", "1s")
        self.assert_every_frame_delivered(report, 20)
        self.assertEqual(report["publishers"], 1)
        self.assertEqual(report["players_per_stream"], 20)
        self.assertEqual(report["url"], self.url("fanout"))
        # Synthetic audio and video at 25 fps + ~43/s: well over 200 frames in 5 s.
        self.assertGreater(report["frames_sent"], 200, report)
        self.assertGreater(report["bytes_received_total"], report["bytes_sent"], report)

    def test_players_over_whep_get_every_frame(self):
        # The same count of WebRTC players (ICE, DTLS, SRTP, H.264 depacketized): every stamped
        # video frame from the first keyframe on, none missing or out of order.
        report = self.run_json("--url", self.url("webrtc"), "--players", "10", "--whep",
                               "http://" + self.server.http_address(), "--duration", "5s",
                               "--warmup", "1s", "--gop", "25", "--audio-bitrate", "0")
        self.assert_every_frame_delivered(report, 10)
        self.assertEqual(self.server.metrics().sum("junction_whep_plays_total"), 10)
        self.assertTrue(wait_for(lambda: self.server.metrics().sum("junction_webrtc_peers") == 0, 10))

    def test_several_streams_reach_only_their_own_players(self):
        report = self.run_json("--url", self.url("multi"), "--publishers", "3",
                               "--players", "4", "--duration", "3s", "--warmup", "500ms",
                               "--bitrate", "500k", "--audio-bitrate", "64k")
        self.assert_every_frame_delivered(report, 12)

    def test_an_flv_file_looped(self):
        # 1 s of file over 4 s: three loops, timestamps still increasing for the players.
        report = self.run_json("--url", self.url("file"), "--publishers", "2", "--players", "5",
                               "--duration", "4s", "--warmup", "500ms", "--source", SAMPLE_FLV)
        self.assert_every_frame_delivered(report, 10)

    def test_players_of_an_existing_stream(self):
        # --publishers 0: play a name nobody publishes (junction keeps idle players); the run
        # still completes, with nothing received.
        report = self.run_json("--url", self.url("nobody"), "--publishers", "0", "--players",
                               "3", "--duration", "2s", "--warmup", "0s")
        self.assertEqual(report["players_completed"], 3, report)
        self.assertEqual(report["frames_received_total"], 0, report)
        # Someone else's stream: where it ends is unknown, so no exact accounting is claimed.
        self.assertIsNone(report["short_frames"], report)
        self.assertIsNone(report["players_short"], report)


class GatewayLoad(unittest.TestCase):
    """junction-load gateway: siprtmp clients call a sipp echo through junction's gateway (Speex
    16 kHz from the client, PCMU to the phone, and back); the tool counts what comes back."""

    def test_calls_through_the_gateway_come_back(self):
        workdir = tempfile.mkdtemp(prefix="junction-it-gwload-")
        self.addCleanup(shutil.rmtree, workdir, True)
        server = JunctionProcess(workdir=workdir, sip={"authenticate": False, "udp_rate_limit": 0}).start()
        self.addCleanup(server.cleanup)
        tone = os.path.join(workdir, "tone.flv")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=1000:sample_rate=16000", "-t", "10", "-c:a", "libspeex", "-ar", "16000",
                        "-ac", "1", "-f", "flv", tone], check=True, timeout=60)
        echo_port, media_port = free_port(), free_port()
        echo = subprocess.Popen(["sipp", "-sf", os.path.join(BENCH_SIPP, "uas.xml"), "-i", "127.0.0.1",
                                 "-p", str(echo_port), "-mp", str(media_port), "-rtp_echo", "-m", "2",
                                 "-timeout", "60s", "-nostdin"], cwd=workdir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: echo.poll() is None and echo.kill())
        registered = subprocess.run(["sipp", server.sip_address(), "-sf", os.path.join(BENCH_SIPP, "register_callee.xml"),
                                     "-s", "echo", "-key", "callee_port", str(echo_port), "-i", "127.0.0.1",
                                     "-p", str(free_port()), "-m", "1", "-timeout", "10s", "-nostdin"],
                                    cwd=workdir, capture_output=True, timeout=30)
        self.assertEqual(registered.returncode, 0, registered.stdout[-2000:])
        code, out, err = run_load("gateway", "--server", server.rtmp_address(), "--calls", "2", "--ramp", "10",
                                  "--source", tone, "--duration", "4s", timeout=90)
        self.assertEqual(code, 0, "%s\n%s\n%s" % (out, err, server.stderr_text()[-2000:]))
        report = json.loads(out)
        self.assertEqual(report["set_up"], 2, report)
        self.assertEqual(report["failures"], [], report)
        # 4 s of 20 ms frames per call: about 400 sent; what was in flight at the hang-up may
        # not come back, nothing else may be lost.
        self.assertGreater(report["frames_sent"], 300, report)
        self.assertGreater(report["frames_received"], 0.95 * report["frames_sent"], report)


class CommandLine(unittest.TestCase):
    def test_usage_errors_exit_2(self):
        for args in (["rtmp"],
                     ["rtmp", "--url", "http://127.0.0.1/live/s"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--duration", "soon"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--bitrate", "fast"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--no-such-option"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--source", "/nonexistent.flv"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--publishers", "0"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--whep", "127.0.0.1:8080"],
                     ["rtmp", "--url", "rtmp://127.0.0.1/live/s", "--whep", "http://192.0.2.1:8080"],
                     []):
            code, _out, err = run_load(*args, timeout=20)
            self.assertEqual(code, 2, "%r: exit %d, %s" % (args, code, err))

    def test_remote_addresses_are_refused_without_allow_remote(self):
        # TEST-NET-1: never contacted, the refusal comes first.
        code, _out, err = run_load("rtmp", "--url", "rtmp://192.0.2.1/live/s", timeout=20)
        self.assertEqual(code, 2, err)
        self.assertIn("--allow-remote", err)

    def test_help_exits_0(self):
        code, out, _err = run_load("rtmp", "--help", timeout=20)
        self.assertEqual(code, 0)
        for option in ("--url", "--publishers", "--players", "--ramp", "--duration", "--warmup",
                       "--source", "--bitrate", "--fps", "--gop", "--audio-bitrate", "--shards",
                       "--json", "--progress", "--allow-remote"):
            self.assertIn(option, out)

    def test_players_lost_with_the_server_exit_3(self):
        # The exact accounting's other half: a run that took place but whose players did not
        # get their frames fails (exit 3), so benchmark scripts cannot report it as a result.
        server = JunctionProcess(shards=1).start()
        self.addCleanup(server.cleanup)
        url = "rtmp://%s/live/lost" % server.rtmp_address()
        load = subprocess.Popen([load_bin(), "rtmp", "--url", url, "--players", "4", "--duration", "20s",
                                 "--warmup", "200ms", "--json", "--shards", "1"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: load.poll() is None and load.kill())
        self.assertTrue(wait_for(lambda: server.metrics().sum("junction_rtmp_plays_total") >= 4, 15),
                        server.stderr_text()[-2000:])
        server.kill()
        out, err = load.communicate(timeout=60)
        self.assertEqual(load.returncode, 3, err)
        report = json.loads(out)
        self.assertEqual(report["players_disconnected"], 4, report)
        self.assertIn(b"4 lost", err)

    def test_nothing_listening_exits_1_with_a_report(self):
        code, out, err = run_load("rtmp", "--url", "rtmp://127.0.0.1:%d/live/s" % free_port(),
                                  "--players", "5", "--duration", "2s", "--json", timeout=30)
        self.assertEqual(code, 1, err)
        report = json.loads(out)
        self.assertEqual(report["connect_failures"], 1, report)
        self.assertEqual(report["players_started"], 0, report)


if __name__ == "__main__":
    unittest.main()
