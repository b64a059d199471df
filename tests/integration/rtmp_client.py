"""A small raw-socket RTMP client for Junction's integration tests (Python standard library only).

What it does, deliberately plainly so tests can also send what a real client never would:
  * the plain handshake (C0/C1 with a zero version field, C2 echoing S1);
  * a chunk writer (fmt 0 header, fmt 3 continuation chunks) and helpers for hand-made chunks;
  * a chunk reader with per-chunk-stream state (fmt 0..3, extended timestamps) that honours
    Set Chunk Size and Abort, answers pings and acknowledges the server's window;
  * a minimal AMF0 encoder/decoder for commands, data messages and status objects.

Only 127.0.0.1 is ever contacted by the tests that use it.
"""

import os
import select
import socket
import struct
import time

# Message types (RTMP 1.0, section 5.4 and 7.1).
SET_CHUNK_SIZE = 1
ABORT = 2
ACKNOWLEDGEMENT = 3
USER_CONTROL = 4
WINDOW_ACK_SIZE = 5
SET_PEER_BANDWIDTH = 6
AUDIO = 8
VIDEO = 9
DATA_AMF3 = 15
COMMAND_AMF3 = 17
DATA_AMF0 = 18
COMMAND_AMF0 = 20
AGGREGATE = 22

HANDSHAKE_SIZE = 1536


class RtmpError(Exception):
    pass


class RtmpClosed(RtmpError):
    """The server closed the connection (EOF or reset)."""


class RtmpTimeout(RtmpError):
    pass


# --------------------------------------------------------------------------------------------
# AMF0


class Undefined:
    def __repr__(self):
        return "undefined"


UNDEFINED = Undefined()


class EcmaArray(dict):
    """A dict that encodes as an AMF0 ECMA array (marker 0x08) instead of an object."""


class RawAmf:
    """Pre-encoded AMF0 bytes, inserted as they are (for hand-made, even malformed, values)."""

    def __init__(self, data):
        self.data = data


def _amf_string_body(s):
    data = s.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError("short AMF0 string too long")
    return struct.pack(">H", len(data)) + data


def amf0_encode(value):
    if isinstance(value, RawAmf):
        return value.data
    if value is None:
        return b"\x05"
    if value is UNDEFINED:
        return b"\x06"
    if isinstance(value, bool):
        return b"\x01" + (b"\x01" if value else b"\x00")
    if isinstance(value, (int, float)):
        return b"\x00" + struct.pack(">d", float(value))
    if isinstance(value, str):
        data = value.encode("utf-8")
        if len(data) > 0xFFFF:
            return b"\x0c" + struct.pack(">I", len(data)) + data
        return b"\x02" + struct.pack(">H", len(data)) + data
    if isinstance(value, EcmaArray):
        out = b"\x08" + struct.pack(">I", len(value))
        for k, v in value.items():
            out += _amf_string_body(k) + amf0_encode(v)
        return out + b"\x00\x00\x09"
    if isinstance(value, dict):
        out = b"\x03"
        for k, v in value.items():
            out += _amf_string_body(k) + amf0_encode(v)
        return out + b"\x00\x00\x09"
    if isinstance(value, (list, tuple)):
        out = b"\x0a" + struct.pack(">I", len(value))
        for v in value:
            out += amf0_encode(v)
        return out
    raise TypeError("cannot encode %r as AMF0" % (value,))


def amf0_encode_all(values):
    return b"".join(amf0_encode(v) for v in values)


def nested_objects(depth):
    """AMF0 bytes of an object nested `depth` levels deep: {"a": {"a": ... {} ...}}."""
    return RawAmf(b"\x03\x00\x01a" * (depth - 1) + b"\x03" + b"\x00\x00\x09" * depth)


class AmfDecodeError(RtmpError):
    pass


