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
