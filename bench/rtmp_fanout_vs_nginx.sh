#!/usr/bin/env bash
# rtmp_fanout_vs_nginx.sh: RTMP live fan-out (1 publisher, N players), junction vs nginx-rtmp,
# and both against "the floor" (bench/tcp_floor: paced ready-made TCP writes, nothing else).
#
# For every player count N and every server, one run is: start the server (fresh, so that idle
# RSS is a clean baseline), start junction-load (1 publisher at --bitrate with synthetic FLV,
# N players), wait until all N+1 connections are established, let the stream settle for SETTLE s,
# then measure a fixed WINDOW: server CPU (utime+stime from /proc/<pid>/stat; nginx: master and
# worker), bytes the server's sockets delivered and data segments they sent (bytes_acked and
# data_segs_out from `ss -ti`: CPU per gigabit uses these bytes, and bytes per segment shows the
# server's write size), RSS (VmRSS), ksoftirqd's CPU, and the whole machine's busy CPU from
# /proc/stat (what is none of those nor the load tool is "other": a contention check, flagged
# above 15% of a CPU). Start-up, ramp and tear-down are outside the window. junction-load's own
# JSON gives delivered Mbit/s (averaged from the first player's start, so it includes the ramp
# and any GOP-cache burst), missed frames, latency and its own CPU. Then the server stops.
# Runs are interleaved (for each round, for each N: junction, nginx, ...) and the report shows
# medians over ROUNDS. Finally tcp_floor runs with the same N, the per-player rate Junction
# delivered, and the write sizes in FLOOR_WRITES ("frame": the average frame size on the wire,
# what one write per frame and player sends; a number: that many bytes per write), and each
# server's CPU per gigabit is shown as a multiple of the floor.
#
# CPU placement on a 2-core machine (the same for every server): junction-load runs with one
# shard pinned to LOAD_CPU (default: the last CPU) by taskset; the servers are not pinned by this
# script and get every CPU, as in production: junction with SHARDS shards (default nproc; its own
# pin_cpus = true puts shard i on CPU i, so one shard shares LOAD_CPU with the load tool), nginx
# with one worker (nginx-rtmp's live fan-out does not span workers without rtmp_auto_push, so one
# worker is how it is deployed), free to run anywhere. The comparable figure is therefore server
# CPU-seconds per delivered gigabit, not headroom. The floor's sink is pinned to LOAD_CPU too and
# its writer runs FLOOR_THREADS unpinned thread(s).
# Loopback: this kernel charges the receive-side softirq work of loopback TCP mostly to the
# sending task (no IRQ time accounting), i.e. to the server; it does so for every server and for
# the floor alike.
#
# Usage: bench/rtmp_fanout_vs_nginx.sh [--players "100 500 1000"] [--duration S] [--settle S]
#     [--rounds N] [--bitrate 2M] [--audio-bitrate 128k] [--fps 25] [--gop 50] [--ramp R]
#     [--shards N] [--load-cpu C] [--load-shards K] [--merge-write DUR]
#     [--floor-writes "frame 16384"] [--floor-duration S] [--floor-threads T] [--floor-rate BPS]
#     [--junction BIN] [--junction-pin true|false] [--epoll [BIN]] [--nginx BIN]
#     [--rtmp-module SO] [--load BIN]
#     [--floor BIN] [--keep]
# The same settings can be given as environment variables: PLAYERS ("100 500 1000"),
# DURATION (20: junction-load's --duration, from the publisher's start to its stop; players
# start 1 s after it), SETTLE (2: wait between "all connected" and the window), WINDOW (what
# fits: DURATION - 1 - ceil(max N / RAMP) - SETTLE - 2), ROUNDS (3),
# BITRATE (2M), AUDIO_BITRATE (128k), FPS (25), GOP (50), RAMP (500: players per second),
# SHARDS (nproc), LOAD_CPU (nproc - 1), LOAD_SHARDS (1), MERGE_WRITE (junction's default),
# FLOOR_WRITES ("frame 16384"), FLOOR_DURATION (8), FLOOR_THREADS (1), FLOOR_RATE (per player
# rate junction delivered), JUNCTION (build/src/junction), JUNCTION_PIN (true: junction's
# server.pin_cpus, its production default), EPOLL (off; --epoll alone means
# build-epoll/src/junction, built with `make build-epoll` if missing), NGINX (/usr/sbin/nginx),
# RTMP_MODULE (found under /usr/lib/nginx/modules), LOAD (build/tools/junction-load),
# FLOOR (build/bench/tcp_floor).
# Prints a human table and a markdown report on stdout, progress on stderr. Does not need root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SETTINGS=(PLAYERS DURATION SETTLE WINDOW ROUNDS BITRATE AUDIO_BITRATE FPS GOP RAMP SHARDS LOAD_CPU
          LOAD_SHARDS MERGE_WRITE FLOOR_WRITES FLOOR_DURATION FLOOR_THREADS FLOOR_RATE JUNCTION
          JUNCTION_PIN EPOLL NGINX RTMP_MODULE LOAD FLOOR KEEP)
