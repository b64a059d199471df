#!/usr/bin/env python3
"""Independent reference for the RTMP digest handshake vectors in
tests/unit/rtmp/handshake_test.cpp (test HandshakeVector.*).

Written from the layout that ffmpeg (libavformat/rtmpproto.c), librtmp (handshake.h) and
nginx-rtmp (ngx_rtmp_handshake.c) share, using only Python's hmac/hashlib, so it shares no code
with src/rtmp/handshake.cpp. Run it and paste the printed values into the test.

Every "random" region is filled with pattern(j) = (j * 73 + 41) & 0xff, j counting from 0 at
the start of each region (C1/S1 bytes 8..1535, C2/S2 bytes 0..1503).
"""
import hashlib
import hmac

TAIL = bytes([0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1,
              0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB,
              0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE])
FP_KEY = b"Genuine Adobe Flash Player 001" + TAIL
FMS_KEY = b"Genuine Adobe Flash Media Server 001" + TAIL


def pattern(n):
    return bytes((j * 73 + 41) & 0xFF for j in range(n))


def hm(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def offset(p, schema):
    base = 772 if schema == 0 else 8
    return sum(p[base:base + 4]) % 728 + base + 4


def imprint(p, schema, key):
    at = offset(p, schema)
    d = hm(key, p[:at] + p[at + 32:])
    return p[:at] + d + p[at + 32:], at, d


def response(peer_digest, full_key):
    body = pattern(1504)
    return hm(hm(full_key, peer_digest), body)


def hexs(b):
    return ", ".join("0x%02x" % x for x in b)


for schema in (1, 0):
    c1 = (0).to_bytes(4, "big") + bytes.fromhex("09007c02") + pattern(1528)
    c1, c1_at, c1_digest = imprint(c1, schema, FP_KEY[:30])
    s1 = (0x11223344).to_bytes(4, "big") + bytes.fromhex("0d0e0a0d") + pattern(1528)
    s1, s1_at, s1_digest = imprint(s1, schema, FMS_KEY[:36])
    s2_digest = response(c1_digest, FMS_KEY)
    c2_digest = response(s1_digest, FP_KEY)
    print(f"schema {schema}")
    print(f"  c1 digest at {c1_at}: {hexs(c1_digest)}")
    print(f"  s1 digest at {s1_at} (server epoch 0x11223344): {hexs(s1_digest)}")
    print(f"  s2 digest: {hexs(s2_digest)}")
    print(f"  c2 digest: {hexs(c2_digest)}")
