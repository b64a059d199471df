#!/usr/bin/env bash
# http_static_vs_nginx.sh: static-file HTTP throughput and CPU cost, junction vs nginx.
#
# Serves the same random files from one temp web root with junction (and, with
# --epoll, a second junction binary built for epoll) and with nginx, all on
# 127.0.0.1, and drives each with wrk. Runs are interleaved (A B A B ...) so
# drift in machine state (page cache, thermals, other load) hits every server
# alike; the report shows medians over ROUNDS.
#
# Caveat: wrk runs on the same machine and competes with the server for the
# CPUs (on a 2-core box it takes roughly one of them). Requests/s is therefore
# bounded by wrk + server together; server CPU-seconds per 100k requests
# (utime+stime from /proc, nginx master + all workers) is the fairer
# efficiency number. (Loopback softirq work is charged to whichever task is
# on the CPU, so part of it may land on wrk; this affects every server alike.)
#
# Usage (as root): bench/http_static_vs_nginx.sh [--duration S] [--rounds N]
#     [--connections C] [--threads T] [--shards N] [--files "1k.bin ..."]
#     [--junction BIN] [--epoll BIN] [--nginx BIN]
# The same settings can be given as environment variables: DURATION (8),
# ROUNDS (3), CONNECTIONS (50), THREADS (1), SHARDS (nproc),
# FILES ("1k.bin index.html 64k.bin"), JUNCTION, EPOLL, NGINX.
# Prints a markdown report on stdout, progress on stderr.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SETTINGS=(DURATION ROUNDS CONNECTIONS THREADS SHARDS FILES JUNCTION EPOLL NGINX)
# Record the invocation exactly, including any settings passed through the env.
CMDLINE=""
for v in "${SETTINGS[@]}"; do [[ -v $v ]] && CMDLINE+="$v=$(printf '%q' "${!v}") "; done
CMDLINE+="$(printf '%q ' "$0" "$@")"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
SHARDS=${SHARDS:-$(nproc)}
FILES=${FILES:-1k.bin index.html 64k.bin}
JUNCTION=${JUNCTION:-$SCRIPT_DIR/../build/src/junction}
EPOLL=${EPOLL:-}
NGINX=${NGINX:-/usr/sbin/nginx}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "$*" >&2; }

while (($#)); do
  case $1 in
    # --duration S -> DURATION=S, and likewise for every name in SETTINGS.
    --duration|--rounds|--connections|--threads|--shards|--files|--junction|--epoll|--nginx)
      v=${1#--}; printf -v "${v^^}" '%s' "${2:?$1 needs a value}"; shift 2 ;;
    -h|--help)     sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *)             die "unknown argument: $1 (see --help)" ;;
  esac
done

for v in DURATION ROUNDS CONNECTIONS THREADS SHARDS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
((EUID == 0)) || die "run as root (nginx drops its workers to 'nobody')"
for b in "$JUNCTION" "$NGINX" ${EPOLL:+"$EPOLL"}; do [[ -x $b ]] || die "not executable: $b"; done
for t in wrk curl ss pgrep timeout; do command -v "$t" >/dev/null || die "missing tool: $t"; done

HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/junction-bench.XXXXXX)
WEB=$WORK/www
declare -A PID=() PORT=() RPS=() CPU=()
SERVERS=(junction nginx)
[[ -n $EPOLL ]] && SERVERS=(junction junction-epoll nginx)
NOTES=()

# A server's processes: the main pid plus its direct children (nginx workers).
server_pids() { echo "${PID[$1]}"; pgrep -P "${PID[$1]}" || true; }

# Sum of utime+stime (clock ticks) over the server's processes. For junction
# the process-level stat already includes all of its threads.
server_ticks() { ticks_of $(server_pids "$1"); }

