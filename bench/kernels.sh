#!/usr/bin/env bash
# kernels.sh: the Google Benchmark kernels (junction_kernels: HTTP parsing, static paths, MIME,
# shared buffers, counters, cross-shard round trips; junction_media_kernels: the transcoding
# chains; junction_sip_kernels: SIP parsing and serializing) pinned to CPU 1, three repetitions
# each, aggregates kept. Prints the console table and saves Google Benchmark's JSON for all three
# as evidence under docs/bench-results.
#
# Usage: bench/kernels.sh          Env: BUILD (build), REPETITIONS (3), CPU (1)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
die() { echo "kernels: $*" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build} REPETITIONS=${REPETITIONS:-3} CPU=${CPU:-1}
WORK=$(mktemp -d /tmp/junction-kernels.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
for b in junction_kernels junction_media_kernels junction_sip_kernels; do
  [[ -x $BUILD/bench/$b ]] || die "$BUILD/bench/$b is missing (make build)"
  taskset -c "$CPU" "$BUILD/bench/$b" --benchmark_repetitions="$REPETITIONS" \
    --benchmark_report_aggregates_only=true --benchmark_out="$WORK/$b.json" --benchmark_out_format=json
done
jq -n --slurpfile k "$WORK/junction_kernels.json" --slurpfile m "$WORK/junction_media_kernels.json" \
  --slurpfile s "$WORK/junction_sip_kernels.json" \
  '{junction_kernels: $k[0], junction_media_kernels: $m[0], junction_sip_kernels: $s[0]}' >"$WORK/evidence.json"
BENCH_COMMAND="BUILD=$BUILD REPETITIONS=$REPETITIONS CPU=$CPU bench/kernels.sh" save_evidence kernels "$WORK/evidence.json"
