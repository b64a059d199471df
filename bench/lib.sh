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