class _AmfReader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise AmfDecodeError("AMF0 data truncated at %d (+%d of %d)" % (
                self.pos, n, len(self.data)))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def short_string(self):
        return self.take(self.u16()).decode("utf-8", "replace")

    def members(self, into, depth):
        while True:
            key = self.short_string()
            if key == "" and self.data[self.pos:self.pos + 1] == b"\x09":
                self.pos += 1
                return into
            into[key] = self.value(depth + 1)

    def value(self, depth=0):
        if depth > 64:
            raise AmfDecodeError("AMF0 nesting too deep")
        marker = self.u8()
        if marker == 0x00:
            return struct.unpack(">d", self.take(8))[0]
        if marker == 0x01:
            return self.u8() != 0
        if marker == 0x02:
            return self.short_string()
        if marker == 0x03:
            return self.members({}, depth)
        if marker == 0x05:
            return None
        if marker == 0x06:
            return UNDEFINED
        if marker == 0x08:
            self.u32()  # count hint
            return self.members(EcmaArray(), depth)
        if marker == 0x0A:
            return [self.value(depth + 1) for _ in range(self.u32())]
        if marker == 0x0B:
            ms = struct.unpack(">d", self.take(8))[0]
            self.take(2)
            return ms
        if marker in (0x0C, 0x0F):
            return self.take(self.u32()).decode("utf-8", "replace")
        if marker == 0x10:
            self.short_string()  # class name
            return self.members({}, depth)
        if marker == 0x11:  # avmplus: one AMF3 value (amf3.py)
            import amf3
            d = amf3.Decoder(self.data, self.pos)
            try:
                value = d.value(depth + 1)
            except amf3.DecodeError as e:
                raise AmfDecodeError(str(e))
            self.pos = d.pos
            return value
        raise AmfDecodeError("AMF0 marker 0x%02x not supported at %d" % (marker, self.pos - 1))


def amf0_decode_all(data):
    r = _AmfReader(data)
    out = []
    while r.pos < len(data):
        out.append(r.value())
    return out


# --------------------------------------------------------------------------------------------
# Chunks


