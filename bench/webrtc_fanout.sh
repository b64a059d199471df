#!/usr/bin/env bash
# webrtc_fanout.sh: WebRTC fan-out. One RTMP publisher (junction-load, synthetic H.264 at
# BITRATE), N WHEP players (junction-load --whep: ICE, DTLS, SRTP, H.264 depacketized, every
# frame's stamp checked), for each N in PLAYERS. Measured per run, on a fresh junction:
#   - junction's CPU (utime+stime, all threads) over a WINDOW once every player is connected,
#     and the RTP bytes it sent to players in that window (junction_whep_bytes_sent_total):
#     CPU-seconds per delivered gigabit;
#   - memory per subscriber: junction's anonymous resident memory (RssAnon) with N players
#     connected less with the publisher alone, over N (the whole RSS's growth is reported too:
#     it adds the pages of OpenSSL, libsrtp and Junction's own WebRTC code touched by the first
#     players, about 3 MB paged in once, shared with any process that maps them);
#   - time from the WHEP POST to the first keyframe (junction-load's first_keyframe_ms, which a
#     GOP of GOP frames bounds: a player joining waits for the next keyframe when the last one is
#     more than a second old);
#   - frames missing at the players and junction-load's latency.
# And the same for Janus (Debian's janus, its streaming plugin), side by side in the same run:
# one mountpoint fed the same synthetic frames as RTP (junction-load --rtp-to), N players
# through Janus's HTTP API (junction-load --janus: create, attach, watch, Janus's offer, start
# with the answer), Janus's CPU and RSS measured the same way. Janus puts no candidate on a
# loopback interface, so the run goes into a network namespace of its own (unshare -n) with a
# veth pair whose two ends carry 10.77.0.1 and 10.77.0.2: everything stays on this machine (this
# needs root, as CI and this machine's sessions are; JANUS= runs Junction alone without it).
# Delivered bits for both servers: junction-load's received rate (UDP payload, SRTP included)
# over the window, one definition for both; Junction's own counter is kept beside it.
#
# Usage: bench/webrtc_fanout.sh   (settings as environment variables)
#   PLAYERS ("100 300"), BITRATE (2M), GOP (25), DURATION (20: the publisher's run, s),
#   RAMP (200 players a second), SETTLE (2 s), SHARDS (nproc), LOAD_SHARDS (1),
#   LOW_LATENCY (1: the RTMP application "live" reads its publisher as data comes, not once per
#   rtmp.merge_write window), JUNCTION (build/src/junction), LOAD (build/tools/junction-load), JANUS (janus; "" leaves
#   Janus out), ROUNDS (1: each server this many times per N, alternating; medians reported),
#   OUT (a JSON file of results; the evidence goes to docs/bench-results/ as for every script)
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
JANUS=${JANUS-janus}
ROUNDS=${ROUNDS:-1}
LOW_LATENCY=${LOW_LATENCY:-0}
OUT=${OUT:-}
if [[ -n $JANUS ]]; then
  command -v "$JANUS" >/dev/null || die "no $JANUS (tools/setup.sh installs Debian's janus; JANUS= leaves it out)"
  if [[ -z ${FANOUT_NETNS:-} ]]; then
    exec unshare -n env FANOUT_NETNS=1 bash "$0" "$@"
  fi
  ip link set lo up
  ip link add fo0 type veth peer name fo1
  ip addr add 10.77.0.1/24 dev fo0
  ip addr add 10.77.0.2/24 dev fo1
  ip link set fo0 up
  ip link set fo1 up
fi
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

