#!/usr/bin/env bash
# xmpp_vs_prosody_ejabberd.sh: Junction's XMPP server beside Prosody and ejabberd (Debian's
# packages), the same load on each in one run: junction-load's xmpp mode logs USERS users in (SCRAM, plain TCP or STARTTLS),
# keeps them idle a moment, then has them chat at RATE messages per second for SECONDS_PER_RUN.
#
# Reported per server and rate: server CPU-seconds per 1,000 messages (utime+stime from /proc
# between junction-load's "messaging" and "messaging_done" marks), messages lost, latency p50/p99,
# logins per second (--ramp LOGIN_RAMP), and memory per idle session (RssAnon with the users
# logged in, less RssAnon before, divided by USERS), plain and with TLS.
#
# Every server runs what it does by default for a message between two online users, without
# archives (Prosody's Debian configuration has no mod_mam, ejabberd's runs without mod_mam here;
# Junction runs with archive = false), one process each (Junction with SHARDS shards, ejabberd's
# Erlang VM with its default schedulers, one per core, not busy-waiting, and a listen backlog of
# 1,024 as the others have). Users: USERS accounts load<n> with the
# password "load", made with `junction users add`, as Prosody internal_plain account files, and
# through ejabberd's HTTP API (register, from loopback only) into its Mnesia, SCRAM-SHA-256.
# ejabberdctl runs the node as the ejabberd user: ejabberd is measured when the script runs as
# root (as CI does), and left out with a note otherwise.
#
# Settings (environment): JUNCTION, LOAD, PROSODY (prosody), EJABBERDCTL (ejabberdctl), USERS
# (1000), RATES ("500 2000"), SECONDS_PER_RUN (20), LOGIN_RAMP (500), SHARDS (nproc), TLS_MODES
# ("plain tls"), SERVERS ("junction prosody ejabberd"). Only 127.0.0.1 is used; every process
# stops by itself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "xmpp_vs_prosody_ejabberd.sh: $*" >&2; exit 2; }
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
SERVERS=${SERVERS:-"junction prosody ejabberd"}
EJABBERDCTL=${EJABBERDCTL:-$(command -v ejabberdctl || true)}
if [[ " $SERVERS " == *" ejabberd "* ]] && { [[ ! -x $EJABBERDCTL ]] || [[ $(id -u) != 0 ]]; }; then
  echo "xmpp_vs_prosody_ejabberd.sh: ejabberd left out (needs ejabberdctl and root: it runs the node as the ejabberd user)" >&2
  SERVERS=${SERVERS//ejabberd/}
fi
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
# The first alone: it makes the store (and turns WAL on, which concurrent first opens race for).
"$JUNCTION" --config "$WORK/junction.toml" users add load0@localhost --password load >/dev/null
seq 1 $((USERS - 1)) | xargs -P 4 -I{} "$JUNCTION" --config "$WORK/junction.toml" users add "load{}@localhost" --password load \
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

# --- ejabberd: its configuration, spool (Mnesia), logs and node of its own, readable by the
# ejabberd user; the users registered once over its HTTP API.
E_PORT=$(free_port 27222)
E_API=$(free_port 27280)
E_DIR=$WORK/ejabberd
E_NODE=jbench$$@localhost
ejabberd_config() {  # $1: plain|tls
  cat <<YAML
hosts: [localhost]
loglevel: warning
log_rotate_count: 0
$( [[ $1 == tls ]] && printf 'certfiles:\n  - "%s"\n  - "%s"\n' "$E_DIR/cert.pem" "$E_DIR/key.pem" )
listen:
  - port: $E_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: c2s
    starttls: $( [[ $1 == tls ]] && echo true || echo false )
    starttls_required: $( [[ $1 == tls ]] && echo true || echo false )
  - port: $E_API
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
api_permissions:
  "console commands":
    from: ejabberd_ctl
    who: all
    what: "*"
  "loopback registration":
    from: mod_http_api
    who:
      ip: 127.0.0.1/8
    what: [register]
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha256
s2s_access: none
access_rules:
  c2s:
    allow: all
shaper_rules:
  c2s_shaper: none
# Debian's default modules for a client, without those this run does not touch (MUC, HTTP
# upload, MQTT, push, admin commands).
modules:
  mod_roster: {}
  mod_disco: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_ping: {}
  mod_pubsub:
    plugins: [flat, pep]
  mod_private: {}
  mod_blocking: {}
  mod_privacy: {}
  mod_vcard: {}
  mod_stream_mgmt: {}
  mod_client_state: {}
  mod_version: {}
  mod_http_api: {}
YAML
}
ejabberdctl() { "$EJABBERDCTL" --config-dir "$E_DIR/conf" --spool "$E_DIR/spool" --logs "$E_DIR/logs" --node "$E_NODE" "$@"; }
if [[ " $SERVERS " == *" ejabberd "* ]]; then
  mkdir -p "$E_DIR/conf" "$E_DIR/spool" "$E_DIR/logs"
  cp /etc/ejabberd/inetrc "$E_DIR/conf/" 2>/dev/null || touch "$E_DIR/conf/inetrc"
  cp "$WORK/cert.pem" "$WORK/key.pem" "$E_DIR/"
  # Erlang's schedulers spin while idle by default (busy waiting), which /proc counts as CPU:
  # turned off, as for any CPU measurement of an Erlang server.
  echo 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 +sbwt none +sbwtdcpu none +sbwtdio none"' >"$E_DIR/conf/ejabberdctl.cfg"
  chmod 755 "$WORK"
  chown -R ejabberd "$E_DIR"
fi
E_REGISTERED=

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
  elif [[ $server == prosody ]]; then
    prosody_config "$mode" >"$WORK/prosody/prosody.cfg.lua"
    "$PROSODY" --config "$WORK/prosody/prosody.cfg.lua" -F >"$WORK/prosody/stdout.log" 2>&1 &
    pid=$!
    port=$P_PORT
  else
    ejabberd_config "$mode" >"$E_DIR/conf/ejabberd.yml"
    chown ejabberd "$E_DIR/conf/ejabberd.yml"
    ejabberdctl foreground >"$E_DIR/logs/foreground.log" 2>&1 &
    local starter=$! i
    PIDS+=("$starter")
    # The Erlang VM is what does the work (ejabberdctl runs it under su): its pid is measured.
    pid=
    for ((i = 0; i < 200; i++)); do
      pid=$(pgrep -f -- "beam.*$E_NODE" | head -n 1 || true)
      [[ -z $pid ]] || break
      sleep 0.05
    done
    [[ -n $pid ]] || die "ejabberd did not start: $(tail -n 5 "$E_DIR/logs/foreground.log")"
    port=$E_PORT
    wait_port "$E_API" "$pid" || die "ejabberd did not listen on $E_API"
    if [[ -z $E_REGISTERED ]]; then
      echo "registering $USERS users with ejabberd..." >&2
      seq 0 $((USERS - 1)) | xargs -P 4 -I{} curl -s -o /dev/null -X POST "http://127.0.0.1:$E_API/api/register" \
        -d '{"user":"load{}","host":"localhost","password":"load"}'
      E_REGISTERED=1
    fi
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
  if [[ $server == ejabberd ]]; then
    ejabberdctl stop >/dev/null 2>&1 || true
    for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.05; done
  fi
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
for peer in prosody ejabberd; do
  echo "== ratios (junction / $peer): CPU per 1,000 messages" >&2
  jq -r --arg peer "$peer" 'group_by(.mode + " " + (.rate|tostring))[] |
    (map(select(.server == "junction"))[0]) as $j | (map(select(.server == $peer))[0]) as $p |
    select($j != null and $p != null and $j.cpu_seconds_per_1000_messages != null and $p.cpu_seconds_per_1000_messages != null) |
    "\($j.mode) \($j.rate)/s: junction \($j.cpu_seconds_per_1000_messages|.*1000|round/1000) s, \($peer) \($p.cpu_seconds_per_1000_messages|.*1000|round/1000) s, ratio \(($j.cpu_seconds_per_1000_messages / $p.cpu_seconds_per_1000_messages)*100|round/100); idle KiB/session junction \($j.idle_session_kib|round), \($peer) \($p.idle_session_kib|round)"' \
    "$WORK/results.json" >&2
done
BENCH_COMMAND="USERS=$USERS RATES=\"$RATES\" SECONDS_PER_RUN=$SECONDS_PER_RUN TLS_MODES=\"$TLS_MODES\" SERVERS=\"$SERVERS\" bench/xmpp_vs_prosody_ejabberd.sh" \
  save_evidence xmpp-vs-prosody-ejabberd "$WORK/results.json"
