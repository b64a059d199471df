#!/usr/bin/env bash
# Installs every Debian 12 package that Junction's build, tests and benchmarks need.
# Idempotent: packages already installed are skipped, and `apt-get update` runs only when
# something is missing. Non-interactive, so CI (root, no terminal) can run it unattended.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  liburing-dev libssl-dev libsrtp2-dev
  libavcodec-dev libavformat-dev libavutil-dev libswresample-dev libswscale-dev
  libexpat1-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test clients
  python3 python3-websockets
  # real clients and peers for tests and benchmarks
  ffmpeg rtmpdump sip-tester baresip-core linphone-cli curl wrk nginx-light libnginx-mod-rtmp openssl procps
  # SIP peer for the benchmarks
  kamailio
  # ss (socket statistics), taskset and jq for the benchmark scripts
  iproute2 util-linux jq
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# nginx-light's and kamailio's packages may start their services (ports 80 and 5060) when they
# are installed; Junction's tests and benchmarks start their own. Only services this run just
# installed are stopped: one the machine already ran is left alone.
for service in nginx kamailio; do
  package=$service
  [[ $service == nginx ]] && package=nginx-light
  [[ " ${missing[*]} " == *" $package "* ]] || continue
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    "${sudo[@]}" systemctl stop "$service" || true
  elif command -v service >/dev/null 2>&1; then
    "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true
  fi
done
