# Helpers the benchmark scripts share. Source it; it defines functions only. free_port calls
# the sourcing script's die().

# True if PID exists and is not a zombie (our exited children stay zombies until reaped, and
# kill -0 would still succeed on them).
alive() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st:0:1} != Z ]]
}

# First port >= $1 with no listener on it (bounded search).
free_port() {
  local p
  for ((p = $1; p < $1 + 200; p++)); do
    [[ -z $(ss -Hltn "sport = :$p") ]] && { echo "$p"; return; }
  done
  die "no free port near $1"
}

# utime+stime (clock ticks) of the given processes (all threads).
ticks_of() {
  local p st f total=0
  for p in "$@"; do
    st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    read -ra f <<<"${st##*) }"   # fields from #3 (state) on; utime=#14, stime=#15
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# Task switches (voluntary + involuntary, every thread) of the given processes: each one a
# sleep and a wake-up or a preemption, which on a virtual machine cost more than most requests.
switches_of() {
  local p total=0 n
  for p in "$@"; do
    n=$(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }')
    total=$((total + n))
  done
  echo "$total"
}

# A "Name: value kB" field of a /proc file, in KiB, summed over the given processes.
sum_kib() {
  local field=$1 file=$2 p total=0 kb
  shift 2
  for p in "$@"; do
    kb=$(awk -v f="$field:" '$1 == f {print $2; exit}' "/proc/$p/$file" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# VmRSS in KiB summed over the given processes.
rss_of() { sum_kib VmRSS status "$@"; }

# Anonymous resident memory in KiB (RssAnon: heap, stacks, buffers), without the pages of the
# executable and shared libraries it has touched (RssFile: code paged in on first use, shared
# with every process that maps the same files, and not a cost per session).
rss_anon_of() { sum_kib RssAnon status "$@"; }

# Proportional set size in KiB summed over the given processes: shared pages (Kamailio's
# shared-memory segment, mapped by every worker) counted once overall instead of once per process.
pss_of() { sum_kib Pss smaps_rollup "$@"; }

# Busy ticks of the whole machine (user nice system irq softirq steal) from /proc/stat.
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

now() { date +%s.%N; }

stop_pids() {  # TERM, up to 5 s, then KILL
  local p i any
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    any=0
    for p in "$@"; do alive "$p" && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for p in "$@"; do alive "$p" && kill -KILL "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# A junction configuration with SIP over UDP alone on 127.0.0.1:$2, $1 shards, no authentication
# and no rate limit (what the SIP benchmarks measure), its user store at $3.
sip_bench_config() {
  cat <<TOML
[server]
shards = $1
max_connections_per_source = 0
log_level = "warn"
shutdown_timeout = "2s"
[http]
listen = []
access_log = ""
[rtmp]
listen = []
[sip]
listen = ["127.0.0.1:$2"]
authenticate = false
udp_rate_limit = 0
[xmpp]
listen = []
s2s_listen = []
[users]
database = "$3"
TOML
}

# The run's raw results as evidence: docs/bench-results/<date>-<name>-<commit>.json, holding
# {benchmark, date, commit (with "-dirty" when the tree had changes), command, machine, results}.
# $1: the benchmark's name; $2: a file holding its results as one JSON value; BENCH_COMMAND: the
# command line as run. docs/benchmarks.md quotes these files.
save_evidence() {
  local root dir commit out
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  dir=$root/docs/bench-results
  mkdir -p "$dir"
  commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+="-dirty"
  out=$dir/$(date -u +%F)-$1-$commit.json
  jq -n --arg b "$1" --arg d "$(date -u +%FT%TZ)" --arg c "$commit" --arg cmd "${BENCH_COMMAND:-}" \
    --arg cpu "$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)" --arg kernel "$(uname -r)" \
    --argjson nproc "$(nproc)" --slurpfile r "$2" \
    '{benchmark: $b, date: $d, commit: $c, command: $cmd,
      machine: {cpu: $cpu, nproc: $nproc, kernel: $kernel}, results: $r[0]}' >"$out"
  echo "evidence: ${out#"$root"/}"
}
