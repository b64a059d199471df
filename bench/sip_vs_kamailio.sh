#!/usr/bin/env bash
# sip_vs_kamailio.sh: the SIP registrar and proxy, junction against Kamailio, in one run.
#
# Both servers get the same work from sipp (Debian sip-tester) over UDP on loopback:
# - register: one REGISTER per sipp call, each for a new user (u<n>), at REG_RATES per second
#   for RUN_SECONDS; no authentication on either side (Kamailio: registrar + usrloc in memory);
# - call: INVITE, 180, 200, ACK and BYE through the proxy (record-routed) to a sipp callee
#   registered at it, at CALL_RATES calls per second for RUN_SECONDS;
# - phone calls (CALL_SCENARIOS includes "phone"): a second, different call shape, like a desk
#   phone's: To and Request-URI carry the proxy's port, 100/180/200 from a callee that copies the
#   Record-Route set, and the callee hangs up (its BYE goes back along the route set).
# For each run it measures the server's CPU (utime+stime from /proc; Kamailio: every process)
# while sipp runs, and reports CPU-seconds per 1,000 transactions (a REGISTER is one; a call is
# two, INVITE and BYE, plus the ACK it relays), failed calls, and the highest rate each server
# held with none failing. After the register runs it reports memory per registration: the
# growth of the server's proportional set size (Pss) divided by the registrations added. Each
# run also reports the server's task switches per transaction (sleeps, wake-ups, preemptions of
# all its threads): at the low rates they, not the requests, are most of the CPU on this VM.
# Runs are interleaved (junction, kamailio, junction, ...) and ROUNDS medians are shown.
#
# Settings (environment): JUNCTION (build/src/junction), KAMAILIO (kamailio), SHARDS (nproc:
# junction's shards and Kamailio's UDP children; JUNCTION_SHARDS overrides junction's alone, as
# a diagnosis, not a fair run), REG_RATES ("1000 2000 4000"), CALL_RATES
# ("200 400 800"), CALL_SCENARIOS ("call phone"), CALL_TAIL (33), RUN_SECONDS (10), ROUNDS (2).
# Only 127.0.0.1 is used; every process stops
# by itself (sipp's -m and -timeout) or is stopped at the end of its run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "sip_vs_kamailio.sh: $*" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JUNCTION=${JUNCTION:-$ROOT/build/src/junction}
KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
KAMAILIO_MODULES=${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
SHARDS=${SHARDS:-$(nproc)}
JUNCTION_SHARDS=${JUNCTION_SHARDS:-$SHARDS}
REG_RATES=${REG_RATES:-"1000 2000 4000"}
CALL_RATES=${CALL_RATES:-"200 400 800"}
CALL_SCENARIOS=${CALL_SCENARIOS:-"call phone"}
# A call run's CPU is counted until CALL_TAIL seconds after its last call: a proxy keeps each
# transaction for up to 64*T1 = 32 s after it ends (RFC 3261 Timers D and J), and what it spends
# ending them belongs to the run that made them, not to the next run measured.
CALL_TAIL=${CALL_TAIL:-33}
RUN_SECONDS=${RUN_SECONDS:-10}
ROUNDS=${ROUNDS:-2}
SCENARIOS=$ROOT/bench/sipp
HZ=$(getconf CLK_TCK)
for b in "$JUNCTION" "$KAMAILIO" "$(command -v sipp || true)"; do [[ -x $b ]] || die "not executable: $b"; done

WORK=$(mktemp -d /tmp/junction-sip-bench.XXXXXX)
trap 'for p in "${PIDS[@]:-}"; do [[ -n $p ]] && stop_pids "$p"; done; rm -rf "$WORK"' EXIT
declare -a PIDS=()
declare -A PORT PID

free_udp() {  # first UDP port >= $1 nobody listens on
  local p
  for ((p = $1; p < $1 + 200; p++)); do
    [[ -z $(ss -Hlun "sport = :$p") && -z $(ss -Hltn "sport = :$p") ]] && { echo "$p"; return; }
  done
  die "no free UDP port near $1"
}

start_junction() {
  PORT[junction]=$(free_udp 25060)
  sip_bench_config "$JUNCTION_SHARDS" "${PORT[junction]}" "$WORK/users.sqlite" >"$WORK/junction.toml"
  "$JUNCTION" --config "$WORK/junction.toml" >"$WORK/junction.out" 2>"$WORK/junction.err" &
  PID[junction]=$!
}

start_kamailio() {
  PORT[kamailio]=$(free_udp 26060)
  cat >"$WORK/kamailio.cfg" <<CFG
#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children=$SHARDS
tcp_children=1
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
dns_try_ipv6=no
use_dns_cache=no
listen=udp:127.0.0.1:${PORT[kamailio]}
alias="127.0.0.1:${PORT[kamailio]}"
mpath="$KAMAILIO_MODULES/"
loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "siputils.so"
loadmodule "textops.so"
modparam("usrloc", "db_mode", 0)
request_route {
  if (!mf_process_maxfwd_header("70")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK") && t_check_trans()) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) { save("location"); exit; }
  if (is_method("INVITE")) { record_route(); }
  if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  t_relay();
}
CFG
  "$KAMAILIO" -f "$WORK/kamailio.cfg" -DD -E -P "$WORK/kamailio.pid" -m 256 -M 16 \
    >"$WORK/kamailio.out" 2>"$WORK/kamailio.err" &
  PID[kamailio]=$!
}

server_pids() { echo "${PID[$1]}"; pgrep -P "${PID[$1]}" || true; }

wait_ready() {  # an OPTIONS-free check: the UDP port is bound
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -n $(ss -Hlun "sport = :${PORT[$1]}") ]] && { sleep 0.5; return; }
    sleep 0.1
  done
  die "$1 did not bind UDP ${PORT[$1]}; see $WORK/$1.err: $(tail -5 "$WORK/$1.err")"
}

