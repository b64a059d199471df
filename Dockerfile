# Junction in a container (docs/install.md):
#   docker build -t junction .
#   docker run --rm --security-opt seccomp=unconfined \
#       -p 8080:8080 -p 1935:1935 -p 5060:5060/udp -p 5060:5060/tcp junction
# The image runs the built-in configuration with every listener on 0.0.0.0 (--listen-all), as
# the user "junction", in /var/lib/junction (the user store and recordings go there).
#
# The server runs on io_uring, which Docker's default seccomp profile refuses since Docker 25
# (io_uring_setup fails with EPERM): run it with a profile that allows io_uring_setup,
# io_uring_enter and io_uring_register (docs/install.md), or unconfined as above. Or build the
# epoll server, which runs under the default profile:
#   docker build --build-arg JUNCTION_IO_BACKEND=epoll -t junction .

# ---------------------------------------------------------------------------------------------
# Build: Release, only the server.
FROM debian:bookworm AS build
ARG JUNCTION_IO_BACKEND=io_uring
# tools/setup.sh installs what the build, the tests and the benchmarks need (ffmpeg, sipp,
# baresip, nginx, kamailio, clang...), and has no build-only mode. These are the packages of its
# "toolchain" and "libraries" groups that building the junction target needs: no ccache, clang,
# test or benchmark libraries (libgtest, libgmock, libbenchmark) and no libavformat (used only by
# the tests).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      liburing-dev libssl-dev libsrtp2-dev \
      libavcodec-dev libavutil-dev libswresample-dev libswscale-dev \
      libexpat1-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Tests and benchmarks off; only the junction target is built (not junction-load). The runtime
# component is the binary, the web root and the configuration (cmake/install.cmake), staged in
# /staging as they go under /usr and /etc.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DJUNCTION_TESTS=OFF -DJUNCTION_BENCH=OFF \
      -DJUNCTION_IO_BACKEND=${JUNCTION_IO_BACKEND} \
 && cmake --build /build --target junction \
 && DESTDIR=/staging cmake --install /build --prefix /usr --component runtime --strip

# ---------------------------------------------------------------------------------------------
# Runtime: the shared libraries the binary links to, and nothing else.
FROM debian:bookworm-slim
# One package per library in the binary's NEEDED entries (readelf -d build/src/junction, each
# file looked up with dpkg -S): the runtime package of each -dev package above.
#   libboost_json.so.1.81.0, libboost_url.so.1.81.0   libboost-json1.81.0, libboost-url1.81.0
#   liburing.so.2                                     liburing2
#   libssl.so.3, libcrypto.so.3                       libssl3
#   libsrtp2.so.1                                     libsrtp2-1
#   libavcodec.so.59, libavutil.so.57                 libavcodec59, libavutil57
#   libswresample.so.4, libswscale.so.6               libswresample4, libswscale6
#   libexpat.so.1                                     libexpat1
#   libtomlplusplus.so.3                              libtomlplusplus3
#   libspdlog.so.1.10, libfmt.so.9                    libspdlog1.10, libfmt9
#   libsqlite3.so.0                                   libsqlite3-0
# libstdc++6, libgcc-s1 and libc6 are in the base image. libavcodec59 brings the codec
# libraries it links to (libx264, libopus, libspeex...), which the transcoder uses through it.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 \
      liburing2 libssl3 libsrtp2-1 \
      libavcodec59 libavutil57 libswresample4 libswscale6 \
      libexpat1 libtomlplusplus3 libspdlog1.10 libfmt9 libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/ /
# Without --config the web root is the installed one (beside the binary) and the user store and
# recordings are in $STATE_DIRECTORY (set below).
RUN useradd --system --user-group --home-dir /var/lib/junction --shell /usr/sbin/nologin junction \
 && mkdir -p /var/lib/junction \
 && chown -R junction:junction /var/lib/junction \
 && /usr/bin/junction --version \
 && /usr/bin/junction --config /etc/junction/junction.toml --check-config
WORKDIR /var/lib/junction
# The built-in configuration keeps its user store and recordings here (as systemd's
# StateDirectory= would say); its web root is /usr/share/junction/www, beside the binary.
ENV STATE_DIRECTORY=/var/lib/junction
USER junction
# HTTP (and SIP over WebSocket at /sip), RTMP, SIP over UDP and TCP.
EXPOSE 8080 1935 5060/udp 5060/tcp
# SIGTERM drains within server.shutdown_timeout (10 s): give `docker stop` a little longer
# (docker run --stop-timeout 15, or stop_grace_period in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/junction"]
CMD ["--listen-all"]
