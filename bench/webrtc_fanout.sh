#!/usr/bin/env bash
# webrtc_fanout.sh: WebRTC fan-out. One RTMP publisher (junction-load, synthetic H.264 at
# BITRATE), N WHEP players (junction-load --whep: ICE, DTLS, SRTP, H.264 depacketized, every
# frame's stamp checked), for each N in PLAYERS. Measured per run, on a fresh junction:
#   - junction's CPU (utime+stime, all threads) over a WINDOW once every player is connected,
#     and the RTP bytes it sent to players in that window (junction_whep_bytes_sent_total):
#     CPU-seconds per delivered gigabit;
#   - memory per subscriber: junction's RSS with N players connected less its RSS with the
#     publisher alone, over N;
#   - time from the WHEP POST to the first keyframe (junction-load's first_keyframe_ms, which a
#     GOP of GOP frames bounds: a player joining waits for the next keyframe when the last one is
#     more than a second old);
#   - frames missing at the players and junction-load's latency.
# Janus (the streaming plugin fed by the same RTP) side by side is not in this script yet
# (docs/benchmarks.md says so).
#
# Usage: bench/webrtc_fanout.sh   (settings as environment variables)
#   PLAYERS ("100 300"), BITRATE (2M), GOP (25), DURATION (20: the publisher's run, s),
#   RAMP (200 players a second), SETTLE (2 s), SHARDS (nproc), LOAD_SHARDS (1),
#   JUNCTION (build/src/junction), LOAD (build/tools/junction-load), OUT (a JSON file of results;
#   the evidence goes to docs/bench-results/ as for every script)
# Loopback only. Every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

die() { echo "webrtc_fanout: $*" >&2; exit 1; }

PLAYERS=${PLAYERS:-"100 300"}
BITRATE=${BITRATE:-2M}
GOP=${GOP:-25}
DURATION=${DURATION:-20}
RAMP=${RAMP:-200}
SETTLE=${SETTLE:-2}
SHARDS=${SHARDS:-$(nproc)}
LOAD_SHARDS=${LOAD_SHARDS:-1}
JUNCTION=${JUNCTION:-build/src/junction}
LOAD=${LOAD:-build/tools/junction-load}
OUT=${OUT:-}
[[ -x $JUNCTION ]] || die "no junction at $JUNCTION (make build)"
[[ -x $LOAD ]] || die "no junction-load at $LOAD (make build)"
CLK=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/webrtc-fanout.XXXXXX)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

metric() {  # the sum over shards of a counter or gauge of junction's /metrics
  curl -s --max-time 5 "http://127.0.0.1:$http/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" { s += $2 } END { printf "%d", s + 0 }'
}

results="["
for n in $PLAYERS; do
  http=$(free_port $((18080 + RANDOM % 500)))
  rtmp=$(free_port $((19350 + RANDOM % 500)))
  cat >"$work/junction.toml" <<EOF
[server]
log_level = "warn"
shards = $SHARDS
[http]
listen = ["127.0.0.1:$http"]
access_log = ""
[rtmp]
listen = ["127.0.0.1:$rtmp"]
[sip]
listen = ["127.0.0.1:0"]
[webrtc]
max_peers = $((n + 100))
EOF
  "$JUNCTION" --config "$work/junction.toml" >"$work/junction.out" 2>"$work/junction.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening: webrtc" "$work/junction.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening: webrtc" "$work/junction.out" || die "junction did not start: $(tail -3 "$work/junction.err")"

  "$LOAD" rtmp --url "rtmp://127.0.0.1:$rtmp/live/fanout" --players "$n" --whep "http://127.0.0.1:$http" \
    --bitrate "$BITRATE" --gop "$GOP" --audio-bitrate 0 --duration "${DURATION}s" --ramp "$RAMP" \
    --shards "$LOAD_SHARDS" --json >"$work/load.json" 2>"$work/load.err" &
  load=$!
  sleep 0.8
  rss_alone=$(rss_of "$pid")
  # Every player connected (bounded by the ramp and a margin).
  for _ in $(seq $((n / RAMP * 10 + 100))); do
    [[ $(metric junction_whep_sessions) -ge $n ]] && break
    sleep 0.1
  done
  connected=$(metric junction_whep_sessions)
  sleep "$SETTLE"
  window=$((DURATION - 1 - n / RAMP - SETTLE - 3))
  ((window >= 3)) || die "DURATION $DURATION leaves no measuring window for $n players"
  t0=$(ticks_of "$pid"); b0=$(metric junction_whep_bytes_sent_total)
  sleep "$window"
  t1=$(ticks_of "$pid"); b1=$(metric junction_whep_bytes_sent_total)
  rss_full=$(rss_of "$pid")
  wait "$load" || true
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  [[ -s $work/load.json ]] || die "junction-load gave no report for $n players: $(tail -3 "$work/load.err")"

  run=$(python3 - "$work/load.json" <<EOF
import json, sys
load = json.load(open(sys.argv[1]))
cpu_s = ($t1 - $t0) / $CLK
gbit = ($b1 - $b0) * 8 / 1e9
print(json.dumps({
    "players": $n, "connected": $connected, "window_s": $window, "junction_cpu_s": round(cpu_s, 3),
    "delivered_gbit": round(gbit, 4), "delivered_mbps": round(gbit * 1000 / $window, 1),
    "cpu_s_per_gbit": round(cpu_s / gbit, 3) if gbit else None,
    "rss_alone_kib": $rss_alone, "rss_full_kib": $rss_full,
    "kib_per_subscriber": round(($rss_full - $rss_alone) / $n, 1),
    "first_keyframe_ms": load.get("first_keyframe_ms"), "latency_ms": load.get("latency_ms"),
    "players_completed": load.get("players_completed"), "missing_frames": load.get("missing_frames"),
}))
EOF
)
  echo "$run"
  results+="$run,"
done
results="${results%,}]"
[[ -n $OUT ]] && echo "$results" | python3 -m json.tool >"$OUT"
echo "$results" >"$work/results.json"
BENCH_COMMAND="PLAYERS=\"$PLAYERS\" BITRATE=$BITRATE GOP=$GOP DURATION=$DURATION SHARDS=$SHARDS LOAD_SHARDS=$LOAD_SHARDS bash bench/webrtc_fanout.sh" \
  save_evidence webrtc-fanout "$work/results.json"
echo "$results" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
print("%8s %10s %12s %14s %12s %14s %10s" % ("players", "Mbit/s", "CPU s/Gbit", "KiB/subscriber", "first ms p50", "latency p50", "missing"))
for r in rows:
    print("%8d %10.1f %12s %14.1f %12s %14s %10s" % (r["players"], r["delivered_mbps"], r["cpu_s_per_gbit"],
          r["kib_per_subscriber"], (r["first_keyframe_ms"] or {}).get("p50"), (r["latency_ms"] or {}).get("p50"),
          r["missing_frames"]))
'