# sipp once; prints "successful failed" from its final statistics.
run_sipp() {
  local out=$1; shift
  timeout $((RUN_SECONDS * 4 + 30)) sipp -i 127.0.0.1 -nostdin -timeout "$((RUN_SECONDS * 3 + 20))s" \
    -trace_stat -stf "$out.csv" -fd 1000 "$@" >"$out.log" 2>&1 || true
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i; if ($i == "FailedCall(C)") f = i } }
             END { printf "%d %d\n", $s, $f }' "$out.csv" 2>/dev/null || echo "0 0"
}

# One register run: $1 server, $2 rate. Prints "cpu_per_1000 successful failed pss_growth_kib
# switches_per_transaction".
register_run() {
  local name=$1 rate=$2 n pids t0 t1 m0 m1 s0 s1 result
  n=$((rate * RUN_SECONDS))
  mapfile -t pids < <(server_pids "$name")
  m0=$(pss_of "${pids[@]}"); t0=$(ticks_of "${pids[@]}"); s0=$(switches_of "${pids[@]}")
  result=$(run_sipp "$WORK/reg-$name-$rate-$ROUND" "127.0.0.1:${PORT[$name]}" -sf "$SCENARIOS/register.xml" \
    -p "$(free_udp 27060)" -key run "r$rate-$ROUND-" -r "$rate" -m "$n" -l $((rate * 4)))
  mapfile -t pids < <(server_pids "$name")
  t1=$(ticks_of "${pids[@]}"); m1=$(pss_of "${pids[@]}"); s1=$(switches_of "${pids[@]}")
  read -r ok failed <<<"$result"
  awk -v t=$((t1 - t0)) -v hz="$HZ" -v ok="$ok" -v f="$failed" -v m=$((m1 - m0)) -v s=$((s1 - s0)) \
    'BEGIN { printf "%.4f %d %d %d %.2f\n", ok ? (t / hz) / (ok / 1000) : 0, ok, f, m, ok ? s / ok : 0 }'
}