janus_config() {  # $1: folder, $2: HTTP port, $3: the mountpoint's RTP port
  mkdir -p "$1"
  local lib
  lib=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/janus
  cat >"$1/janus.jcfg" <<EOF
general: {
  configs_folder = "$1"
  plugins_folder = "$lib/plugins"
  transports_folder = "$lib/transports"
  events_folder = "$lib/events"
  loggers_folder = "$lib/loggers"
  debug_level = 2
  session_timeout = 0
}
certificates: {}
media: { rtp_port_range = "30000-60000" }
nat: { nice_debug = false }
plugins: { disable = "libjanus_voicemail.so,libjanus_recordplay.so,libjanus_audiobridge.so,libjanus_duktape.so,libjanus_lua.so,libjanus_nosip.so,libjanus_sip.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_videoroom.so,libjanus_echotest.so" }
transports: { disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
EOF
  cat >"$1/janus.transport.http.jcfg" <<EOF
general: { json = "compact" base_path = "/janus" http = true port = $2 ip = "127.0.0.1" https = false }
admin: { admin_http = false }
EOF
  # videobufferkf stays off: with it a new viewer gets the last keyframe and then the live
  # frames, skipping those between (junction-load counted ~35 missing frames a player, pictures
  # a browser would show broken); Junction sends the whole GOP since the keyframe instead.
  cat >"$1/janus.plugin.streaming.jcfg" <<EOF
general: { }
fanout: {
  type = "rtp"
  id = 1
  description = "fan-out"
  audio = false
  video = true
  videoport = $3
  videopt = 96
  videocodec = "h264"
  videofmtp = "profile-level-id=42e01f;packetization-mode=1"
  videobufferkf = false
}
EOF
}

metric() {  # the sum over shards of a counter or gauge of junction's /metrics
  curl -s --max-time 5 "http://127.0.0.1:$http/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" { s += $2 } END { printf "%d", s + 0 }'
}

run_junction() {  # $1: players; prints one JSON line
  local n=$1
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
$( ((LOW_LATENCY)) && printf '[[rtmp.app]]\nname = "live"\nlow_latency = true\n' )
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
  rss_alone=$(rss_of "$pid"); anon_alone=$(rss_anon_of "$pid")
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
  rss_full=$(rss_of "$pid"); anon_full=$(rss_anon_of "$pid")
  wait "$load" || true
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  [[ -s $work/load.json ]] || die "junction-load gave no report for $n players: $(tail -3 "$work/load.err")"

  python3 - "$work/load.json" <<EOF
import json, sys
load = json.load(open(sys.argv[1]))
cpu_s = ($t1 - $t0) / $CLK
gbit = ($b1 - $b0) * 8 / 1e9
rate = load.get("delivered_mbps") or 0
seen_gbit = rate * $window / 1000
print(json.dumps({
    "server": "junction", "players": $n, "connected": $connected, "window_s": $window, "junction_cpu_s": round(cpu_s, 3),
    "delivered_mbps": rate, "own_counter_mbps": round(gbit * 1000 / $window, 1),
    "cpu_s_per_gbit": round(cpu_s / seen_gbit, 3) if seen_gbit else None,
    "received_mbps": rate, "cpu_s_per_gbit_own_counter": round(cpu_s / gbit, 3) if gbit else None,
    "rss_alone_kib": $rss_alone, "rss_full_kib": $rss_full,
    "kib_per_subscriber": round(($anon_full - $anon_alone) / $n, 1),
    "rss_kib_per_subscriber": round(($rss_full - $rss_alone) / $n, 1),
    "anon_alone_kib": $anon_alone, "anon_full_kib": $anon_full,
    "first_keyframe_ms": load.get("first_keyframe_ms"), "latency_ms": load.get("latency_ms"),
    "players_completed": load.get("players_completed"), "missing_frames": load.get("missing_frames"),
}))
EOF
}

run_janus() {  # $1: players; prints one JSON line
  local n=$1 jhttp rtp
  jhttp=$(free_port $((18500 + RANDOM % 500)))
  rtp=$(free_port $((17000 + RANDOM % 500)))
  janus_config "$work/janus" "$jhttp" "$rtp"
  "$JANUS" -C "$work/janus/janus.jcfg" -F "$work/janus" >"$work/janus.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$jhttp/janus/info" && break; sleep 0.1; done
  curl -s -o /dev/null "http://127.0.0.1:$jhttp/janus/info" || die "janus did not start: $(tail -3 "$work/janus.out")"
  "$LOAD" rtmp --url "rtmp://127.0.0.1:1/live/fanout" --rtp-to "127.0.0.1:$rtp" --players "$n" \
    --janus "http://127.0.0.1:$jhttp/janus" --bitrate "$BITRATE" --gop "$GOP" --audio-bitrate 0 \
    --duration "${DURATION}s" --ramp "$RAMP" --shards "$LOAD_SHARDS" --json >"$work/load.json" 2>"$work/load.err" &
  load=$!
  sleep 0.8
  rss_alone=$(rss_of "$pid"); anon_alone=$(rss_anon_of "$pid")
  # Janus has no gauge of its viewers: the ramp and their signalling, with a margin.
  sleep $((n / RAMP + 2))
  sleep "$SETTLE"
  window=$((DURATION - 1 - n / RAMP - SETTLE - 5))
  ((window >= 3)) || die "DURATION $DURATION leaves no measuring window for $n players"
  t0=$(ticks_of "$pid")
  sleep "$window"
  t1=$(ticks_of "$pid")
  rss_full=$(rss_of "$pid"); anon_full=$(rss_anon_of "$pid")
  wait "$load" || true
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  [[ -s $work/load.json ]] || die "junction-load gave no report for $n Janus players: $(tail -3 "$work/load.err")"
  python3 - "$work/load.json" <<EOF
import json, sys
load = json.load(open(sys.argv[1]))
cpu_s = ($t1 - $t0) / $CLK
rate = load.get("delivered_mbps") or 0
seen_gbit = rate * $window / 1000
print(json.dumps({
    "server": "janus", "players": $n, "connected": load.get("players_completed"), "window_s": $window,
    "server_cpu_s": round(cpu_s, 3), "received_mbps": rate, "delivered_mbps": rate,
    "cpu_s_per_gbit": round(cpu_s / seen_gbit, 3) if seen_gbit else None,
    "rss_alone_kib": $rss_alone, "rss_full_kib": $rss_full,
    "kib_per_subscriber": round(($anon_full - $anon_alone) / $n, 1),
    "rss_kib_per_subscriber": round(($rss_full - $rss_alone) / $n, 1),
    "anon_alone_kib": $anon_alone, "anon_full_kib": $anon_full,
    "first_keyframe_ms": load.get("first_keyframe_ms"), "latency_ms": load.get("latency_ms"),
    "players_completed": load.get("players_completed"), "missing_frames": load.get("missing_frames"),
}))
EOF
}

results="["
for n in $PLAYERS; do
  for ((round = 1; round <= ROUNDS; round++)); do
    # Not in a subshell: a failure's cleanup must see the server's pid.
    run_junction "$n" >"$work/run.json"; run=$(cat "$work/run.json"); echo "$run"; results+="$run,"
    if [[ -n $JANUS ]]; then
      run_janus "$n" >"$work/run.json"; run=$(cat "$work/run.json"); echo "$run"; results+="$run,"
    fi
  done
done
results="${results%,}]"
[[ -n $OUT ]] && echo "$results" | python3 -m json.tool >"$OUT"
echo "$results" >"$work/results.json"
BENCH_COMMAND="PLAYERS=\"$PLAYERS\" BITRATE=$BITRATE GOP=$GOP DURATION=$DURATION SHARDS=$SHARDS LOAD_SHARDS=$LOAD_SHARDS ROUNDS=$ROUNDS JANUS=$JANUS LOW_LATENCY=$LOW_LATENCY bash bench/webrtc_fanout.sh" \
  save_evidence webrtc-fanout "$work/results.json"
echo "$results" | python3 -c '
import json, statistics, sys
rows = json.load(sys.stdin)
print("%8s %8s %10s %12s %14s %10s %12s %10s" % ("server", "players", "Mbit/s", "CPU s/Gbit", "KiB/subscriber",
      "(all RSS)", "first ms p50", "missing"))
for r in rows:
    print("%8s %8d %10.1f %12s %14.1f %10.1f %12s %10s" % (r["server"], r["players"], r["delivered_mbps"],
          r["cpu_s_per_gbit"], r["kib_per_subscriber"], r["rss_kib_per_subscriber"],
          (r["first_keyframe_ms"] or {}).get("p50"), r["missing_frames"]))
for n in sorted({r["players"] for r in rows}):
    med = {}
    for server in ("junction", "janus"):
        v = [r["cpu_s_per_gbit"] for r in rows if r["players"] == n and r["server"] == server and r["cpu_s_per_gbit"]]
        if v:
            med[server] = statistics.median(v)
    if len(med) == 2:
        print("%d players: junction / janus CPU per delivered Gbit = %.2f (medians %.3f / %.3f)" %
              (n, med["junction"] / med["janus"], med["junction"], med["janus"]))
'
