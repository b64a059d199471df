#!/usr/bin/env bash
# Installs every Debian 12 package that Junction's build, tests and benchmarks need, and the
# browser tests' node packages (tests/browser, `npm ci` from its package-lock.json).
# Idempotent: packages already installed are skipped, `apt-get update` runs only when
# something is missing, and `npm ci` only when node_modules is missing or older than the
# lockfile. Non-interactive, so CI (root, no terminal) can run it unattended.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  liburing-dev libssl-dev libsrtp2-dev zlib1g-dev
  libavcodec-dev libavformat-dev libavutil-dev libswresample-dev libswscale-dev
  libexpat1-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test clients
  python3 python3-websockets python3-aiortc python3-slixmpp python3-aiohttp
  # real clients and peers for tests and benchmarks
  ffmpeg rtmpdump sip-tester baresip-core linphone-cli curl wrk nginx-light libnginx-mod-rtmp openssl procps
  # SIP peer for the benchmarks; the WebRTC one (its streaming plugin, bench/webrtc_fanout.sh)
  kamailio janus
  # XMPP peers: Prosody for the federation tests and the XMPP benchmark, ejabberd for the benchmark
  prosody ejabberd
  # ss (socket statistics), taskset and jq for the benchmark scripts
  iproute2 util-linux jq
  # groff renders the man page in the install test (docs/junction.8)
  groff-base
  # headless browser for the web page tests (driven by playwright-core from tests/browser)
  chromium
)

# The browser tests' node packages (playwright-core; it never downloads a browser: the tests
# use Debian's /usr/bin/chromium). Node.js 20 and npm come with the machine, not from Debian.
browser_tests=$(cd "$(dirname "$0")/../tests/browser" && pwd)
npm_ci_browser_tests() {
  if [[ -f $browser_tests/node_modules/.package-lock.json &&
        ! $browser_tests/package-lock.json -nt $browser_tests/node_modules/.package-lock.json ]]; then
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found: tests/browser is not set up (the web page tests need Node.js 20 and npm)" >&2
    return
  fi
  echo "setup: npm ci in tests/browser"
  (cd "$browser_tests" && npm ci --no-audit --no-fund --no-progress --loglevel=error)
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  npm_ci_browser_tests
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# nginx-light's, kamailio's, janus's, prosody's and ejabberd's packages may start their services
# (ports 80, 5060, 8088, 5222/5269: Junction's own XMPP defaults) when they are installed; Junction's tests and
# benchmarks start their own. Only services this run just installed are stopped: one the machine
# already ran is left alone.
for service in nginx kamailio janus prosody ejabberd; do
  package=$service
  [[ $service == nginx ]] && package=nginx-light
  [[ " ${missing[*]} " == *" $package "* ]] || continue
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    "${sudo[@]}" systemctl stop "$service" || true
  elif command -v service >/dev/null 2>&1; then
    "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true
  fi
done
npm_ci_browser_tests
