#!/usr/bin/env bash
# xmpp_vs_prosody.sh: Junction's XMPP server beside Prosody (Debian's package), the same load on
# each in one run: junction-load's xmpp mode logs USERS users in (SCRAM, plain TCP or STARTTLS),
# keeps them idle a moment, then has them chat at RATE messages per second for SECONDS_PER_RUN.
#
# Reported per server and rate: server CPU-seconds per 1,000 messages (utime+stime from /proc
# between junction-load's "messaging" and "messaging_done" marks), messages lost, latency p50/p99,
# logins per second (--ramp LOGIN_RAMP), and memory per idle session (RssAnon with the users
# logged in, less RssAnon before, divided by USERS), plain and with TLS.
#
# Both servers run what they do by default for a message between two online users, without
# archives (Prosody's Debian configuration has no mod_mam; Junction runs with archive = false),
# one process each (Junction with SHARDS shards). Users: USERS accounts load<n> with the password
# "load", made with `junction users add` and as Prosody internal_plain account files.
#
# Settings (environment): JUNCTION, LOAD, PROSODY (prosody), USERS (1000), RATES ("500 2000"),
# SECONDS_PER_RUN (20), LOGIN_RAMP (500), SHARDS (nproc), TLS_MODES ("plain tls"),
# SERVERS ("junction prosody"). Only 127.0.0.1 is used; every process stops by itself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "xmpp_vs_prosody.sh: $*" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JUNCTION=${JUNCTION:-$ROOT/build/src/junction}
LOAD=${LOAD:-$ROOT/build/tools/junction-load}
PROSODY=${PROSODY:-$(command -v prosody || true)}
USERS=${USERS:-1000}
RATES=${RATES:-"500 2000"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
LOGIN_RAMP=${LOGIN_RAMP:-500}
SHARDS=${SHARDS:-$(nproc)}
TLS_MODES=${TLS_MODES:-"plain tls"}
SERVERS=${SERVERS:-"junction prosody"}
HZ=$(getconf CLK_TCK)
for b in "$JUNCTION" "$LOAD" "$PROSODY"; do [[ -x $b ]] || die "not executable: $b"; done
JUNCTION=$(realpath -- "$JUNCTION") LOAD=$(realpath -- "$LOAD")

WORK=$(mktemp -d /tmp/junction-xmpp-bench.XXXXXX)
declare -a PIDS=()
trap 'for p in "${PIDS[@]:-}"; do [[ -n $p ]] && stop_pids "$p"; done; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
  >/dev/null 2>&1

# --- Junction: its configuration and its users.
J_PORT=$(free_port 25222)
HTTP_PORT=$(free_port 28180)
junction_config() {  # $1: plain|tls
  cat <<TOML
[server]
shards = $SHARDS
max_connections_per_source = 0
log_level = "warn"
[http]
listen = ["127.0.0.1:$HTTP_PORT"]
access_log = ""
[rtmp]
listen = []
[sip]
listen = []
[xmpp]
listen = ["127.0.0.1:$J_PORT"]
federation = false
archive = false
login_timeout = "120s"
$( [[ $1 == tls ]] && printf 'tls_certificate = "%s"\ntls_private_key = "%s"\n' "$WORK/cert.pem" "$WORK/key.pem" )
[users]
database = "$WORK/users.sqlite"
TOML
}
junction_config plain >"$WORK/junction.toml"
echo "making $USERS users for junction..." >&2
seq 0 $((USERS - 1)) | xargs -P 4 -I{} "$JUNCTION" --config "$WORK/junction.toml" users add "load{}@localhost" --password load \
  >/dev/null

# --- Prosody: its configuration (its own ports, data and log) and the same users.
P_PORT=$(free_port 26222)
mkdir -p "$WORK/prosody/data/localhost/accounts"
for ((i = 0; i < USERS; i++)); do
  printf 'return { ["password"] = "load"; };\n' >"$WORK/prosody/data/localhost/accounts/load$i.dat"
done
prosody_config() {  # $1: plain|tls
  cat <<LUA
run_as_root = true
daemonize = false
pidfile = "$WORK/prosody/prosody.pid"
data_path = "$WORK/prosody/data"
log = { { levels = { min = "warn" }, to = "file", filename = "$WORK/prosody/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { $P_PORT }
s2s_ports = { }
c2s_direct_tls_ports = { }
http_ports = { }
https_ports = { }
use_ipv6 = false
authentication = "internal_plain"
storage = "internal"
-- Debian's default modules for a client, without the ones this run does not touch (admin, HTTP).
modules_enabled = { "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist",
  "vcard4", "vcard_legacy", "limits", "version", "uptime", "time", "ping", "smacks", "csi_simple" }
modules_disabled = { "s2s" }
c2s_require_encryption = $( [[ $1 == tls ]] && echo true || echo false )
allow_unencrypted_plain_auth = false
limits = { c2s = { rate = "10kb/s"; } }
VirtualHost "localhost"
$( [[ $1 == tls ]] && printf 'ssl = { certificate = "%s", key = "%s" }\n' "$WORK/cert.pem" "$WORK/key.pem" )
LUA
}

wait_port() {  # $1 port, $2 pid
  for ((i = 0; i < 200; i++)); do
    alive "$2" || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# One run: $1 server, $2 plain|tls, $3 rate. Appends one JSON object to $WORK/results.jsonl.
run_one() {
  local server=$1 mode=$2 rate=$3 pid port out before after t0 t1 rss0 rss1
  if [[ $server == junction ]]; then
    junction_config "$mode" >"$WORK/junction.toml"
    "$JUNCTION" --config "$WORK/junction.toml" >"$WORK/junction.log" 2>&1 &
    pid=$!
    port=$J_PORT
  else
    prosody_config "$mode" >"$WORK/prosody/prosody.cfg.lua"
    "$PROSODY" --config "$WORK/prosody/prosody.cfg.lua" -F >"$WORK/prosody/stdout.log" 2>&1 &
    pid=$!
    port=$P_PORT
  fi
  PIDS+=("$pid")
  wait_port "$port" "$pid" || die "$server did not listen on $port"
  sleep 1
  rss0=$(rss_anon_of "$pid")
  out=$WORK/load-$server-$mode-$rate.jsonl
  local tls_flag=()
  [[ $mode == tls ]] && tls_flag=(--tls)
  "$LOAD" xmpp --server "127.0.0.1:$port" --domain localhost --users "$USERS" --ramp "$LOGIN_RAMP" --rate "$rate" \
    --duration "${SECONDS_PER_RUN}s" --idle 3s --threads 2 "${tls_flag[@]}" >"$out" &
  local load_pid=$!
  # The marks: logged in (memory), messaging and done (CPU).
  until grep -q '"logged_in"' "$out" 2>/dev/null; do alive "$load_pid" || break; sleep 0.05; done
  sleep 1
  rss1=$(rss_anon_of "$pid")
  until grep -q '"messaging"' "$out" 2>/dev/null; do alive "$load_pid" || break; sleep 0.01; done
  before=$(ticks_of "$pid")
  until grep -q '"messaging_done"' "$out" 2>/dev/null; do alive "$load_pid" || break; sleep 0.01; done
  after=$(ticks_of "$pid")
  wait "$load_pid" || true
  stop_pids "$pid"
  local report
  report=$(tail -n 1 "$out")
  jq -c -n --arg server "$server" --arg mode "$mode" --argjson rate "$rate" --argjson users "$USERS" \
    --argjson cpu "$(awk -v a="$after" -v b="$before" -v hz="$HZ" 'BEGIN {printf "%.4f", (a - b) / hz}')" --argjson rss0 "$rss0" --argjson rss1 "$rss1" \
    --argjson load "$report" \
    '{server: $server, mode: $mode, rate: $rate, users: $users, server_cpu_seconds: $cpu,
      cpu_seconds_per_1000_messages: (if $load.messages.received > 0 then $cpu * 1000 / $load.messages.received else null end),
      idle_session_kib: (($rss1 - $rss0) / $users), load: $load}' >>"$WORK/results.jsonl"
  tail -n 1 "$WORK/results.jsonl" | jq -c '{server, mode, rate, cpu_seconds_per_1000_messages, idle_session_kib,
    lost: .load.messages.lost, p50: .load.messages.latency_ms_p50, p99: .load.messages.latency_ms_p99,
    logins_per_second: .load.logins.per_second, failed_logins: .load.logins.failed}' >&2
}

for mode in $TLS_MODES; do
  for rate in $RATES; do
    for server in $SERVERS; do
      run_one "$server" "$mode" "$rate"
    done
  done
done

jq -s . "$WORK/results.jsonl" >"$WORK/results.json"
echo "== ratios (junction / prosody): CPU per 1,000 messages" >&2
jq -r 'group_by(.mode + " " + (.rate|tostring))[] | select(length == 2) |
  (map(select(.server == "junction"))[0]) as $j | (map(select(.server == "prosody"))[0]) as $p |
  "\($j.mode) \($j.rate)/s: junction \($j.cpu_seconds_per_1000_messages|.*1000|round/1000) s, prosody \($p.cpu_seconds_per_1000_messages|.*1000|round/1000) s, ratio \(($j.cpu_seconds_per_1000_messages / $p.cpu_seconds_per_1000_messages)*100|round/100); idle KiB/session junction \($j.idle_session_kib|round), prosody \($p.idle_session_kib|round)"' \
  "$WORK/results.json" >&2
BENCH_COMMAND="USERS=$USERS RATES=\"$RATES\" SECONDS_PER_RUN=$SECONDS_PER_RUN TLS_MODES=\"$TLS_MODES\" bench/xmpp_vs_prosody.sh" \
  save_evidence xmpp-vs-prosody "$WORK/results.json"
