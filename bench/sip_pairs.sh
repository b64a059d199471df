#!/usr/bin/env bash
# sip_pairs.sh: two junction builds alone, in interleaved pairs, on one fixed sipp layout: what a
# change does to SIP's CPU per transaction, told apart from how the machine runs at the moment
# (which moves a single run by ±15 % here). No Kamailio: sip_vs_kamailio.sh is the side-by-side
# figure; this is the A/B behind a change.
#
#   A=old/junction B=build/src/junction SCENARIO=register RATE=1000 PAIRS=4 bash bench/sip_pairs.sh
#
# SCENARIO: register (bench/sipp/register.xml, a new user each), call (uac.xml/uas.xml) or phone
# (uac_phone.xml/uas_phone.xml; the callee registers first). RATE per second for RUN_SECONDS
# (default 15); a call run counts CALL_TAIL seconds after it too (default 10: transactions end up
# to 32 s later, the same for both builds). SHARDS (default 2). SIPP_PORT, UAS_PORT: the sipp
# sockets' ports, fixed so that both builds see the same shard layout (SO_REUSEPORT hashes them).
# Prints each run (µs of CPU per transaction, task switches per transaction) and the means, and
# keeps them as evidence (docs/bench-results/<date>-sip-pairs-<scenario>-<rate>-<commit>.json).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "sip_pairs.sh: $*" >&2; exit 1; }
. "$ROOT/bench/lib.sh"

A=${A:?A=the first junction binary} B=${B:?B=the second junction binary}
SCENARIO=${SCENARIO:-register} RATE=${RATE:-1000} PAIRS=${PAIRS:-4} SECONDS_PER_RUN=${RUN_SECONDS:-15}
CALL_TAIL=${CALL_TAIL:-10} SHARDS=${SHARDS:-2}
SIPP_PORT=${SIPP_PORT:-23825} UAS_PORT=${UAS_PORT:-21700}
case $SCENARIO in register | call | phone) ;; *) die "SCENARIO is register, call or phone" ;; esac
for b in "$A" "$B" "$(command -v sipp || true)"; do [[ -x $b ]] || die "not executable: $b"; done
HZ=$(getconf CLK_TCK)
S=$ROOT/bench/sipp
WORK=$(mktemp -d /tmp/junction-sip-pairs.XXXXXX)
JP=""
trap '[[ -n $JP ]] && stop_pids "$JP"; rm -rf "$WORK"' EXIT

# One run: $1 the binary. Prints "us_per_transaction switches_per_transaction successful".
one_run() {
  local port n t0 t1 s0 s1 ok uas="" uac=uac.xml uasf=uas.xml div=1
  port=$(free_port 25060)
  sip_bench_config "$SHARDS" "$port" "$WORK/users.sqlite" >"$WORK/j.toml"
  rm -f "$WORK/users.sqlite"
  "$1" --config "$WORK/j.toml" >"$WORK/junction.out" 2>&1 &
  JP=$!
  for ((i = 0; i < 100; i++)); do [[ -n $(ss -Hlun "sport = :$port") ]] && break; sleep 0.1; done
  n=$((RATE * SECONDS_PER_RUN))
  if [[ $SCENARIO != register ]]; then
    [[ $SCENARIO == phone ]] && { uac=uac_phone.xml; uasf=uas_phone.xml; }
    div=2  # a call is two transactions (INVITE, BYE)
    sipp -i 127.0.0.1 -p "$UAS_PORT" -sf "$S/$uasf" -nostdin -m "$n" -timeout $((SECONDS_PER_RUN * 3 + 30))s \
      >"$WORK/uas.log" 2>&1 &
    uas=$!
    sipp -i 127.0.0.1 -p $((UAS_PORT + 1)) -sf "$S/register_callee.xml" -s callee -key callee_port "$UAS_PORT" \
      -m 1 -nostdin -timeout 10s "127.0.0.1:$port" >/dev/null 2>&1 || true
  fi
  t0=$(ticks_of "$JP"); s0=$(switches_of "$JP")
  if [[ $SCENARIO == register ]]; then
    sipp -i 127.0.0.1 -p "$SIPP_PORT" -sf "$S/register.xml" -key run "p$RANDOM-" -r "$RATE" -m "$n" -l $((RATE * 4)) \
      -nostdin -timeout $((SECONDS_PER_RUN * 3 + 20))s -trace_stat -stf "$WORK/s.csv" "127.0.0.1:$port" >"$WORK/sipp.log" 2>&1 || true
  else
    sipp -i 127.0.0.1 -p "$SIPP_PORT" -sf "$S/$uac" -s callee -r "$RATE" -m "$n" -l $((RATE * 4)) \
      -nostdin -timeout $((SECONDS_PER_RUN * 3 + 20))s -trace_stat -stf "$WORK/s.csv" "127.0.0.1:$port" >"$WORK/sipp.log" 2>&1 || true
    sleep "$CALL_TAIL"  # the transactions' ends belong to the run that made them
  fi
  t1=$(ticks_of "$JP"); s1=$(switches_of "$JP")
  [[ -n $uas ]] && stop_pids "$uas"
  stop_pids "$JP"; JP=""
  ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") s = i } END { print $s + 0 }' "$WORK/s.csv" 2>/dev/null || echo 0)
  rm -f "$WORK"/s*.csv
  awk -v t=$((t1 - t0)) -v hz="$HZ" -v ok="$ok" -v s=$((s1 - s0)) -v d=$div \
    'BEGIN { printf "%.1f %.2f %d\n", ok ? t / hz / (d * ok) * 1e6 : 0, ok ? s / (d * ok) : 0, ok }'
}