# Record the invocation exactly, including any settings passed through the env.
CMDLINE=""
for v in "${SETTINGS[@]}"; do [[ -v $v ]] && CMDLINE+="$v=$(printf '%q' "${!v}") "; done
CMDLINE+="$(printf '%q ' "$0" "$@")"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
NPROC=$(nproc)
PLAYERS=${PLAYERS:-100 500 1000}
DURATION=${DURATION:-20}
SETTLE=${SETTLE:-2}
ROUNDS=${ROUNDS:-3}
BITRATE=${BITRATE:-2M}
AUDIO_BITRATE=${AUDIO_BITRATE:-128k}
FPS=${FPS:-25}
GOP=${GOP:-50}
RAMP=${RAMP:-500}
SHARDS=${SHARDS:-$NPROC}
LOAD_CPU=${LOAD_CPU:-$((NPROC - 1))}
LOAD_SHARDS=${LOAD_SHARDS:-1}
MERGE_WRITE=${MERGE_WRITE:-}
FLOOR_WRITES=${FLOOR_WRITES:-frame 16384}
FLOOR_DURATION=${FLOOR_DURATION:-8}
FLOOR_THREADS=${FLOOR_THREADS:-1}
FLOOR_RATE=${FLOOR_RATE:-}
JUNCTION=${JUNCTION:-$ROOT/build/src/junction}
EPOLL=${EPOLL:-}
NGINX=${NGINX:-/usr/sbin/nginx}
RTMP_MODULE=${RTMP_MODULE:-}
LOAD=${LOAD:-$ROOT/build/tools/junction-load}   # tools/CMakeLists.txt puts the binary there
FLOOR=${FLOOR:-$ROOT/build/bench/tcp_floor}
KEEP=${KEEP:-0}
JUNCTION_PIN=${JUNCTION_PIN:-true}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "$*" >&2; }

while (($#)); do
  case $1 in
    # --duration S -> DURATION=S, and likewise for every name in SETTINGS.
    --players|--duration|--settle|--window|--rounds|--bitrate|--audio-bitrate|--fps|--gop|--ramp|\
    --shards|--load-cpu|--load-shards|--merge-write|--floor-writes|--floor-duration|\
    --floor-threads|--floor-rate|--junction|--junction-pin|--nginx|--rtmp-module|--load|--floor)
      v=${1#--}; v=${v//-/_}; printf -v "${v^^}" '%s' "${2?$1 needs a value}"; shift 2 ;;
    --keep)   KEEP=1; shift ;;   # keep the work dir (configs, logs, junction-load JSON)
    --epoll)  # optional value
      if [[ $# -ge 2 && $2 != --* ]]; then EPOLL=$2; shift 2; else EPOLL=default; shift; fi ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

for v in DURATION SETTLE ROUNDS FPS GOP RAMP SHARDS LOAD_SHARDS FLOOR_DURATION FLOOR_THREADS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $LOAD_CPU =~ ^[0-9]+$ ]] && ((LOAD_CPU < NPROC)) || die "LOAD_CPU must be a CPU number below $NPROC"
for n in $PLAYERS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "bad player count '$n'"; done
# junction-load's clock: publisher up at 0, players start at --warmup (LOAD_WARMUP), ramp at RAMP/s,
# publisher stops at DURATION. The window starts SETTLE s after the last player is connected and
# ends with a 2 s margin before the publisher stops; the same length for every N.
LOAD_WARMUP=1
MAX_PLAYERS=0; for n in $PLAYERS; do ((n > MAX_PLAYERS)) && MAX_PLAYERS=$n; done
WINDOW=${WINDOW:-$((DURATION - LOAD_WARMUP - (MAX_PLAYERS + RAMP - 1) / RAMP - SETTLE - 2))}
[[ $WINDOW =~ ^-?[0-9]+$ ]] || die "WINDOW must be an integer, got '$WINDOW'"
((WINDOW >= 3)) || die "the measured window ($WINDOW s) is too short: raise DURATION or RAMP, or lower SETTLE"
((LOAD_WARMUP + (MAX_PLAYERS + RAMP - 1) / RAMP + SETTLE + WINDOW < DURATION)) ||
  die "WINDOW ($WINDOW s) does not end before the publisher stops: lower it or raise DURATION"
[[ $JUNCTION_PIN == true || $JUNCTION_PIN == false ]] || die "JUNCTION_PIN must be true or false"
for w in $FLOOR_WRITES; do [[ $w == frame || $w =~ ^[1-9][0-9]*$ ]] || die "bad floor write size '$w'"; done
if [[ $EPOLL == default ]]; then
  EPOLL=$ROOT/build-epoll/src/junction
  if [[ ! -x $EPOLL ]]; then
    log "building the epoll variant: make -C $ROOT build-epoll"
    make -C "$ROOT" build-epoll >&2 || die "make build-epoll failed"
  fi
