"""Speex packets in and out of Ogg (RFC 3533 pages, the Speex header of the Speex manual), so that
tests can hand RTP speex/8000 payloads to ffmpeg's own Ogg demuxer and libspeex decoder, and take
packets an ffmpeg encoder made from an .spx file. Only what the tests need: one logical stream,
one packet per page when writing."""

import struct


def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def _crc(data):
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[((crc >> 24) ^ b) & 0xFF]
    return crc


def _page(packet, serial, sequence, granule, flags):
    lacing, left = [], len(packet)
    while left >= 255:
        lacing.append(255)
        left -= 255
    lacing.append(left)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing)) + bytes(lacing)
    page = bytearray(header + packet)
    page[22:26] = struct.pack("<I", _crc(page))
    return bytes(page)


def write_speex(path, packets, rate=8000, frame_size=160):
    """An .spx file of `packets` (one Speex frame each) at `rate` (8000: narrowband)."""
    mode = {8000: 0, 16000: 1, 32000: 2}[rate]
    header = (b"Speex   " + b"junction-test".ljust(20, b"\0") +
              struct.pack("<13i", 1, 80, rate, mode, 4, 1, -1, frame_size, 0, 1, 0, 0, 0))
    vendor = b"junction-test"
    comments = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    serial = 0x5EED
    pages = [_page(header, serial, 0, 0, 0x02), _page(comments, serial, 1, 0, 0)]
    for i, p in enumerate(packets):
        pages.append(_page(p, serial, i + 2, (i + 1) * frame_size, 0x04 if i == len(packets) - 1 else 0))
    with open(path, "wb") as f:
        f.write(b"".join(pages))


def read_packets(path):
    """Every packet of an Ogg file's (one) logical stream, headers included, in order."""
    with open(path, "rb") as f:
        data = f.read()
    packets, current, at = [], b"", 0
    while at + 27 <= len(data):
        if data[at:at + 4] != b"OggS":
            raise ValueError("not an Ogg page at %d" % at)
        count = data[at + 26]
        lacing = data[at + 27:at + 27 + count]
        body = at + 27 + count
        for size in lacing:
            current += data[body:body + size]
            body += size
            if size < 255:
                packets.append(current)
                current = b""
        at = body
    return packets