echo "A=$A B=$B; $SCENARIO at $RATE/s for ${SECONDS_PER_RUN}s; $PAIRS pairs; $SHARDS shards; sipp port $SIPP_PORT" >&2
declare -a RA=() RB=() WA=() WB=()
for ((p = 1; p <= PAIRS; p++)); do
  for side in A B; do
    bin=$A; [[ $side == B ]] && bin=$B
    read -r us sw ok <<<"$(one_run "$bin")"
    expected=$((RATE * SECONDS_PER_RUN))
    ((ok == expected)) || echo "  pair $p $side: $ok of $expected transactions succeeded" >&2
    printf '  pair %d %s: %6.1f us per transaction, %.2f task switches each\n' "$p" "$side" "$us" "$sw" >&2
    if [[ $side == A ]]; then RA+=("$us"); WA+=("$sw"); else RB+=("$us"); WB+=("$sw"); fi
  done
done
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", NR ? s / NR : 0 }'; }
mean2() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.2f", NR ? s / NR : 0 }'; }
echo "A: mean $(mean "${RA[@]}") us, $(mean2 "${WA[@]}") switches; B: mean $(mean "${RB[@]}") us, $(mean2 "${WB[@]}") switches per transaction"
json=$WORK/results.json
jq -n --arg a "$A" --arg b "$B" --arg sc "$SCENARIO" --argjson rate "$RATE" --argjson secs "$SECONDS_PER_RUN" \
  --argjson shards "$SHARDS" --argjson sipp_port "$SIPP_PORT" \
  --argjson ua "[$(IFS=,; echo "${RA[*]}")]" --argjson ub "[$(IFS=,; echo "${RB[*]}")]" \
  --argjson wa "[$(IFS=,; echo "${WA[*]}")]" --argjson wb "[$(IFS=,; echo "${WB[*]}")]" \
  '{a: $a, b: $b, scenario: $sc, rate: $rate, seconds_per_run: $secs, shards: $shards, sipp_port: $sipp_port,
    units: {us: "CPU microseconds per transaction", sw: "task switches per transaction"},
    us_a: $ua, us_b: $ub, switches_a: $wa, switches_b: $wb}' >"$json"
BENCH_COMMAND="A=$A B=$B SCENARIO=$SCENARIO RATE=$RATE PAIRS=$PAIRS RUN_SECONDS=$SECONDS_PER_RUN bench/sip_pairs.sh" \
  save_evidence "sip-pairs-$SCENARIO-$RATE" "$json"
