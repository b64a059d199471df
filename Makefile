# The two commands of the README, and the checks CI adds after them.
#   make run   installs what is missing, builds Release, starts junction on localhost
#   make test  the same set-up, then every test through ctest
BUILD       ?= build
SAN_BUILD   ?= build-sanitize
EPOLL_BUILD ?= build-epoll
CMAKE_FLAGS ?=
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 20
SOAK_SECONDS ?= 600

.PHONY: setup build run test test-sanitize soak build-epoll bench clean install

setup:
	@bash tools/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/src/junction $(ARGS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2

# clang with AddressSanitizer and UBSan: the unit tests, the RTMP, SIP, gateway and recording
# integration suites (and the HTTP attacks) against the sanitized server with real clients
# (ctest -L sanitized), then every fuzz target over its corpus for FUZZ_SECONDS each. CI runs
# this after `make test`.
test-sanitize: setup
	CC=clang CXX=clang++ cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DJUNCTION_SANITIZE=ON -DJUNCTION_FUZZ=ON -DJUNCTION_BENCH=OFF -DJUNCTION_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ctest --test-dir $(SAN_BUILD) --output-on-failure -j 2

# Installs the binary, the configuration, the web root, the man page and the systemd unit
# (docs/install.md); PREFIX (default /usr/local) and DESTDIR as usual.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Soak and fault run (tests/soak/soak.py): RTMP fan-out, SIP registrations and calls, gateway
# calls and recordings for SOAK_SECONDS while clients misbehave (vanish, stall, send garbage, are
# killed with SIGKILL); fails when anything is left open or memory or descriptors grew past the
# bounds the script states. CI runs it for 180 s after `make test`.
soak: build
	JUNCTION_BIN=$(BUILD)/src/junction JUNCTION_LOAD_BIN=$(BUILD)/tools/junction-load \
	  /usr/bin/python3 tests/soak/soak.py --seconds $(SOAK_SECONDS) --report $(BUILD)/soak-report.json

# The epoll build, for comparing event backends in benchmarks.
build-epoll: setup
	cmake -S . -B $(EPOLL_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DJUNCTION_IO_BACKEND=epoll \
	  -DJUNCTION_TESTS=OFF -DJUNCTION_BENCH=OFF
	cmake --build $(EPOLL_BUILD) -j $(JOBS) --target junction

bench: build
	bash bench/http_static_vs_nginx.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(EPOLL_BUILD)

# RTMP fan-out (1 publisher, 100/500/1000 players) against nginx-rtmp and the TCP floor; about
# 10 minutes. Settings as environment variables, see bench/rtmp_fanout_vs_nginx.sh --help.
.PHONY: bench-rtmp
bench-rtmp: build
	JUNCTION=$(BUILD)/src/junction LOAD=$(BUILD)/tools/junction-load FLOOR=$(BUILD)/bench/tcp_floor \
	  bash bench/rtmp_fanout_vs_nginx.sh

# SIP registrar and proxy against Kamailio with sipp (REGISTER and call rates); about 6 minutes.
# Settings as environment variables, see bench/sip_vs_kamailio.sh.
.PHONY: bench-sip
bench-sip: build
	JUNCTION=$(BUILD)/src/junction bash bench/sip_vs_kamailio.sh