cleanup() {
  local rc=$? name p pids=() i
  trap - EXIT INT TERM
  for name in "${!PID[@]}"; do
    # Collect workers before signalling: once the master is gone they are
    # reparented and can no longer be found by ppid.
    mapfile -t -O "${#pids[@]}" pids < <(server_pids "$name")
    kill -TERM "${PID[$name]}" 2>/dev/null || true
  done
  for ((i = 0; i < 50; i++)); do           # up to 5 s for a graceful exit
    local any=0
    for p in "${pids[@]}"; do alive "$p" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_files() {
  mkdir -p "$WEB"
  head -c 1024 /dev/urandom >"$WEB/1k.bin"
  head -c 65536 /dev/urandom >"$WEB/64k.bin"
  { # a ~4 KiB text page, the size of a typical small index.html
    printf '<!doctype html>\n<html><head><title>bench</title></head><body>\n'
    for ((i = 0; i < 64; i++)); do printf '<p>%056d</p>\n' "$i"; done
    printf '</body></html>\n'
  } >"$WEB/index.html"
  # nginx workers run as 'nobody' and mktemp dirs are 0700.
  chmod 755 "$WORK" "$WEB"; chmod 644 "$WEB"/*
}

# Wait (bounded) until $1 serves every benchmark file byte-identically.
wait_ready() {
  local name=$1 f i
  for ((i = 0; i < 100; i++)); do
    alive "${PID[$name]}" || { cat "$WORK/$name".{out,err} >&2 2>/dev/null || true; die "$name exited during start-up"; }
    curl -sf -o /dev/null "http://127.0.0.1:${PORT[$name]}/1k.bin" && break
    sleep 0.1
  done
  ((i < 100)) || die "$name did not start within 10 s"
  for f in $FILES; do
    curl -sf "http://127.0.0.1:${PORT[$name]}/$f" | cmp -s - "$WEB/$f" || die "$name serves a wrong /$f"
  done
}

start_junction() {
  local name=$1 bin=$2 conf=$WORK/$1.toml
  # HTTP only: two junctions run side by side here, and each other listener would be claimed
  # by the first (a second junction refuses the same addresses).
  printf '[server]\nshards = %d\nmax_connections_per_source = 0\n[http]\nlisten = ["127.0.0.1:%d"]\nweb_root = "%s"\naccess_log = ""\n[rtmp]\nlisten = []\n[sip]\nlisten = []\n[xmpp]\nlisten = []\ns2s_listen = []\n[users]\ndatabase = "%s"\n' \
    "$SHARDS" "${PORT[$name]}" "$WEB" "$WORK/$name-users.sqlite" >"$conf"
  "$bin" --config "$conf" --shards "$SHARDS" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID[$name]=$!
  wait_ready "$name"
  grep -q "listening: http tcp 127.0.0.1:${PORT[$name]}" "$WORK/$name.out" ||
    die "$name is serving but did not print its listening line"
}

start_nginx() {
  local conf=$WORK/nginx.conf t
  mkdir -p "$WORK/nginx-tmp"
  # Own minimal config: no modules-enabled include (it may pull in rtmp), and
  # every temp path inside $WORK so nothing under /var is touched.
  cat >"$conf" <<EOF
worker_processes $SHARDS;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  default_type application/octet-stream;
  types { text/html html; }
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
$(for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $WORK/nginx-tmp/$t;"; done)
  server {
    listen 127.0.0.1:${PORT[nginx]};
    root $WEB;
  }
}
EOF
  "$NGINX" -c "$conf" -p "$WORK" -g 'daemon off;' >"$WORK/nginx.out" 2>"$WORK/nginx.err" &
  PID[nginx]=$!
  wait_ready nginx
}

# One wrk run against server $1 for file $2; appends to RPS/CPU.
run_one() {
  local name=$1 file=$2 round=$3 out before after rps reqs cpu errs
  before=$(server_ticks "$name")
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" \
        "http://127.0.0.1:${PORT[$name]}/$file") || die "wrk failed against $name /$file"
  after=$(server_ticks "$name")
  alive "${PID[$name]}" || die "$name died during the run"
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  reqs=$(awk '/ requests in / {print $1}' <<<"$out")
  [[ -n $rps && ${reqs:-0} -gt 0 ]] || die "could not parse wrk output:"$'\n'"$out"
  cpu=$(awk -v d=$((after - before)) -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.4f", d / hz / n * 100000}')
  errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' \n' ' ' || true)
  if [[ -n $errs ]]; then
    NOTES+=("round $round, $name /$file: $errs")
    log "  WARNING: $errs"
  fi
  RPS[$file|$name]+="$rps "
  CPU[$file|$name]+="$cpu "
  log "  round $round  $(printf '%-15s %-11s' "$name" "/$file") $rps req/s  $cpu CPU-s/100k req"
}

median() {
  tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g |
    awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

# --- main --------------------------------------------------------------------

make_files
for f in $FILES; do [[ -f $WEB/$f ]] || die "unknown file '$f' (have: $(cd "$WEB" && echo *))"; done
port=18080
for name in "${SERVERS[@]}"; do PORT[$name]=$(free_port "$port"); port=$((${PORT[$name]} + 1)); done
log "work dir $WORK; ports: $(for n in "${SERVERS[@]}"; do printf '%s=%s ' "$n" "${PORT[$n]}"; done)"

start_junction junction "$JUNCTION"
[[ -n $EPOLL ]] && start_junction junction-epoll "$EPOLL"
start_nginx
log "servers up; $ROUNDS round(s) x ${#SERVERS[@]} servers x $(wc -w <<<"$FILES") files x ${DURATION}s"

for ((r = 1; r <= ROUNDS; r++)); do
  for f in $FILES; do
    for name in "${SERVERS[@]}"; do run_one "$name" "$f" "$r"; done
  done
done

# --- report ------------------------------------------------------------------

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "# Static files over HTTP: junction vs nginx (loopback)"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- nproc: $(nproc); CPU: ${cpu_model:-unknown}; kernel: $(uname -r)"
echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
echo "- junction: $("$JUNCTION" --version 2>&1 | head -1)"
[[ -n $EPOLL ]] && echo "- junction-epoll: $("$EPOLL" --version 2>&1 | head -1)"
echo "- Command: \`${CMDLINE% }\`"
echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\`, $ROUNDS interleaved round(s), medians;" \
     "servers use $SHARDS shard(s) / worker process(es)"
echo "- Note: wrk shares the $(nproc) CPUs with the server under test."
echo
echo "| File | Size | Server | Requests/s | CPU-s / 100k req | Req/s vs nginx | CPU vs nginx |"
echo "|---|---:|---|---:|---:|---:|---:|"
for f in $FILES; do
  size=$(stat -c %s "$WEB/$f")
  nr=$(median "${RPS[$f|nginx]}"); nc=$(median "${CPU[$f|nginx]}")
  for name in "${SERVERS[@]}"; do
    mr=$(median "${RPS[$f|$name]}"); mc=$(median "${CPU[$f|$name]}")
    printf '| /%s | %s B | %s | %.0f | %.3f | %s | %s |\n' "$f" "$size" "$name" "$mr" "$mc" \
      "$(ratio "$mr" "$nr")" "$(ratio "$mc" "$nc")"
  done
done
if ((${#NOTES[@]})); then
  echo
  echo "**wrk reported errors:**"
  for n in "${NOTES[@]}"; do echo "- $n"; done
fi

# --- evidence: every round's figures as JSON under docs/bench-results ------------
for f in $FILES; do
  for name in "${SERVERS[@]}"; do
    jq -n --arg file "/$f" --argjson size "$(stat -c %s "$WEB/$f")" --arg server "$name" \
      --arg rps "${RPS[$f|$name]}" --arg cpu "${CPU[$f|$name]}" \
      --argjson rps_median "$(median "${RPS[$f|$name]}")" --argjson cpu_median "$(median "${CPU[$f|$name]}")" \
      '{file: $file, size: $size, server: $server,
        requests_per_second: ($rps | split(" ") | map(select(. != "") | tonumber)),
        cpu_seconds_per_100k_requests: ($cpu | split(" ") | map(select(. != "") | tonumber)),
        median_requests_per_second: $rps_median, median_cpu_seconds_per_100k_requests: $cpu_median}'
  done
done | jq -s --arg load "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s" --argjson rounds "$ROUNDS" \
  --argjson shards "$SHARDS" --arg nginx "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')" \
  --argjson notes "$(printf '%s\n' "${NOTES[@]}" | jq -R . | jq -s 'map(select(. != ""))')" \
  '{load: $load, rounds: $rounds, shards: $shards, nginx: $nginx, notes: $notes, runs: .}' >"$WORK/evidence.json"
echo
BENCH_COMMAND="${CMDLINE% }" save_evidence http-static "$WORK/evidence.json"
