#!/usr/bin/env bash
# rtmp_wakeups.sh: how often a server's threads sleep and wake, and their CPU, under one RTMP
# fan-out load: 1 publisher (2 Mbit/s, 25 fps) and N players from junction-load on CPU 1.
# Fixed costs show here that a per-gigabit figure hides: with 0 or 1 player, what the publisher
# alone costs; the wake-ups (voluntary context switches) say how often the event loop slept.
#
# Usage: bench/rtmp_wakeups.sh [PLAYERS...]       (default: 0 1 100)
# Env: SERVER=junction|nginx (junction), MERGE_WRITE (100ms), SECONDS_MEASURED (10),
#      JUNCTION (build/src/junction), LOAD (build/tools/junction-load), NGINX (/usr/sbin/nginx).
# Prints one line per thread that ran: players, thread, wake-ups/s, involuntary switches/s, CPU %.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
die() { echo "rtmp_wakeups: $*" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SERVER=${SERVER:-junction} MERGE_WRITE=${MERGE_WRITE:-100ms} SECONDS_MEASURED=${SECONDS_MEASURED:-10}
JUNCTION=${JUNCTION:-build/src/junction} LOAD=${LOAD:-build/tools/junction-load} NGINX=${NGINX:-/usr/sbin/nginx}
WORK=$(mktemp -d /tmp/junction-wakeups.XXXXXX)
trap 'stop_pids ${SPID:-} ${LPID:-}; rm -rf "$WORK"' EXIT
PORT=$(free_port 19550)
HZ=$(getconf CLK_TCK)

start_server() {
  if [[ $SERVER == nginx ]]; then
    local module
    module=$(find /usr/lib/nginx/modules -name ngx_rtmp_module.so | head -1)
    [[ -n $module ]] || die "ngx_rtmp_module.so not found"
    cat >"$WORK/nginx.conf" <<CONF
load_module $module;
daemon off;
master_process off;
worker_rlimit_nofile 16384;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 8192; }
rtmp { server { listen 127.0.0.1:$PORT; chunk_size 4096; application live { live on; } } }
CONF
    "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/server.log" 2>&1 &
  else
    cat >"$WORK/junction.toml" <<CONF
[server]
max_connections_per_source = 0
[http]
listen = []
[rtmp]
listen = ["127.0.0.1:$PORT"]
chunk_size = 4096
http_flv = false
merge_write = "$MERGE_WRITE"
[[rtmp.app]]
name = "live"
live = true
CONF
    "$JUNCTION" --config "$WORK/junction.toml" >"$WORK/server.log" 2>&1 &
  fi
  SPID=$!
  for _ in $(seq 50); do [[ -n $(ss -Hltn "sport = :$PORT") ]] && return; sleep 0.1; done
  die "$SERVER did not listen on $PORT"
}

# tid voluntary involuntary ticks, per thread of the server
snapshot() {
  local t
  for t in /proc/"$SPID"/task/*; do
    local st f
    st=$(cat "$t/stat") || continue
    read -ra f <<<"${st##*) }"  # utime, stime: fields 14 and 15
    echo "$(basename "$t") $(awk '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print v, n}' "$t/status") $((f[11] + f[12]))"
  done 2>/dev/null
}

echo "# $SERVER$([[ $SERVER == junction ]] && echo " merge_write=$MERGE_WRITE"), $(date -u '+%F %T') UTC, ${SECONDS_MEASURED}s measured"
echo "players thread wakeups/s involuntary/s cpu%"
for players in "${@:-0 1 100}"; do
  for n in $players; do
    start_server
    taskset -c 1 "$LOAD" rtmp --url "rtmp://127.0.0.1:$PORT/live/bench" --publishers 1 --players "$n" \
      --ramp 500 --duration "$((SECONDS_MEASURED + 10))s" --warmup 2s --bitrate 2M --audio-bitrate 128k \
      --fps 25 --gop 50 --shards 1 --json >"$WORK/load.json" 2>"$WORK/load.err" &
    LPID=$!
    sleep 6
    snapshot >"$WORK/a"
    sleep "$SECONDS_MEASURED"
    snapshot >"$WORK/b"
    join "$WORK/a" "$WORK/b" | awk -v n="$n" -v s="$SECONDS_MEASURED" -v hz="$HZ" \
      '{ w = ($5 - $2) / s; c = ($7 - $4) * 100 / hz / s; if (w > 0 || c > 0)
         printf "%d %s %.0f %.0f %.2f\n", n, $1, w, ($6 - $3) / s, c }' | tee -a "$WORK/rows"
    wait "$LPID" || true
    LPID=
    stop_pids "$SPID"
    SPID=
  done
done

# The rows as JSON evidence under docs/bench-results.
jq -R -s --arg server "$SERVER" --arg merge "$MERGE_WRITE" --argjson seconds "$SECONDS_MEASURED" \
  '{server: $server, merge_write: (if $server == "junction" then $merge else null end), seconds_measured: $seconds,
    load: "junction-load rtmp: 1 publisher, 2 Mbit/s video + 128 kbit/s audio, 25 fps, on CPU 1",
    rows: (split("\n") | map(select(. != "") | split(" ") |
      {players: (.[0] | tonumber), thread: .[1], wakeups_per_second: (.[2] | tonumber),
       involuntary_per_second: (.[3] | tonumber), cpu_percent: (.[4] | tonumber)}))}' \
  "$WORK/rows" >"$WORK/evidence.json"
BENCH_COMMAND="SERVER=$SERVER MERGE_WRITE=$MERGE_WRITE SECONDS_MEASURED=$SECONDS_MEASURED bench/rtmp_wakeups.sh ${*:-0 1 100}" \
  save_evidence "rtmp-wakeups-$SERVER" "$WORK/evidence.json"