fi
if [[ -z $RTMP_MODULE ]]; then
  RTMP_MODULE=$(find /usr/lib/nginx/modules /usr/lib64/nginx/modules /usr/share/nginx/modules \
                  -name 'ngx_rtmp_module.so' 2>/dev/null | head -1 || true)
  [[ -n $RTMP_MODULE ]] || die "ngx_rtmp_module.so not found (apt-get install libnginx-mod-rtmp), or give --rtmp-module"
fi
[[ -d $LOAD ]] && LOAD=$LOAD/junction-load
[[ -f $RTMP_MODULE ]] || die "no such file: $RTMP_MODULE"
for b in "$JUNCTION" "$NGINX" "$LOAD" "$FLOOR" ${EPOLL:+"$EPOLL"}; do [[ -x $b ]] || die "not executable: $b"; done
for t in jq ss taskset awk; do command -v "$t" >/dev/null || die "missing tool: $t"; done

HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/junction-rtmp-bench.XXXXXX)
SERVERS=(junction nginx)
[[ -n $EPOLL ]] && SERVERS=(junction junction-epoll nginx)
declare -A BIN=([junction]=$JUNCTION [nginx]=$NGINX)
[[ -n $EPOLL ]] && BIN[junction-epoll]=$EPOLL
declare -A R=()        # results: R[key|server|N] = "v1 v2 ..." (one value per round)
declare -A PID=() PORT=()
declare -A FW=()       # FW[N|token] = floor write size in bytes for that FLOOR_WRITES token
declare -A FLOOR_RATE_USED=()
mapfile -t KSOFTIRQD < <(pgrep -x 'ksoftirqd/[0-9]+' || true)
LOAD_PID=""
FLOOR_PID=""
NOTES=()
SHORT=()   # runs where junction-load found a player short of frames: the script fails
MAX_OTHER=0

# A server's processes: the main pid plus its direct children (nginx's worker).
server_pids() { echo "${PID[$1]}"; pgrep -P "${PID[$1]}" || true; }




# Established TCP connections whose local port is $1 (the server's side).
conns_on() { ss -Htn state established "sport = :$1" 2>/dev/null | wc -l; }

# "BYTES SEGMENTS": bytes delivered (acknowledged by the peer) and data segments sent by the
# server's sockets on port $1. On loopback (MSS 64 KiB) with TCP_NODELAY a write to an idle
# socket leaves as one segment, so bytes per segment approximates the server's write size.
acked_on() {
  ss -Htin state established "sport = :$1" 2>/dev/null |
    awk '{for (i = 1; i <= NF; i++) {
            if ($i ~ /^bytes_acked:/) {split($i, a, ":"); s += a[2]}
            if ($i ~ /^data_segs_out:/) {split($i, a, ":"); g += a[2]}}}
         END {printf "%.0f %.0f\n", s, g}'
}



stop_server() {
  local name=$1 pids
  [[ -n ${PID[$name]:-} ]] || return 0
  # Collect the worker before signalling: once the master is gone it is reparented.
  mapfile -t pids < <(server_pids "$name")
  stop_pids "${pids[@]}"
  unset "PID[$name]"
}

