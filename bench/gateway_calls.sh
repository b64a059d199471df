#!/usr/bin/env bash
# gateway_calls.sh: how many concurrent Flash<->SIP gateway calls this machine carries before
# audio is late or lost, and the CPU each call costs.
#
# Each call: a siprtmp client of junction-load's gateway mode logs in to junction's `sip`
# application, invites echo@127.0.0.1 (a sipp callee answering PCMU, echoing RTP with
# -rtp_echo), publishes Speex 16 kHz (20 ms frames, a 1 kHz tone made by ffmpeg) and plays what
# comes back. So every frame is transcoded twice in junction (Speex -> PCMU towards the phone,
# PCMU -> Speex back). junction-load reports frames sent and received (loss) and how late each
# came back against its call's steady delay; junction's CPU (utime+stime from /proc) over the
# media time gives CPU per call.
#
# Settings (environment): JUNCTION, LOAD (junction-load), CALLS ("25 50 100 200 300"),
# SECONDS_PER_RUN (20), SHARDS (nproc). Only 127.0.0.1 is used; every process stops by itself or
# at the end of its run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "gateway_calls.sh: $*" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JUNCTION=${JUNCTION:-$ROOT/build/src/junction}
LOAD=${LOAD:-$ROOT/build/tools/junction-load}
CALLS=${CALLS:-"25 50 100 200 300"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
SHARDS=${SHARDS:-$(nproc)}
HZ=$(getconf CLK_TCK)
for b in "$JUNCTION" "$LOAD" "$(command -v sipp || true)" "$(command -v ffmpeg || true)"; do
  [[ -x $b ]] || die "not executable: $b"
done
# junction runs in the work folder (for its core files): a relative path would not reach it there.
JUNCTION=$(realpath -- "$JUNCTION") LOAD=$(realpath -- "$LOAD")

WORK=$(mktemp -d /tmp/junction-gateway-bench.XXXXXX)
declare -a PIDS=()
trap 'for p in "${PIDS[@]:-}"; do [[ -n $p ]] && stop_pids "$p"; done; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT

ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "sine=frequency=1000:sample_rate=16000" -t 10 \
  -c:a libspeex -ar 16000 -ac 1 -f flv "$WORK/tone.flv"

RTMP_PORT=$(free_port 21935)
HTTP_PORT=$(free_port 28080)
SIP_PORT=$(free_port 25060)
ECHO_PORT=$((SIP_PORT + 1))
MEDIA_PORT=$(free_port 26000)
cat >"$WORK/junction.toml" <<TOML
[server]
shards = $SHARDS
max_connections_per_source = 0
log_level = "warn"
[http]
listen = ["127.0.0.1:$HTTP_PORT"]
access_log = ""
[rtmp]
listen = ["127.0.0.1:$RTMP_PORT"]
[sip]
listen = ["127.0.0.1:$SIP_PORT"]
# The lines log in without passwords (an open registrar), and no rate limit on loopback.
authenticate = false
udp_rate_limit = 0
TOML

echo "# gateway calls: Speex 16 kHz <-> PCMU, 20 ms, ${SECONDS_PER_RUN} s each; $(nproc) cores, $SHARDS shards"
printf '%-6s %-7s %-9s %-8s %-10s %-10s %-12s %s\n' calls set_up loss late p50_ms p99_ms cpu_core% cpu_ms/call-s
for calls in $CALLS; do
  (cd "$WORK" && ulimit -c unlimited && exec "$JUNCTION" --config "$WORK/junction.toml" >"$WORK/junction-$calls.out" 2>&1) &
  JPID=$!
  PIDS=("$JPID")
  for ((i = 0; i < 50; i++)); do curl -s "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && break; sleep 0.1; done
  # The echo: sipp answers every INVITE with PCMU and sends each RTP packet back to its sender.
  sipp -sf "$ROOT/bench/sipp/uas.xml" -i 127.0.0.1 -p "$ECHO_PORT" -mp "$MEDIA_PORT" -rtp_echo \
    -m "$calls" -timeout $((SECONDS_PER_RUN + 60))s -nostdin -bg >/dev/null 2>&1 || true
  (cd "$WORK" && sipp "127.0.0.1:$SIP_PORT" -sf "$ROOT/bench/sipp/register_callee.xml" -s echo \
    -key callee_port "$ECHO_PORT" -i 127.0.0.1 -p "$(free_port 27000)" -m 1 -timeout 10s -nostdin >/dev/null 2>&1) ||
    die "the echo did not register"
  before=$(ticks_of "$JPID")
  start=$(now)
  report=$("$LOAD" gateway --server "127.0.0.1:$RTMP_PORT" --calls "$calls" --ramp 50 --source "$WORK/tone.flv" 2>"$WORK/load-$calls.err" \
    --duration "${SECONDS_PER_RUN}s" || true)
  end=$(now)
  after=$(ticks_of "$JPID")
  alive "$JPID" || { echo "$calls: junction died"; tail -5 "$WORK/junction-$calls.out"; }
  [[ -n $report ]] || { echo "$calls: junction-load gave no report"; tail -5 "$WORK/load-$calls.err"; }
  stop_pids "$JPID"
  pkill -f "sipp -sf $ROOT/bench/sipp/uas.xml -i 127.0.0.1 -p $ECHO_PORT" 2>/dev/null || true
  [[ -n $report ]] && jq -c --argjson calls "$calls" --argjson ticks "$((after - before))" --argjson hz "$HZ" \
    --arg t0 "$start" --arg t1 "$end" --argjson media "$SECONDS_PER_RUN" \
    '{calls: $calls, server_cpu_seconds: ($ticks / $hz), elapsed_s: (($t1 | tonumber) - ($t0 | tonumber)),
      media_s: $media, load: .}' <<<"$report" >>"$WORK/runs.jsonl"
  python3 - "$report" "$calls" "$((after - before))" "$HZ" "$start" "$end" "$SECONDS_PER_RUN" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); calls = int(sys.argv[2]); ticks = int(sys.argv[3]); hz = int(sys.argv[4])
elapsed = float(sys.argv[6]) - float(sys.argv[5]); media = float(sys.argv[7])
cpu = ticks / hz
print("%-6d %-7d %-9.4f %-8.4f %-10.1f %-10.1f %-12.1f %.2f" % (
    calls, r["set_up"], r["loss"], r["late_fraction"], r["lateness_p50_ms"], r["lateness_p99_ms"],
    100 * cpu / elapsed, 1000 * cpu / max(1, r["set_up"]) / media))
if r["failures"]:
    print("       failures: %s" % "; ".join(r["failures"]))
PY
done
# Every run's junction-load report and the server's CPU, as evidence under docs/bench-results.
if [[ -s $WORK/runs.jsonl ]]; then
  jq -s '{runs: .}' "$WORK/runs.jsonl" >"$WORK/evidence.json"
  BENCH_COMMAND="CALLS=\"$CALLS\" SECONDS_PER_RUN=$SECONDS_PER_RUN bench/gateway_calls.sh" \
    save_evidence gateway-calls "$WORK/evidence.json"
fi
