#!/usr/bin/python3
"""Soak and fault run: mixed load on one junction for a set time while clients misbehave, then a
check that everything it held was given back.

Load (all on 127.0.0.1, all bounded by the run's time):
  - RTMP fan-out: junction-load rtmp, 2 publishers x 15 players, exact frame accounting;
  - SIP: REGISTER and un-REGISTER of 20 users from their own sockets, over and over;
  - SIP calls through the proxy: sipp callers to a sipp echo (INVITE, 200, ACK, BYE);
  - gateway calls: junction-load gateway, 3 calls at a time, 15 s each, over and over;
  - recordings: ffmpeg publishes 3 s to a recording application, over and over.
Faults, in a loop: TCP connections that open and vanish, that stall half-way through the RTMP
handshake, garbage to every TCP port and to SIP over UDP, ffmpeg players and sipp phones killed
with SIGKILL mid-stream and mid-call.

Sampled every second: the server's RSS and open file descriptors, its connections, streams,
gateway lines, calls and RTP ports, active recordings. At the end (load stopped, a bounded wait
for things to settle) it fails when:
  - the server died or printed a sanitizer report;
  - anything is left open: connections (but the one asking), live streams, gateway lines, calls,
    RTP ports, active recordings, SIP flows;
  - file descriptors exceed the idle baseline by more than FD_SLACK;
  - RSS at the end exceeds RSS after the warm-up by more than RSS_GROWTH_MB and RSS_GROWTH_PCT
    (both: a small heap grows in percent, a large one in megabytes);
  - the frame accounting found a player short of frames (the players the run did not kill).

Usage: soak.py [--seconds N] [--report FILE]; JUNCTION_BIN and JUNCTION_LOAD_BIN name the
binaries (default build/). `make soak` runs 10 minutes; CI runs 3.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from junction_process import JunctionProcess, curl  # noqa: E402

FD_SLACK = 16           # descriptors over the idle baseline still allowed at the end
RSS_GROWTH_MB = 40      # after the warm-up
RSS_GROWTH_PCT = 50
SETTLE_SECONDS = 30     # for calls, flows and recordings to end after the load stops
BENCH_SIPP = os.path.join(ROOT, "bench", "sipp")


def load_bin():
    return os.path.abspath(os.environ.get("JUNCTION_LOAD_BIN") or os.path.join(ROOT, "build", "tools", "junction-load"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Soak:
    def __init__(self, seconds, workdir):
        self.seconds = seconds
        self.workdir = workdir
        self.end = None
        self.stop = threading.Event()
        self.samples = []
        self.events = {"faults": 0, "registrations": 0, "sip_calls": 0, "gateway_runs": 0, "recordings": 0,
                       "killed_players": 0, "killed_phones": 0}
        self.failures = []
        self.children = []
        self.lock = threading.Lock()
        self.load_reports = []

    # -- the server --

    def start_server(self):
        self.junction = JunctionProcess(
            workdir=self.workdir, shards=2,
            server={"max_connections_per_source": 0, "log_level": "warn"},
            rtmp_apps=[{"name": "rec", "record": True}, {"name": "*"}],
            sip={"authenticate": False, "udp_rate_limit": 0},
            extra={"gateway": {"rtp_timeout": "5s"}})
        self.junction.start()
        self.pid = self.junction.proc.pid
        self.rtmp = self.junction.port("rtmp")
        self.http = self.junction.port("http")
        host, port = self.junction.sip_address().rsplit(":", 1)
        self.sip = (host, int(port))

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=kw.pop("stdout", subprocess.DEVNULL),
                             stderr=kw.pop("stderr", subprocess.DEVNULL), cwd=self.workdir, **kw)
        with self.lock:
            self.children.append(p)
        return p

    def count(self, key, n=1):
        with self.lock:
            self.events[key] += n

    def running(self):
        return not self.stop.is_set() and time.monotonic() < self.end

    # -- what is measured --

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return -1

    def rss_mb(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return -1.0

    def held(self):
        """What the server holds now (gauges and lists)."""
        m = self.junction.metrics()
        streams = json.loads(curl(self.junction.url("/api/v1/streams")).body)["streams"]
        server = json.loads(curl(self.junction.url("/api/v1/server")).body)
        return {
            "connections": server["connections"],
            "live_streams": sum(1 for s in streams if s["live"]),
            "gateway_lines": m.sum("junction_gateway_lines"),
            "gateway_calls": m.sum("junction_gateway_calls"),
            "gateway_rtp_ports": m.sum("junction_gateway_rtp_ports"),
            "recordings_active": m.sum("junction_recordings_active"),
            "sip_media_relays": m.sum("junction_sip_media_relays"),
        }

    def sampler(self):
        start = time.monotonic()
        while not self.stop.is_set():
            try:
                sample = {"t": round(time.monotonic() - start, 1), "rss_mb": round(self.rss_mb(), 1), "fds": self.fds()}
                sample.update(self.held())
                self.samples.append(sample)
            except Exception as e:  # the server gone: the end check says so
                self.samples.append({"t": round(time.monotonic() - start, 1), "error": str(e)})
            self.stop.wait(1.0)

    # -- load --

    def rtmp_fanout(self):
        out = os.path.join(self.workdir, "fanout.json")
        with open(out, "w") as f:
            p = self.spawn([load_bin(), "rtmp", "--url", "rtmp://127.0.0.1:%d/live/soak" % self.rtmp,
                            "--publishers", "2", "--players", "15", "--duration", "%ds" % max(10, self.seconds - 5),
                            "--bitrate", "500k", "--audio-bitrate", "64k", "--shards", "1", "--json"], stdout=f)
            code = p.wait()
        try:
            with open(out) as f:
                report = json.load(f)
        except (OSError, ValueError):
            report = {}
        self.load_reports.append(("rtmp", code, report))

    def echo(self):
        """A sipp callee registered as echo@127.0.0.1 that answers PCMU and echoes RTP."""
        port, media = free_port(), free_port()
        self.spawn(["sipp", "-sf", os.path.join(BENCH_SIPP, "uas.xml"), "-i", "127.0.0.1", "-p", str(port),
                    "-mp", str(media), "-rtp_echo", "-m", "100000", "-timeout", "%ds" % (self.seconds + 120),
                    "-nostdin", "-bg"])
        done = subprocess.run(["sipp", "%s:%d" % self.sip, "-sf", os.path.join(BENCH_SIPP, "register_callee.xml"),
                               "-s", "echo", "-key", "callee_port", str(port), "-i", "127.0.0.1",
                               "-p", str(free_port()), "-m", "1", "-timeout", "10s", "-nostdin"],
                              cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        if done.returncode != 0:
            self.failures.append("the SIP echo did not register")

    def gateway_calls(self, tone):
        while self.running():
            left = int(self.end - time.monotonic())
            if left < 8:
                break
            p = self.spawn([load_bin(), "gateway", "--server", "127.0.0.1:%d" % self.rtmp, "--calls", "3",
                            "--ramp", "10", "--source", tone, "--duration", "%ds" % min(15, left - 5)])
            p.wait()
            self.count("gateway_runs")

    def sip_calls(self):
        while self.running():
            p = self.spawn(["sipp", "%s:%d" % self.sip, "-sf", os.path.join(BENCH_SIPP, "uac.xml"), "-s", "echo",
                            "-i", "127.0.0.1", "-p", str(free_port()), "-m", "3", "-r", "3", "-timeout", "20s",
                            "-nostdin"])
            p.wait()
            self.count("sip_calls", 3)

    def registrations(self):
        socks = []
        for _ in range(20):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(2)
            socks.append(s)
        n = 0
        try:
            while self.running():
                for i, s in enumerate(socks):
                    expires = 0 if n % 2 else 60
                    port = s.getsockname()[1]
                    msg = ("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-s%d-%d\r\n"
                           "Max-Forwards: 70\r\nFrom: <sip:soak%d@127.0.0.1>;tag=s%d\r\nTo: <sip:soak%d@127.0.0.1>\r\n"
                           "Call-ID: soak-%d@127.0.0.1\r\nCSeq: %d REGISTER\r\n"
                           "Contact: <sip:soak%d@127.0.0.1:%d>;expires=%d\r\nContent-Length: 0\r\n\r\n"
                           % (port, i, n, i, i, i, i, n + 1, i, port, expires))
                    s.sendto(msg.encode(), self.sip)
                    try:
                        s.recvfrom(65536)
                        self.count("registrations")
                    except socket.timeout:
                        pass
                n += 1
                self.stop.wait(0.5)
        finally:
            for s in socks:
                s.close()

    def recordings(self):
        n = 0
        while self.running() and time.monotonic() < self.end - 6:
            p = self.spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
                            "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=500",
                            "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
                            "-f", "flv", "rtmp://127.0.0.1:%d/rec/soak-%d" % (self.rtmp, n)])
            p.wait()
            n += 1
            self.count("recordings")

    # -- faults --

    def faults(self):
        rnd = random.Random(1)
        stalled = []
        tcp_ports = [self.rtmp, self.http]
        try:
            while self.running():
                kind = rnd.choice(["vanish", "stall", "garbage", "udp_garbage", "kill_player", "kill_phone"])
                try:
                    if kind == "vanish":
                        socket.create_connection(("127.0.0.1", rnd.choice(tcp_ports)), timeout=2).close()
                    elif kind == "stall":
                        s = socket.create_connection(("127.0.0.1", self.rtmp), timeout=2)
                        s.sendall(b"\x03" + os.urandom(700))  # a C0 and most of C1, never the rest
                        stalled.append((time.monotonic(), s))
                    elif kind == "garbage":
                        with socket.create_connection(("127.0.0.1", rnd.choice(tcp_ports)), timeout=2) as s:
                            s.sendall(os.urandom(rnd.randrange(1, 8192)))
                    elif kind == "udp_garbage":
                        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                            s.sendto(os.urandom(rnd.randrange(1, 1400)), self.sip)
                    elif kind == "kill_player":
                        p = self.spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i",
                                        "rtmp://127.0.0.1:%d/live/soak-0" % self.rtmp, "-f", "null", "-"])
                        time.sleep(rnd.uniform(0.5, 2.0))  # mid-stream, wherever that is
                        p.send_signal(signal.SIGKILL)
                        p.wait()
                        self.count("killed_players")
                    elif kind == "kill_phone":
                        p = self.spawn(["sipp", "%s:%d" % self.sip, "-sf", os.path.join(BENCH_SIPP, "uac.xml"),
                                        "-s", "echo", "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1",
                                        "-d", "10000", "-timeout", "20s", "-nostdin"])
                        time.sleep(rnd.uniform(0.3, 1.5))  # mid-call
                        p.send_signal(signal.SIGKILL)
                        p.wait()
                        self.count("killed_phones")
                except OSError:
                    pass
                self.count("faults")
                now = time.monotonic()
                for item in [x for x in stalled if now - x[0] > 5]:
                    item[1].close()
                    stalled.remove(item)
                self.stop.wait(rnd.uniform(0.05, 0.3))
        finally:
            for _t, s in stalled:
                s.close()

    # -- the run --

    def run(self):
        self.start_server()
        tone = os.path.join(self.workdir, "tone.flv")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=1000:sample_rate=16000", "-t", "20", "-c:a", "libspeex", "-ar", "16000",
                        "-ac", "1", "-f", "flv", tone], check=True, timeout=60)
        idle = {"rss_mb": self.rss_mb(), "fds": self.fds()}
        self.echo()
        self.end = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.sampler, daemon=True)]
        for target, args in ((self.rtmp_fanout, ()), (self.gateway_calls, (tone,)), (self.sip_calls, ()),
                             (self.registrations, ()), (self.recordings, ()), (self.faults, ())):
            threads.append(threading.Thread(target=target, args=args, daemon=True))
        for t in threads:
            t.start()
        warm = None
        while time.monotonic() < self.end:
            time.sleep(1)
            if warm is None and time.monotonic() > self.end - self.seconds * 0.8:
                warm = self.rss_mb()
            if self.junction.proc.poll() is not None:
                self.failures.append("the server exited (%s) during the run" % self.junction.proc.returncode)
                break
        # The load stops by itself; wait for the loops, then for the server to settle.
        for t in threads[1:]:
            t.join(timeout=60)
        with self.lock:
            children = list(self.children)
        for p in children:
            if p.poll() is None and p.args[0] != "sipp":
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["pkill", "-f", "sipp -sf %s" % os.path.join(BENCH_SIPP, "uas.xml")], check=False)
        settled = self.settle()
        self.stop.set()
        threads[0].join(timeout=5)
        end = {"rss_mb": self.rss_mb(), "fds": self.fds()}
        return self.verdict(idle, warm, end, settled)

    def settle(self):
        deadline = time.monotonic() + SETTLE_SECONDS
        held = {}
        while time.monotonic() < deadline:
            try:
                held = self.held()
            except Exception as e:
                return {"error": str(e)}
            if held["connections"] <= 1 and all(v == 0 for k, v in held.items() if k != "connections"):
                break
            time.sleep(0.5)
        return held

    def verdict(self, idle, warm, end, settled):
        if self.junction.proc.poll() is not None:
            self.failures.append("the server is not running at the end (exit %s)" % self.junction.proc.returncode)
        report = self.junction.sanitizer_report()
        if report:
            self.failures.append("sanitizer report:\n" + report[:3000])
        for key, value in settled.items():
            limit = 1 if key == "connections" else 0
            if not isinstance(value, (int, float)) or value > limit:
                self.failures.append("left open after %d s: %s = %s" % (SETTLE_SECONDS, key, value))
        if end["fds"] > idle["fds"] + FD_SLACK:
            self.failures.append("file descriptors %d at the end against %d idle (slack %d)"
                                 % (end["fds"], idle["fds"], FD_SLACK))
        if warm and end["rss_mb"] > warm + RSS_GROWTH_MB and end["rss_mb"] > warm * (1 + RSS_GROWTH_PCT / 100):
            self.failures.append("RSS grew from %.1f MB after the warm-up to %.1f MB" % (warm, end["rss_mb"]))
        for kind, code, r in self.load_reports:
            if not r:
                self.failures.append("junction-load %s gave no report (exit %s)" % (kind, code))
            elif r.get("players_short") or r.get("players_disconnected"):
                self.failures.append("junction-load %s: %s players short, %s lost"
                                     % (kind, r.get("players_short"), r.get("players_disconnected")))
        return {
            "seconds": self.seconds, "idle": idle, "after_warmup_rss_mb": warm, "end": end, "settled": settled,
            "events": self.events, "bounds": {"fd_slack": FD_SLACK, "rss_growth_mb": RSS_GROWTH_MB,
                                              "rss_growth_pct": RSS_GROWTH_PCT, "settle_seconds": SETTLE_SECONDS},
            "fanout": [r for k, _c, r in self.load_reports if k == "rtmp"],
            "peak": {k: max((s.get(k, 0) for s in self.samples if k in s), default=0)
                     for k in ("rss_mb", "fds", "connections", "gateway_calls", "gateway_rtp_ports", "live_streams")},
            "samples": self.samples, "failures": self.failures,
        }

    def cleanup(self):
        self.stop.set()
        with self.lock:
            children = list(self.children)
        for p in children:
            if p.poll() is None:
                p.kill()
        subprocess.run(["pkill", "-f", "sipp -sf %s" % os.path.join(BENCH_SIPP, "uas.xml")], check=False)
        self.junction.stop(timeout=10)
        self.junction.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--report", default=os.environ.get("SOAK_REPORT", ""))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="junction-soak-")
    soak = Soak(args.seconds, workdir)
    try:
        result = soak.run()
    finally:
        soak.cleanup()
    text = json.dumps(result, indent=1)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    summary = {k: result[k] for k in ("seconds", "idle", "after_warmup_rss_mb", "end", "settled", "events", "peak")}
    print(json.dumps(summary, indent=1))
    if result["failures"]:
        print("SOAK FAILED:\n- " + "\n- ".join(result["failures"]))
        print("work dir kept: " + workdir)
        return 1
    subprocess.run(["rm", "-rf", workdir], check=False)
    print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