# One call run: $1 server, $2 rate, $3 scenario (call: uac.xml/uas.xml; phone: uac_phone.xml/
# uas_phone.xml). Prints "cpu_per_1000_transactions successful failed switches_per_transaction".
call_run() {
  local name=$1 rate=$2 scenario=${3:-call} n uas_port uas pids t0 t1 s0 s1 result uac_file=uac.xml uas_file=uas.xml
  [[ $scenario == phone ]] && { uac_file=uac_phone.xml; uas_file=uas_phone.xml; }
  n=$((rate * RUN_SECONDS))
  uas_port=$(free_udp 28060)
  sipp -i 127.0.0.1 -p "$uas_port" -sf "$SCENARIOS/$uas_file" -nostdin -m "$n" \
    -timeout "$((RUN_SECONDS * 3 + 25))s" >"$WORK/uas-$scenario-$name-$rate-$ROUND.log" 2>&1 &
  uas=$!
  run_sipp "$WORK/callee-$scenario-$name-$rate-$ROUND" "127.0.0.1:${PORT[$name]}" -sf "$SCENARIOS/register_callee.xml" \
    -p "$(free_udp 29060)" -s callee -key callee_port "$uas_port" -m 1 >/dev/null
  mapfile -t pids < <(server_pids "$name")
  t0=$(ticks_of "${pids[@]}"); s0=$(switches_of "${pids[@]}")
  result=$(run_sipp "$WORK/$scenario-$name-$rate-$ROUND" "127.0.0.1:${PORT[$name]}" -sf "$SCENARIOS/$uac_file" \
    -s callee -p "$(free_udp 29160)" -r "$rate" -m "$n" -l $((rate * 4)))
  sleep "$CALL_TAIL"
  mapfile -t pids < <(server_pids "$name")
  t1=$(ticks_of "${pids[@]}"); s1=$(switches_of "${pids[@]}")
  stop_pids "$uas"
  read -r ok failed <<<"$result"
  # A call is two transactions (INVITE, BYE) plus the ACK relayed without one.
  awk -v t=$((t1 - t0)) -v hz="$HZ" -v ok="$ok" -v f="$failed" -v s=$((s1 - s0)) \
    'BEGIN { printf "%.4f %d %d %.2f\n", ok ? (t / hz) / (2 * ok / 1000) : 0, ok, f, ok ? s / (2 * ok) : 0 }'
}

declare -A R
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2); else print 0 }'; }

echo "work dir $WORK; shards/children $SHARDS; REGISTER rates $REG_RATES; call rates $CALL_RATES; ${RUN_SECONDS}s per run; $ROUNDS round(s)" >&2
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  for name in junction kamailio; do
    "start_$name"; PIDS=("${PID[$name]}"); wait_ready "$name"
    for rate in $REG_RATES; do
      read -r cpu ok failed mem sw <<<"$(register_run "$name" "$rate")"
      R[reg_cpu_${name}_$rate]+="$cpu "; R[reg_fail_${name}_$rate]+="$failed "; R[reg_ok_${name}_$rate]+="$ok "
      R[reg_sw_${name}_$rate]+="$sw "
      R[reg_mem_${name}_$rate]+="$(awk -v m="$mem" -v n="$ok" 'BEGIN { printf "%.0f", n ? m * 1024 / n : 0 }') "
      printf '  round %d %-9s REGISTER %5d/s: %6d ok %5d failed, %.4f CPU-s per 1000, Pss +%d KiB, %.2f switches each\n' \
        "$ROUND" "$name" "$rate" "$ok" "$failed" "$cpu" "$mem" "$sw" >&2
    done
    for scenario in $CALL_SCENARIOS; do
      for rate in $CALL_RATES; do
        read -r cpu ok failed sw <<<"$(call_run "$name" "$rate" "$scenario")"
        R[${scenario}_cpu_${name}_$rate]+="$cpu "; R[${scenario}_fail_${name}_$rate]+="$failed "
        R[${scenario}_sw_${name}_$rate]+="$sw "
        R[${scenario}_ok_${name}_$rate]+="$ok "
        printf '  round %d %-9s %-6s   %5d/s: %6d ok %5d failed, %.4f CPU-s per 1000 transactions, %.2f switches each\n' \
          "$ROUND" "$name" "$scenario" "$rate" "$ok" "$failed" "$cpu" "$sw" >&2
      done
    done
    stop_pids "${PID[$name]}"; PIDS=()
  done
done

