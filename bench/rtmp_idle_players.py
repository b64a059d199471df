#!/usr/bin/python3
"""Memory per idle RTMP player: opens N players of a stream nobody publishes (each does the
handshake, connect, createStream and play, then waits) and reports the server's resident memory
growth per player. Loopback only; bounded in count and time.

  bench/rtmp_idle_players.py --bin build/src/junction --players 1000
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import tempfile
import time


def amf_string(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_number(x):
    return b"\x00" + struct.pack(">d", x)


def amf_object(pairs):
    out = b"\x03"
    for k, v in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + v
    return out + b"\x00\x00\x09"


def chunked(csid, msg_type, stream_id, body, chunk=128):
    out = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(body))[1:] + bytes([msg_type])
    out += struct.pack("<I", stream_id)
    for i in range(0, len(body), chunk):
        if i:
            out += bytes([0xC0 | csid])
        out += body[i:i + chunk]
    return out


def player_bytes(app, name):
    connect = amf_string("connect") + amf_number(1) + amf_object(
        [("app", amf_string(app)), ("tcUrl", amf_string("rtmp://127.0.0.1/" + app))])
    create = amf_string("createStream") + amf_number(2) + b"\x05"
    play = amf_string("play") + amf_number(0) + b"\x05" + amf_string(name) + amf_number(-2)
    return chunked(3, 20, 0, connect) + chunked(3, 20, 0, create) + chunked(8, 20, 1, play)


def open_player(port, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"\x03" + bytes(1536))  # C0 + plain C1
    got = b""
    while len(got) < 1 + 1536 * 2:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed during the handshake")
        got += chunk
    s.sendall(got[1:1537])  # C2 echoes S1
    s.sendall(payload)
    return s


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def save_evidence(results, command):
    """The figures as JSON under docs/bench-results, through bench/lib.sh's save_evidence."""
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(results, f)
    try:
        subprocess.run(["bash", "-c", 'source "$0/lib.sh" && save_evidence idle-players "$1"', here, f.name],
                       env=dict(os.environ, BENCH_COMMAND=command), check=True, timeout=30)
    finally:
        os.unlink(f.name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/src/junction")
    ap.add_argument("--players", type=int, default=1000)
    ap.add_argument("--shards", type=int, default=2)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="junction-idle-")
    conf = os.path.join(work, "j.toml")
    with open(conf, "w") as f:
        f.write('[server]\nlog_level = "warn"\nmax_connections_per_source = 0\n[http]\nlisten = ["127.0.0.1:0"]\naccess_log = ""\n'
                '[rtmp]\nlisten = ["127.0.0.1:0"]\nping_interval = "1h"\nidle_timeout = "1h"\n')
    proc = subprocess.Popen([args.bin, "--config", conf, "--shards", str(args.shards)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    deadline = time.time() + 10
    while port is None and time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("listening: rtmp tcp"):
            port = int(line.rsplit(":", 1)[1])
    try:
        warm = [open_player(port, player_bytes("live", "idle")) for _ in range(20)]
        time.sleep(1.0)
        before = rss_kib(proc.pid)
        players = []
        payload = player_bytes("live", "idle")
        for _ in range(args.players):
            players.append(open_player(port, payload))
        time.sleep(2.0)
        after = rss_kib(proc.pid)
        per = (after - before) * 1024 / args.players
        print("idle players: %d, RSS before %d KiB, after %d KiB: %.1f KiB per player"
              % (args.players, before, after, per / 1024))
        save_evidence({"players": args.players, "shards": args.shards, "rss_before_kib": before,
                       "rss_after_kib": after, "kib_per_player": round(per / 1024, 2)},
                      "/usr/bin/python3 bench/rtmp_idle_players.py --players %d --shards %d" % (args.players, args.shards))
        for s in players + warm:
            s.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