cleanup() {
  local rc=$? name
  trap - EXIT INT TERM
  [[ -n $LOAD_PID ]] && stop_pids "$LOAD_PID"
  [[ -n $FLOOR_PID ]] && stop_pids "$FLOOR_PID"
  for name in "${!PID[@]}"; do stop_server "$name"; done
  if ((KEEP)); then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (bounded) until server $1 listens on its port.
wait_listening() {
  local name=$1 i
  for ((i = 0; i < 100; i++)); do
    alive "${PID[$name]}" || { cat "$WORK/$name".{out,err} >&2 2>/dev/null || true; die "$name exited during start-up"; }
    [[ -n $(ss -Hltn "sport = :${PORT[$name]}") ]] && return 0
    sleep 0.1
  done
  die "$name did not listen on ${PORT[$name]} within 10 s"
}

start_junction() {
  local name=$1 conf=$WORK/$1.toml
  PORT[$name]=$(free_port 19350)
  {
    printf '[server]\nshards = %d\nmax_connections_per_source = 0\npin_cpus = %s\nlog_level = "warn"\nshutdown_timeout = "2s"\n' "$SHARDS" "$JUNCTION_PIN"
    printf '[http]\nlisten = []\naccess_log = ""\nweb_root = ""\n'
    printf '[rtmp]\nlisten = ["127.0.0.1:%d"]\nchunk_size = 4096\nhttp_flv = false\n' "${PORT[$name]}"
    [[ -n $MERGE_WRITE ]] && printf 'merge_write = "%s"\n' "$MERGE_WRITE"
    printf '[[rtmp.app]]\nname = "live"\nlive = true\n'
  } >"$conf"
  "${BIN[$name]}" --config "$conf" --shards "$SHARDS" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID[$name]=$!
  wait_listening "$name"
}

start_nginx() {
  local conf=$WORK/nginx.conf
  PORT[nginx]=$(free_port 19450)
  mkdir -p "$WORK/nginx"
  # Own minimal config: only the rtmp module, every path inside $WORK.
  cat >"$conf" <<EOF
load_module $RTMP_MODULE;
worker_processes 1;
worker_rlimit_nofile 16384;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
rtmp {
  server {
    listen 127.0.0.1:${PORT[nginx]};
    chunk_size 4096;
    application live { live on; }
  }
}
EOF
  "$NGINX" -p "$WORK/nginx" -c "$conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
    >"$WORK/nginx.out" 2>"$WORK/nginx.err" &
  PID[nginx]=$!
  wait_listening nginx
}

start_server() { if [[ $1 == nginx ]]; then start_nginx; else start_junction "$1"; fi; }

# jq field of a JSON file, "" if missing.
jf() { jq -r "($2) // empty" "$1" 2>/dev/null || true; }

add() { R[$1]+="$2 "; }

# One run: server $1, $2 players, round $3.
run_one() {
  local name=$1 n=$2 round=$3 out=$WORK/load-$1-$2-$3.json err=$WORK/load-$1-$2-$3.err
  local pids rss_idle rss_during t0 t1 c0 c1 b0 b1 g0 g1 m0 m1 l0 l1 k0 k1 i conns conns_end deadline window
  local load_t0 valid loadwin
  local cpu gbit per_gb server_mbps other rc status fails done_players
  start_server "$name"
  sleep 0.5
  mapfile -t pids < <(server_pids "$name")
  rss_idle=$(rss_of "${pids[@]}")
  taskset -c "$LOAD_CPU" "$LOAD" rtmp --url "rtmp://127.0.0.1:${PORT[$name]}/live/bench" \
    --publishers 1 --players "$n" --ramp "$RAMP" --duration "${DURATION}s" --warmup "${LOAD_WARMUP}s" \
    --bitrate "$BITRATE" --audio-bitrate "$AUDIO_BITRATE" --fps "$FPS" --gop "$GOP" \
    --shards "$LOAD_SHARDS" --json >"$out" 2>"$err" &
  LOAD_PID=$!
  load_t0=$(now)
  # All N players and the publisher connected (bounded by the ramp time plus 30 s).
  deadline=$(( $(date +%s) + LOAD_WARMUP + n / RAMP + 30 ))
  while :; do
    conns=$(conns_on "${PORT[$name]}")
    ((conns >= n + 1)) && break
    alive "$LOAD_PID" || break
    (($(date +%s) < deadline)) || break
    sleep 0.2
  done
  if ((conns < n + 1)); then
    NOTES+=("round $round, $name, $n players: only $conns of $((n + 1)) connections established before the window")
    log "  WARNING: only $conns of $((n + 1)) connections established"
  fi
  sleep "$SETTLE"
  # The window must end 1.5 s before the publisher stops (DURATION after junction-load started);
  # a slow ramp shortens it, and under 3 s the run is not measured.
  window=$(awk -v w="$WINDOW" -v t0="$load_t0" -v d="$DURATION" -v now="$(now)" \
             'BEGIN {left = t0 + d - 1.5 - now; printf "%.2f", (left < w ? left : w)}')
  valid=1
  if awk -v w="$window" 'BEGIN {exit !(w < 3)}'; then
    valid=0
    NOTES+=("round $round, $name, $n players: the players connected too late to leave a 3 s window before the publisher stopped; not measured")
    log "  WARNING: no time left for a window (players connected late); not measured"
    window=1
  elif awk -v w="$window" -v full="$WINDOW" 'BEGIN {exit !(w < full)}'; then
    NOTES+=("round $round, $name, $n players: window shortened to ${window}s (players connected late)")
  fi
  mapfile -t pids < <(server_pids "$name")
  t0=$(now); c0=$(ticks_of "${pids[@]}"); read -r b0 g0 < <(acked_on "${PORT[$name]}")
  m0=$(machine_busy); l0=$(ticks_of "$LOAD_PID"); k0=$(ticks_of "${KSOFTIRQD[@]}")
  sleep "$window"
  t1=$(now); c1=$(ticks_of "${pids[@]}"); read -r b1 g1 < <(acked_on "${PORT[$name]}")
  m1=$(machine_busy); l1=$(ticks_of "$LOAD_PID"); k1=$(ticks_of "${KSOFTIRQD[@]}")
  rss_during=$(rss_of "${pids[@]}")
  conns_end=$(conns_on "${PORT[$name]}")
  if ! alive "$LOAD_PID" || ((conns_end < conns)); then
    ((valid)) && NOTES+=("round $round, $name, $n players: connections closed during the window ($conns at its start, $conns_end at its end); not measured")
    log "  WARNING: connections closed during the window ($conns -> $conns_end); not measured"
    valid=0
  fi
  # junction-load stops by itself after --duration; bounded wait, then it is killed.
  i=0
  while alive "$LOAD_PID" && ((i++ < (DURATION + n / RAMP + 60) * 10)); do sleep 0.1; done
  alive "$LOAD_PID" && { NOTES+=("round $round, $name, $n players: junction-load did not exit; killed"); stop_pids "$LOAD_PID"; }
  rc=0; wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  status=ok
  alive "${PID[$name]}" || { status="server DIED"; NOTES+=("round $round, $name, $n players: the server died (see its log)"); tail -5 "$WORK/$name.err" >&2 || true; }
  stop_server "$name"
  if ((rc == 3)); then  # junction-load: a player short of frames, lost or not started
    SHORT+=("round $round, $name, $n players: $(jq -c '{players_short, short_frames, players_disconnected, play_failures}' "$out" 2>/dev/null)")
  fi
  if ((rc != 0)) || ! jq -e . "$out" >/dev/null 2>&1; then
    NOTES+=("round $round, $name, $n players: junction-load exited with $rc: $(tail -c 300 "$err" | tr '\n' ' ')")
    log "  WARNING: junction-load exited with $rc"
    jq -e . "$out" >/dev/null 2>&1 || return 0
  fi
  window=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN {printf "%.3f", d / hz}')
  gbit=$(awk -v d=$((b1 - b0)) 'BEGIN {printf "%.6f", d * 8 / 1e9}')
  per_gb=$(awk -v c="$cpu" -v g="$gbit" 'BEGIN {if (g > 0) printf "%.4f", c / g; else print "nan"}')
  server_mbps=$(awk -v g="$gbit" -v w="$window" 'BEGIN {printf "%.1f", g * 1000 / w}')
  # Machine CPU that was neither the server nor the load tool nor ksoftirqd (other engineers,
  # the script). ksoftirqd: network softirq work deferred to the kernel threads is charged to
  # neither the server nor the load tool; it is shown on its own.
  other=$(awk -v m=$((m1 - m0)) -v c=$((c1 - c0)) -v l=$((l1 - l0)) -v k=$((k1 - k0)) -v hz="$HZ" -v w="$window" \
            'BEGIN {o = (m - c - l - k) / hz / w * 100; if (o < 0) o = 0; printf "%.0f", o}')
  ((valid)) && add "ksirq|$name|$n" "$(awk -v k=$((k1 - k0)) -v hz="$HZ" -v w="$window" 'BEGIN {printf "%.1f", k / hz / w * 100}')"
  ((valid && other > MAX_OTHER)) && MAX_OTHER=$other
  if ((valid && other > 15)); then
    NOTES+=("round $round, $name, $n players: ${other}% of a CPU went to other processes during the window (contention: re-take)")
  fi
  local key="$name|$n"
  add "mbps|$key" "$(jf "$out" .delivered_mbps)"
  if ((valid)); then  # figures from the window
    add "smbps|$key" "$server_mbps"
    add "cpupct|$key" "$(awk -v c="$cpu" -v w="$window" 'BEGIN {printf "%.1f", c / w * 100}')"
    add "pergb|$key" "$per_gb"
    add "seg|$key" "$(awk -v b=$((b1 - b0)) -v g=$((g1 - g0)) 'BEGIN {if (g > 0) printf "%.0f", b / g; else print "nan"}')"
    add "rss|$key" "$(awk -v d=$((rss_during - rss_idle)) -v n="$n" 'BEGIN {printf "%.1f", d / n}')"
    add "other|$key" "$other"
    loadwin=$(awk -v l=$((l1 - l0)) -v hz="$HZ" -v w="$window" 'BEGIN {printf "%.0f", l / hz / w * 100}')
    add "loadwin|$key" "$loadwin"
    if ((loadwin > 90)); then
      NOTES+=("round $round, $name, $n players: junction-load used ${loadwin}% of its CPU during the window: it may be the bottleneck (latency and missed frames then say more about it than about the server)")
    fi
  fi
  # Exact accounting: a player is short when it lacks any frame from its first to the publisher's
  # last (gaps, a stream that stopped reaching it, a tail that never came).
  add "miss|$key" "$(jf "$out" .players_short)"
  add "missf|$key" "$(jf "$out" .short_frames)"
  add "checked|$key" "$(jf "$out" .players_completed)"
  add "p50|$key" "$(jf "$out" .latency_ms.p50)"
  add "p99|$key" "$(jf "$out" .latency_ms.p99)"
  add "kf|$key" "$(jf "$out" .first_keyframe_ms.p99)"
  add "tool|$key" "$(jf "$out" .tool_cpu_percent)"
  fails=$(jq -r '[.connect_failures, .handshake_failures, .publish_failures, .play_failures] | map(. // 0) | add' "$out")
  done_players=$(jf "$out" .players_completed)
  if [[ $fails != 0 || ${done_players:-0} != "$n" ]]; then
    NOTES+=("round $round, $name, $n players: players_completed ${done_players:-?}, connect/handshake/publish/play failures $(jq -c '[.connect_failures, .handshake_failures, .publish_failures, .play_failures]' "$out")")
  fi
  add "frame|$key" "$(jq -r 'if (.frames_received_total // 0) > 0 then (.bytes_received_total / .frames_received_total | floor) else empty end' "$out")"
  log "$(printf '  round %d %-15s %5d players: %7.1f Mbit/s (load) %7.1f (server), CPU %5.1f%%, %s CPU-s/Gbit, missed %s, p50/p99 %s/%s ms, RSS %s KiB/player, load CPU %s%%, other %s%%, conns %s, %s' \
    "$round" "$name" "$n" "$(jf "$out" .delivered_mbps)" "$server_mbps" \
    "$(awk -v c="$cpu" -v w="$window" 'BEGIN {printf "%.1f", c / w * 100}')" "$per_gb" \
    "$(jf "$out" .players_short)" "$(jf "$out" .latency_ms.p50)" "$(jf "$out" .latency_ms.p99)" \
    "$(awk -v d=$((rss_during - rss_idle)) -v n="$n" 'BEGIN {printf "%.1f", d / n}')" \
    "$(jf "$out" .tool_cpu_percent)" "$other" "$conns" "$status")"
}

median() {
  tr ' ' '\n' <<<"$1" | awk 'NF && $1 != "nan"' | sort -g |
    awk '{a[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
med() { median "${R[$1]:-}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "n/a" && b != "n/a" && b > 0) printf "%.2f", a / b; else print "n/a"}'; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "n/a" || v == "") print "n/a"; else printf f, v}'; }

run_floor() {  # $1 players, $2 write bytes, $3 rate (bit/s); appends to R[floor|N|W]
  local n=$1 w=$2 rate=$3 out=$WORK/floor-$1-$2.json i
  "$FLOOR" --connections "$n" --threads "$FLOOR_THREADS" --rate "$rate" --write-bytes "$w" \
    --duration "${FLOOR_DURATION}s" --warmup "${SETTLE}s" --sink-cpu "$LOAD_CPU" --json >"$out" 2>"$WORK/floor.err" &
  FLOOR_PID=$!
  i=0
  while alive "$FLOOR_PID" && ((i++ < (FLOOR_DURATION + SETTLE + 120) * 10)); do sleep 0.1; done
  alive "$FLOOR_PID" && stop_pids "$FLOOR_PID"
  wait "$FLOOR_PID" || NOTES+=("tcp_floor $n x $w B exited non-zero: $(tr '\n' ' ' <"$WORK/floor.err")")
  FLOOR_PID=""
  jq -e . "$out" >/dev/null 2>&1 || return 0
  add "floor|$n|$w" "$(jf "$out" .writer_cpu_s_per_gbit)"
  add "floormbps|$n|$w" "$(jf "$out" .delivered_mbps)"
  log "$(printf '  floor %5d conns x %s bit/s, %6d B writes: %7.1f Mbit/s, writer %s CPU-s/Gbit (%s%% CPU), late %s' \
    "$n" "$rate" "$w" "$(jf "$out" .delivered_mbps)" "$(jf "$out" .writer_cpu_s_per_gbit)" \
    "$(jf "$out" .writer_cpu_percent)" "$(jf "$out" .late_writes)")"
}

# --- main --------------------------------------------------------------------

log "work dir $WORK; servers: ${SERVERS[*]}; players: $PLAYERS; $ROUNDS round(s);" \
    "load ${DURATION}s (window ${WINDOW}s after all connected + ${SETTLE}s)"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  for n in $PLAYERS; do
    for name in "${SERVERS[@]}"; do run_one "$name" "$n" "$r"; done
  done
done

# The floor, at the per-player rate junction delivered (or FLOOR_RATE).
for n in $PLAYERS; do
  rate=$FLOOR_RATE
  if [[ -z $rate ]]; then
    m=$(med "smbps|junction|$n")
    rate=$(awk -v m="$m" -v n="$n" 'BEGIN {if (m != "n/a" && m > 0) printf "%.0f", m * 1e6 / n; else print ""}')
    [[ -n $rate ]] || rate=$BITRATE
  fi
  FLOOR_RATE_USED[$n]=$rate
  for tok in $FLOOR_WRITES; do
    w=$tok
    if [[ $tok == frame ]]; then
      w=$(med "frame|junction|$n")
      [[ $w =~ ^[0-9]+$ ]] || { NOTES+=("floor: no frame size known for $n players (junction-load gave no frames_received_total)"); continue; }
    fi
    FW[$n|$tok]=$w
    for ((r = 1; r <= ROUNDS; r++)); do run_floor "$n" "$w" "$rate"; done
  done
done

# --- report ------------------------------------------------------------------

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cc=$(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null || echo unknown)

echo "# RTMP fan-out over loopback: junction vs nginx-rtmp, and the floor"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- nproc: $NPROC; CPU: ${cpu_model:-unknown}; kernel: $(uname -r); TCP congestion control: $cc"
echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') with $(basename "$RTMP_MODULE"), 1 worker, chunk_size 4096"
echo "- junction: $("$JUNCTION" --version 2>&1 | head -1), $SHARDS shards (pin_cpus $JUNCTION_PIN), chunk_size 4096, merge_write ${MERGE_WRITE:-default}"
[[ -n $EPOLL ]] && echo "- junction-epoll: $("$EPOLL" --version 2>&1 | head -1)"
echo "- Command: \`${CMDLINE% }\`"
echo "- Load: \`taskset -c $LOAD_CPU junction-load rtmp --publishers 1 --players N --ramp $RAMP --duration ${DURATION}s --warmup ${LOAD_WARMUP}s --bitrate $BITRATE --audio-bitrate $AUDIO_BITRATE --fps $FPS --gop $GOP --shards $LOAD_SHARDS\`;" \
     "$ROUNDS interleaved round(s), medians"
echo "- Placement: junction-load pinned to CPU $LOAD_CPU; servers unpinned by the script ($([[ $JUNCTION_PIN == true ]] && echo "junction pins shard i to CPU i itself, so one shard shares CPU $LOAD_CPU with junction-load" || echo "junction's shards unpinned too")); the floor's sink on CPU $LOAD_CPU, its writer $FLOOR_THREADS unpinned thread(s)"
echo "- Server CPU (utime+stime, /proc; nginx master+worker) and bytes delivered (ss bytes_acked)" \
     "over a ${WINDOW}s window that starts ${SETTLE}s after all players are connected; RSS/player = (VmRSS at the window's end - idle VmRSS) / players"
echo "- Highest CPU share of other processes during any window: ${MAX_OTHER}% of one CPU"
echo
LAST_TOK=""; for tok in $FLOOR_WRITES; do LAST_TOK=$tok; done
tok_label() { [[ $1 == frame ]] && echo "frame-size" || echo "$1 B"; }
floor_of() { [[ -n ${FW[$1|$2]:-} ]] && med "floor|$1|${FW[$1|$2]}" || echo n/a; }

echo "## Human-readable"
echo
printf '%-7s %-16s %9s %9s %7s %9s %7s %8s %7s %9s %11s %9s %9s %6s %6s\n' players server "Mbit/s" "srv Mb/s" "CPU %" "CPU-s/Gb" "vs ngx" "x floor" "B/seg" "missing" "p50/p99 ms" "RSS/pl" "load %" "ksirq" "other"
for n in $PLAYERS; do
  ng=$(med "pergb|nginx|$n")
  fv=$(floor_of "$n" "$LAST_TOK")
  for name in "${SERVERS[@]}"; do
    pg=$(med "pergb|$name|$n")
    printf '%-7s %-16s %9s %9s %7s %9s %7s %8s %7s %9s %11s %9s %9s %6s %6s\n' "$n" "$name" \
      "$(fmt "$(med "mbps|$name|$n")" %.1f)" "$(fmt "$(med "smbps|$name|$n")" %.1f)" \
      "$(fmt "$(med "cpupct|$name|$n")" %.1f)" "$(fmt "$pg" %.4f)" "$(ratio "$pg" "$ng")" "$(ratio "$pg" "$fv")" \
      "$(fmt "$(med "seg|$name|$n")" %.0f)" \
      "$(med "miss|$name|$n")/$(med "checked|$name|$n")" "$(fmt "$(med "p50|$name|$n")" %.0f)/$(fmt "$(med "p99|$name|$n")" %.0f)" \
      "$(fmt "$(med "rss|$name|$n")" %.1f)K" "$(fmt "$(med "tool|$name|$n")" %.0f)/$(med "loadwin|$name|$n")" "$(med "ksirq|$name|$n")" "$(med "other|$name|$n")"
  done
  for tok in $FLOOR_WRITES; do
    [[ -n ${FW[$n|$tok]:-} ]] || continue
    printf '%-7s %-16s %9s %9s %7s %9s\n' "$n" "floor ${FW[$n|$tok]}B" \
      "$(fmt "$(med "floormbps|$n|${FW[$n|$tok]}")" %.1f)" "" "" "$(fmt "$(floor_of "$n" "$tok")" %.4f)"
  done
done
echo
echo "Mbit/s: junction-load's delivered_mbps; srv Mb/s: bytes the server's sockets delivered in the window;"
echo "CPU %: server CPU over the window (100 = one CPU); x floor: CPU-s/Gb over the floor with $(tok_label "$LAST_TOK") writes;"
echo "B/seg: bytes per TCP data segment the server sent in the window (about its average write size);"
echo "missing: players short of frames (any frame from a player's first to the publisher's last not received) /"
echo "players junction-load checked (players_completed; a lost player fails the run); load %: junction-load's tool_cpu_percent (whole run) / its CPU % in the window"
echo "(100 = its one CPU: near 100 it is the bottleneck); ksirq: CPU % of ksoftirqd threads;"
echo "other: CPU % of every other process (contention from outside the benchmark; > 15 is flagged below)."
echo "Floor rate per connection (bit/s): $(for n in $PLAYERS; do printf '%s players: %s; ' "$n" "${FLOOR_RATE_USED[$n]:-?}"; done)"
echo
echo "## Markdown"
echo
hdr="| Players | Server | Delivered Mbit/s | Server CPU | CPU-s / Gbit | CPU vs nginx | Bytes / segment |"
sep="|---:|---|---:|---:|---:|---:|---:|"
for tok in $FLOOR_WRITES; do hdr+=" × floor ($(tok_label "$tok") writes) |"; sep+="---:|"; done
hdr+=" Players short of frames (of checked) | Latency p50 / p99 | RSS / player | junction-load CPU (run / window) |"
sep+="---:|---:|---:|---:|"
echo "$hdr"; echo "$sep"
for n in $PLAYERS; do
  ng=$(med "pergb|nginx|$n")
  for name in "${SERVERS[@]}"; do
    pg=$(med "pergb|$name|$n")
    line="| $n | $name | $(fmt "$(med "mbps|$name|$n")" %.1f) | $(fmt "$(med "cpupct|$name|$n")" %.1f)% | $(fmt "$pg" %.4f) | $(ratio "$pg" "$ng") | $(fmt "$(med "seg|$name|$n")" %.0f) |"
    for tok in $FLOOR_WRITES; do line+=" $(ratio "$pg" "$(floor_of "$n" "$tok")") |"; done
    line+=" $(med "miss|$name|$n") of $(med "checked|$name|$n") | $(fmt "$(med "p50|$name|$n")" %.0f) / $(fmt "$(med "p99|$name|$n")" %.0f) ms | $(fmt "$(med "rss|$name|$n")" %.1f) KiB | $(fmt "$(med "tool|$name|$n")" %.0f)% / $(med "loadwin|$name|$n")% |"
    echo "$line"
  done
done
echo
echo "| Players | Floor writes | Rate per connection | Delivered Mbit/s | Writer CPU-s / Gbit |"
echo "|---:|---:|---:|---:|---:|"
for n in $PLAYERS; do
  for tok in $FLOOR_WRITES; do
    [[ -n ${FW[$n|$tok]:-} ]] || continue
    echo "| $n | ${FW[$n|$tok]} B$([[ $tok == frame ]] && echo " (avg frame)") | $(awk -v r="${FLOOR_RATE_USED[$n]:-0}" 'BEGIN {printf "%.3f Mbit/s", r / 1e6}') | $(fmt "$(med "floormbps|$n|${FW[$n|$tok]}")" %.1f) | $(fmt "$(floor_of "$n" "$tok")" %.4f) |"
  done
done
if ((${#NOTES[@]})); then
  echo
  echo "**Notes from the runs:**"
  for n in "${NOTES[@]}"; do echo "- $n"; done
fi
# The raw figures (one value per round for every key) as evidence under docs/bench-results.
as_json_list() { printf '%s\n' "$@" | jq -R -s 'split("\n") | map(select(length > 0))'; }
for k in "${!R[@]}"; do printf '%s\t%s\n' "$k" "${R[$k]}"; done |
  jq -R -s --argjson notes "$(as_json_list "${NOTES[@]}")" --argjson short "$(as_json_list "${SHORT[@]}")" \
    --arg players "$PLAYERS" --argjson rounds "$ROUNDS" \
    '{players: ($players | split(" ") | map(tonumber)), rounds: $rounds,
      figures: (split("\n") | map(select(length > 0) | split("\t"))
                | map({key: .[0], value: (.[1] | split(" ") | map(select(length > 0) | (tonumber? // .)))})
                | from_entries),
      notes: $notes, short: $short}' >"$WORK/evidence.json"
BENCH_COMMAND=$CMDLINE save_evidence rtmp-fanout "$WORK/evidence.json"
if ((${#SHORT[@]})); then
  echo
  echo "**FAILED: players short of frames** (junction-load exited 3; the figures above are not valid):"
  for n in "${SHORT[@]}"; do echo "- $n"; done
  exit 1
fi