def basic_header(fmt, csid):
    if csid < 2 or csid > 65599:
        raise ValueError("chunk stream id %d" % csid)
    if csid < 64:
        return bytes([(fmt << 6) | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([(fmt << 6) | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])


def chunk_header(fmt, csid, timestamp=0, length=0, type_id=0, stream_id=0):
    """One chunk's basic + message header (no payload), timestamps below 0xFFFFFF only."""
    out = basic_header(fmt, csid)
    if fmt <= 2:
        out += struct.pack(">I", timestamp)[1:]
    if fmt <= 1:
        out += struct.pack(">I", length)[1:] + bytes([type_id])
    if fmt == 0:
        out += struct.pack("<I", stream_id)
    return out


def chunk_message(csid, type_id, stream_id, payload, timestamp=0, chunk_size=128):
    """A whole message as chunks: one fmt 0 header, fmt 3 headers before each continuation."""
    extended = timestamp >= 0xFFFFFF
    head = basic_header(0, csid) + struct.pack(">I", 0xFFFFFF if extended else timestamp)[1:] + \
        struct.pack(">I", len(payload))[1:] + bytes([type_id]) + struct.pack("<I", stream_id)
    ext = struct.pack(">I", timestamp) if extended else b""
    out = [head, ext, payload[:chunk_size]]
    for at in range(chunk_size, len(payload), chunk_size):
        out += [basic_header(3, csid), ext, payload[at:at + chunk_size]]
    return b"".join(out)


def set_chunk_size_message(size):
    return chunk_message(2, SET_CHUNK_SIZE, 0, struct.pack(">I", size & 0xFFFFFFFF))


class Message:
    def __init__(self, csid, type_id, timestamp, stream_id, payload):
        self.csid = csid
        self.type = type_id
        self.timestamp = timestamp
        self.stream_id = stream_id
        self.payload = payload
        self._values = None

    def values(self):
        """Decoded AMF0 values of a command or data message (AMF3 kinds skip their 0 byte)."""
        if self._values is None:
            body = self.payload
            if self.type in (COMMAND_AMF3, DATA_AMF3) and body[:1] == b"\x00":
                body = body[1:]
            self._values = amf0_decode_all(body)
        return self._values

    @property
    def is_command(self):
        return self.type in (COMMAND_AMF0, COMMAND_AMF3)

    @property
    def command_name(self):
        if not self.is_command:
            return None
        v = self.values()
        return v[0] if v and isinstance(v[0], str) else None

    @property
    def transaction_id(self):
        return self.values()[1]

    def status(self):
        """The info object of onStatus/_result/_error (the 4th value), or {}."""
        v = self.values()
        return v[3] if len(v) > 3 and isinstance(v[3], dict) else {}

    def __repr__(self):
        extra = ""
        if self.is_command or self.type in (DATA_AMF0, DATA_AMF3):
            try:
                extra = " %r" % (self.values(),)
            except AmfDecodeError as e:
                extra = " <%s>" % e
        return "<Message type=%d csid=%d sid=%d ts=%d len=%d%s>" % (
            self.type, self.csid, self.stream_id, self.timestamp, len(self.payload), extra)


class _ChunkStream:
    def __init__(self):
        self.timestamp = 0
        self.delta = 0
        self.length = 0
        self.type = 0
        self.stream_id = 0
        self.extended = False
        self.parts = []
        self.received = 0


# --------------------------------------------------------------------------------------------
# The client


class RtmpClient:
    """One RTMP connection to 127.0.0.1:port. All reads are bounded by explicit timeouts."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, rcvbuf=None, mss=None,
                 connect_socket=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.buf = bytearray()
        self.in_chunk_size = 128
        self.out_chunk_size = 128
        self.streams = {}
        self.window = 0
        self.bytes_in = 0
        self.acked = 0
        self.next_tid = 2  # 1 is connect's
        self.pending = []  # messages read while waiting for something else
        self.server_messages = []  # protocol control messages seen (type, value)
        self.eof = False
        if connect_socket:
            self.open(rcvbuf, mss)

    # -- socket --

    def open(self, rcvbuf=None, mss=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect, so the window the kernel announces is small from the start.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if mss is not None:
            # Before connect: the SYN announces it, and the server's kernel sizes its send
            # buffer from it (loopback's 64 KiB MSS otherwise lets it buffer megabytes).
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        s.settimeout(self.timeout)
        s.connect((self.host, self.port))
        self.sock = s
        return self

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RtmpTimeout("nothing more from the server within the time limit")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(256 * 1024)
        except socket.timeout:
            raise RtmpTimeout("nothing more from the server within the time limit")
        except (ConnectionResetError, BrokenPipeError) as e:
            self.eof = True
            raise RtmpClosed("connection reset: %s" % e)
        if not data:
            self.eof = True
            raise RtmpClosed("connection closed by the server")
        self.bytes_in += len(data)
        self.buf += data

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self._recv(deadline)

    def closed_within(self, timeout):
        """True if the server closes the connection (EOF/reset) within timeout; reads and
        discards whatever arrives before."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([self.sock], [], [], left)
            if not readable:
                continue
            try:
                data = self.sock.recv(256 * 1024)
            except (ConnectionResetError, BrokenPipeError):
                return True
            except socket.timeout:
                continue
            if not data:
                return True

    # -- handshake --

    def handshake(self, version=3):
        """Plain handshake: C0+C1, read S0+S1+S2, send C2 (echo of S1). Returns (S1, S2)."""
        deadline = time.monotonic() + self.timeout
        c1 = struct.pack(">II", 0, 0) + os.urandom(HANDSHAKE_SIZE - 8)
        self.send_raw(bytes([version]) + c1)
        self._need(1 + 2 * HANDSHAKE_SIZE, deadline)
        s0 = self.buf[0]
        s1 = bytes(self.buf[1:1 + HANDSHAKE_SIZE])
        s2 = bytes(self.buf[1 + HANDSHAKE_SIZE:1 + 2 * HANDSHAKE_SIZE])
        del self.buf[:1 + 2 * HANDSHAKE_SIZE]
        if s0 != 3:
            raise RtmpError("S0 version %d" % s0)
        if s2[8:] != c1[8:]:
            raise RtmpError("S2 does not echo C1's random bytes")
        self.send_raw(s1)  # C2
        return s1, s2

    # -- writing --

    def send_message(self, csid, type_id, stream_id, payload, timestamp=0):
        self.send_raw(chunk_message(csid, type_id, stream_id, payload, timestamp,
                                    self.out_chunk_size))

    def set_chunk_size(self, size):
        self.send_raw(chunk_message(2, SET_CHUNK_SIZE, 0, struct.pack(">I", size),
                                    chunk_size=self.out_chunk_size))
        self.out_chunk_size = size

    def send_command(self, name, tid, obj=None, *args, stream_id=0, csid=3, amf3=False):
        body = amf0_encode_all([name, tid, obj] + list(args))
        if amf3:
            body = b"\x00" + body
        self.send_message(csid, COMMAND_AMF3 if amf3 else COMMAND_AMF0, stream_id, body)

    def new_tid(self):
        tid = self.next_tid
        self.next_tid += 1
        return tid

    # -- reading --

    def read_message(self, timeout=None):
        """The next complete message (after handling protocol control). Raises RtmpClosed on
        EOF, RtmpTimeout when nothing complete arrives in time."""
        if self.pending:
            return self.pending.pop(0)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            m = self._read_chunk(deadline)
            if m is None:
                continue
            if self._control(m):
                continue
            return m

    def _read_chunk(self, deadline):
        self._need(1, deadline)
        first = self.buf[0]
        fmt = first >> 6
        low = first & 0x3F
        basic = 1 if low > 1 else (2 if low == 0 else 3)
        self._need(basic, deadline)
        if low == 0:
            csid = 64 + self.buf[1]
        elif low == 1:
            csid = 64 + self.buf[1] + self.buf[2] * 256
        else:
            csid = low
        header_size = basic + (11, 7, 3, 0)[fmt]
        self._need(header_size, deadline)
        h = bytes(self.buf[basic:header_size])
        cs = self.streams.get(csid)
        if cs is None and fmt != 0:
            raise RtmpError("server sent fmt %d on new chunk stream %d" % (fmt, csid))
        # Nothing is changed until the whole chunk is buffered: a timeout in between leaves the
        # reader as it was, so reading can simply be retried.
        field = int.from_bytes(h[0:3], "big") if fmt <= 2 else None
        length = int.from_bytes(h[3:6], "big") if fmt <= 1 else cs.length
        type_id = h[6] if fmt <= 1 else cs.type
        stream_id = struct.unpack("<I", h[7:11])[0] if fmt == 0 else cs.stream_id
        extended = (field == 0xFFFFFF) if field is not None else cs.extended
        size = header_size + (4 if extended else 0)
        self._need(size, deadline)
        if extended:
            field = struct.unpack(">I", bytes(self.buf[header_size:size]))[0]
        new_message = cs is None or cs.received == 0
        received = 0 if new_message else cs.received
        n = min(self.in_chunk_size, length - received)
        self._need(size + n, deadline)
        if cs is None:
            cs = self.streams[csid] = _ChunkStream()
        cs.length, cs.type, cs.stream_id = length, type_id, stream_id
        if fmt <= 2:
            cs.extended = extended
        if new_message:
            if fmt == 0:
                cs.timestamp = field
                cs.delta = field
            elif fmt in (1, 2):
                cs.delta = field
                cs.timestamp += field
            else:
                cs.timestamp += cs.delta
        cs.parts.append(bytes(self.buf[size:size + n]))
        cs.received += n
        del self.buf[:size + n]
        self._ack_if_due()
        if cs.received < cs.length:
            return None
        payload = b"".join(cs.parts)
        cs.parts = []
        cs.received = 0
        return Message(csid, cs.type, cs.timestamp, cs.stream_id, payload)

    def _ack_if_due(self):
        if self.window and self.bytes_in - self.acked >= self.window and self.sock is not None:
            self.acked = self.bytes_in
            try:
                self.send_raw(chunk_message(2, ACKNOWLEDGEMENT, 0,
                                            struct.pack(">I", self.bytes_in & 0xFFFFFFFF)))
            except OSError:
                pass

    def _control(self, m):
        if m.type == SET_CHUNK_SIZE:
            self.in_chunk_size = struct.unpack(">I", m.payload[:4])[0] & 0x7FFFFFFF
            self.server_messages.append((m.type, self.in_chunk_size))
            return True
        if m.type == WINDOW_ACK_SIZE:
            self.window = struct.unpack(">I", m.payload[:4])[0]
            self.server_messages.append((m.type, self.window))
            return True
        if m.type == SET_PEER_BANDWIDTH:
            self.server_messages.append((m.type, struct.unpack(">I", m.payload[:4])[0]))
            return True
        if m.type == ABORT:
            csid = struct.unpack(">I", m.payload[:4])[0]
            if csid in self.streams:
                self.streams[csid].parts = []
                self.streams[csid].received = 0
            return True
        if m.type == ACKNOWLEDGEMENT:
            return True
        if m.type == USER_CONTROL:
            event = struct.unpack(">H", m.payload[:2])[0]
            self.server_messages.append((m.type, event))
            if event == 6:  # PingRequest -> PingResponse with the same timestamp
                try:
                    self.send_message(2, USER_CONTROL, 0, struct.pack(">H", 7) + m.payload[2:6])
                except OSError:
                    pass
            return False  # StreamBegin/EOF are also of interest to tests
        return False

    def wait_for(self, predicate, timeout=None, what="a message"):
        """Reads until predicate(message) is true; messages that do not match are kept in
        self.seen (bounded). Raises RtmpTimeout / RtmpClosed."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.seen = getattr(self, "seen", [])
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RtmpTimeout("no %s within the time limit; saw %r" % (what, self.seen[-10:]))
            m = self.read_message(left)
            if predicate(m):
                return m
            if len(self.seen) < 1000:
                self.seen.append(m)

    def wait_reply(self, tid, timeout=None):
        """The _result or _error answering transaction tid."""
        return self.wait_for(
            lambda m: m.command_name in ("_result", "_error") and m.transaction_id == tid,
            timeout, "reply to transaction %r" % tid)

    def wait_status(self, stream_id=None, timeout=None, codes=None):
        """The next onStatus (on stream_id if given; with a code in codes if given)."""
        def match(m):
            if m.command_name != "onStatus":
                return False
            if stream_id is not None and m.stream_id != stream_id:
                return False
            return codes is None or m.status().get("code") in codes
        return self.wait_for(match, timeout, "onStatus")

    # -- commands --

    def connect(self, app, tc_url=None, object_encoding=0, extra=None, amf3_message=False, args=(),
                timeout=None):
        """Sends connect (transaction 1) and returns the reply message (_result or _error).
        `args` go after the command object (siprtmp: authName, authPassword, displayName)."""
        obj = {"app": app, "flashVer": "LNX 9,0,124,2",
               "tcUrl": tc_url or "rtmp://%s:%d/%s" % (self.host, self.port, app),
               "fpad": False, "capabilities": 15.0, "audioCodecs": 4071.0,
               "videoCodecs": 252.0, "videoFunction": 1.0, "objectEncoding": object_encoding}
        obj.update(extra or {})
        self.send_command("connect", 1, obj, *args, amf3=amf3_message)
        return self.wait_reply(1, timeout)

    def create_stream(self):
        tid = self.new_tid()
        self.send_command("createStream", tid, None)
        reply = self.wait_reply(tid)
        if reply.command_name != "_result":
            raise RtmpError("createStream failed: %r" % reply)
        return int(reply.values()[3])

    def call(self, name, *args):
        tid = self.new_tid()
        self.send_command(name, tid, None, *args)
        return self.wait_reply(tid)

    def play(self, stream_id, name, start=-2):
        """Sends play; returns the first onStatus that is Play.Start or an error."""
        self.send_raw(chunk_message(8, COMMAND_AMF0, stream_id,
                                    amf0_encode_all(["play", 0, None, name, start]),
                                    chunk_size=self.out_chunk_size))
        return self.wait_for(
            lambda m: m.command_name == "onStatus" and m.stream_id == stream_id and (
                m.status().get("code") == "NetStream.Play.Start" or
                m.status().get("level") == "error"), None, "Play.Start or error onStatus")

    def publish(self, stream_id, name, kind="live"):
        """Sends publish; returns the first onStatus on that stream (Start or error)."""
        self.send_raw(chunk_message(8, COMMAND_AMF0, stream_id,
                                    amf0_encode_all(["publish", 0, None, name, kind]),
                                    chunk_size=self.out_chunk_size))
        return self.wait_status(stream_id)

    def setup(self, app):
        """handshake + connect (must succeed) + createStream; returns the stream id."""
        self.handshake()
        reply = self.connect(app)
        if reply.command_name != "_result":
            raise RtmpError("connect refused: %r" % reply)
        return self.create_stream()