echo "# SIP registrar and proxy: junction vs Kamailio"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs: $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'); kernel $(uname -r)"
echo "- junction: $("$JUNCTION" --version), $JUNCTION_SHARDS shards; Kamailio: $("$KAMAILIO" -v 2>&1 | head -1 | awk '{print $3}'), $SHARDS UDP children, usrloc in memory; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*')"
echo "- Command: \`$( ((JUNCTION_SHARDS != SHARDS)) && echo "JUNCTION_SHARDS=$JUNCTION_SHARDS ")REG_RATES=\"$REG_RATES\" CALL_RATES=\"$CALL_RATES\" CALL_SCENARIOS=\"$CALL_SCENARIOS\" CALL_TAIL=$CALL_TAIL RUN_SECONDS=$RUN_SECONDS ROUNDS=$ROUNDS bench/sip_vs_kamailio.sh\`; medians of $ROUNDS interleaved round(s)"
echo
echo "| Scenario | Rate /s | Server | Successful | Failed | CPU-s per 1,000 transactions | junction / Kamailio | Task switches per transaction |"
echo "|---|---:|---|---:|---:|---:|---:|---:|"
for kind in reg $CALL_SCENARIOS; do
  rates=$REG_RATES; label=REGISTER
  [[ $kind == call ]] && { rates=$CALL_RATES; label="call (INVITE…BYE)"; }
  [[ $kind == phone ]] && { rates=$CALL_RATES; label="phone call (callee hangs up)"; }
  for rate in $rates; do
    kc=$(echo "${R[${kind}_cpu_kamailio_$rate]}" | median)
    for name in junction kamailio; do
      c=$(echo "${R[${kind}_cpu_${name}_$rate]}" | median)
      printf '| %s | %d | %s | %s | %s | %.4f | %s | %s |\n' "$label" "$rate" "$name" \
        "$(echo "${R[${kind}_ok_${name}_$rate]}" | median)" "$(echo "${R[${kind}_fail_${name}_$rate]}" | median)" "$c" \
        "$(awk -v a="$c" -v b="$kc" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')" \
        "$(echo "${R[${kind}_sw_${name}_$rate]}" | median)"
    done
  done
done
echo
for name in junction kamailio; do
  best_reg=0 best_call=0
  for rate in $REG_RATES; do [[ $(echo "${R[reg_fail_${name}_$rate]}" | median) == 0 ]] && best_reg=$rate; done
  for rate in $CALL_RATES; do
    all_ok=1
    for scenario in $CALL_SCENARIOS; do [[ $(echo "${R[${scenario}_fail_${name}_$rate]}" | median) == 0 ]] || all_ok=0; done
    ((all_ok)) && best_call=$rate
  done
  last=${REG_RATES##* }
  echo "- $name: highest tested rate with no failed call: $best_reg REGISTER/s, $best_call calls/s; memory per registration $(echo "${R[reg_mem_${name}_$last]}" | median) bytes (Pss growth over the $last/s run / registrations)"
done

# Every round's figures as JSON under docs/bench-results: R's keys are
# <reg|call|phone>_<cpu|ok|fail|mem|sw>_<server>_<rate> (sw: task switches per transaction), each a list with one value per round.
for k in "${!R[@]}"; do printf '%s\t%s\n' "$k" "${R[$k]}"; done |
  jq -R -s --arg reg "$REG_RATES" --arg call "$CALL_RATES" --argjson seconds "$RUN_SECONDS" --argjson rounds "$ROUNDS" --arg scenarios "$CALL_SCENARIOS" --argjson tail "$CALL_TAIL" \
    --argjson shards "$SHARDS" --argjson junction_shards "$JUNCTION_SHARDS" \
    '{register_rates: $reg, call_rates: $call, call_scenarios: $scenarios, call_tail_seconds: $tail, seconds_per_run: $seconds, rounds: $rounds, shards: $shards, junction_shards: $junction_shards,
      units: {cpu: "CPU-s per 1,000 transactions", mem: "bytes per registration (Pss growth)", sw: "task switches per transaction"},
      rounds_by_key: (split("\n") | map(select(. != "") | split("\t") |
        {(.[0]): (.[1] | split(" ") | map(select(. != "") | tonumber))}) | add)}' >"$WORK/evidence.json"
echo
BENCH_COMMAND="$( ((JUNCTION_SHARDS != SHARDS)) && echo "JUNCTION_SHARDS=$JUNCTION_SHARDS ")REG_RATES=\"$REG_RATES\" CALL_RATES=\"$CALL_RATES\" CALL_SCENARIOS=\"$CALL_SCENARIOS\" CALL_TAIL=$CALL_TAIL RUN_SECONDS=$RUN_SECONDS ROUNDS=$ROUNDS bench/sip_vs_kamailio.sh" \
  save_evidence "sip-vs-kamailio$( ((JUNCTION_SHARDS != SHARDS)) && echo "-junction-$JUNCTION_SHARDS-shards")" "$WORK/evidence.json"
