"""Real SIP phones (baresip 1.0) and audio checks for Junction's integration tests.

A phone plays a sine tone (ausine) and records what it decodes (sndfile writes *-dec.wav), so a
test can tell by the recording's dominant frequency that the other side's audio arrived.
Phones register with the junction under test over UDP on 127.0.0.1; nothing else is contacted.
"""

import math
import os
import random
import socket
import struct
import subprocess
import wave


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_udp_port(host="127.0.0.1", count=1):
    """A port (the first of `count` in a row) free for UDP and TCP on `host`, picked below the
    kernel's ephemeral range. The kernel hands
    out ephemeral ports to every socket bound to port 0 (junction's RTP relays, other tests'
    clients), so a port picked there could be taken between this check and the moment the program
    under test binds it; below that range nothing takes a port unasked."""
    top = _ephemeral_low() - count
    chooser = random.SystemRandom()
    for _ in range(1000):
        port = chooser.randrange(10000, top)
        try:
            for p in range(port, port + count):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, kind) as s:
                        s.bind((host, p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port below the ephemeral range")


def free_udp_range(count=11, host="127.0.0.1"):
    """A phone's RTP port range ("first-last", as baresip's rtp_ports takes it) that is free now,
    picked like free_udp_port: the test owns it, and tests running at once do not share it."""
    first = free_udp_port(host, count)
    return "%d-%d" % (first, first + count - 1)


def tone_strength_of_samples(samples, rate, frequency):
    """How much of `samples` (one second or so of mono PCM) is at `frequency` (Goertzel, 0..1)."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    energy = sum(x * x for x in samples) * len(samples) / 2
    return power / energy if energy else 0.0


def tone_windows(samples, rate, frequency, seconds=0.2):
    """How much of each window (a fifth of a second; 20 ms, one RTP frame, for coverage) of the
    middle half of `samples` is at `frequency` (0..1 each). Short windows keep a late or lost
    packet (a phase jump, which makes a long Goertzel window cancel itself) to its own window."""
    middle = samples[len(samples) // 4: len(samples) * 3 // 4]
    size = int(rate * seconds)
    return [tone_strength_of_samples(middle[i:i + size], rate, frequency)
            for i in range(0, len(middle) - size + 1, size)]


def tone_strength_over_middle(samples, rate, frequency):
    """How much of the middle half of `samples` is at `frequency` (0..1): the median over its
    windows. For "this tone is not there" (< 0.1)."""
    strengths = sorted(tone_windows(samples, rate, frequency))
    return strengths[len(strengths) // 2] if strengths else 0.0


def tone_coverage_over_middle(samples, rate, frequency, at_least=0.5):
    """The share of the middle half's 20 ms frames that hold `frequency` (strength at least
    `at_least`). For "this tone is there": the tests want 90 % of the frames. A frame is one RTP
    packet's worth: a lost or late packet costs a frame or two, silence costs every frame."""
    strengths = tone_windows(samples, rate, frequency, seconds=0.02)
    return sum(1 for x in strengths if x >= at_least) / len(strengths) if strengths else 0.0


def tone_seconds(wav_path, frequency, at_least=0.5):
    """How long a 16-bit WAV holds `frequency`: from the first to the last 20 ms frame that does
    (strength at least `at_least`). For "as long as it was sent": within a frame, and a window."""
    samples, rate = _wav_samples(wav_path)
    size = rate // 50
    on = [i for i in range(0, len(samples) - size + 1, size)
          if tone_strength_of_samples(samples[i:i + size], rate, frequency) >= at_least]
    return (on[-1] + size - on[0]) / rate if on else 0.0


def _wav_samples(wav_path):
    with wave.open(wav_path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        frames = w.readframes(w.getnframes())
    return struct.unpack("<%dh" % (len(frames) // 2), frames)[::channels], rate


def tone_strength(wav_path, frequency):
    """How much of the signal in a 16-bit WAV is at `frequency` (0..1), over its middle half
    (where both ends were talking): the median window."""
    samples, rate = _wav_samples(wav_path)
    return tone_strength_over_middle(samples, rate, frequency)


def tone_coverage(wav_path, frequency):
    """The share of a 16-bit WAV's middle-half windows that hold `frequency`."""
    samples, rate = _wav_samples(wav_path)
    return tone_coverage_over_middle(samples, rate, frequency)


def channel_tones(flv_path, workdir):
    """Per channel of a stereo recording, a function telling how strongly its middle half holds a
    frequency."""
    wav = os.path.join(workdir, os.path.basename(flv_path) + ".stereo.wav")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", flv_path, "-ac", "2",
                    "-ar", "16000", wav], check=True, timeout=30)
    with wave.open(wav, "rb") as w:
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = struct.unpack("<%dh" % (len(frames) // 2), frames)
    left, right = samples[0::2], samples[1::2]

    def strength(channel):
        # left(f): the median window's strength; left(f, coverage=True): the share of windows
        # holding it.
        return lambda frequency, coverage=False: (tone_coverage_over_middle if coverage else
                                                  tone_strength_over_middle)(channel, rate, frequency)
    return strength(left), strength(right)


def make_phone(workdir, sip_address, name, password, frequency, rtp_ports, add_user,
               modules=(), account_params="", contacts=(), codecs="PCMU", audio_modules=()):
    """A baresip home folder for `name`@127.0.0.1 (created in the user store with add_user(aor,
    password)) that registers with digest authentication at sip_address, answers calls at once,
    sends a `frequency` Hz tone and records what it hears. Returns the folder."""
    home = os.path.join(workdir, name)
    os.makedirs(home, exist_ok=True)
    # baresip listens on UDP/TCP `port` and TLS on port + 1.
    port = free_udp_port(count=2)
    with open(os.path.join(home, "config"), "w") as f:
        f.write("\n".join([
            "poll_method epoll", "sip_listen 127.0.0.1:%d" % port,
            "audio_player aubridge,sink", "audio_source ausine,%d" % frequency,
            "audio_alert aubridge,alert", "ausrc_srate 48000", "auplay_srate 48000",
            "ausrc_channels 2", "auplay_channels 2", "rtp_ports %s" % rtp_ports,
            "module_path /usr/lib/baresip/modules", "module g711.so", "module ausine.so",
            "module aubridge.so", "module sndfile.so", "module_app account.so", "module_app menu.so",
            "snd_path %s" % home] + ["module %s" % m for m in audio_modules] +
            ["module_app %s" % m for m in modules] + [""]))
    with open(os.path.join(home, "accounts"), "w") as f:
        f.write('<sip:%s@127.0.0.1>;auth_pass=%s;outbound="sip:%s";regint=600;answermode=auto;'
                'audio_codecs=%s%s\n' % (name, password, sip_address, codecs, account_params))
    with open(os.path.join(home, "contacts"), "w") as f:
        f.write("".join(c + "\n" for c in contacts))
    add_user("%s@127.0.0.1" % name, password)
    return home


def run_phone(home, seconds, *commands):
    """Starts baresip on a home folder for `seconds`, running each command (e.g. "/dial ...")."""
    cmd = ["baresip", "-f", home, "-t", str(seconds)]
    for c in commands:
        cmd += ["-e", c]
    return subprocess.Popen(cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def decoded_recording(home):
    """The one *-dec.wav a phone wrote (what it received and decoded), or None."""
    files = [f for f in os.listdir(home) if f.endswith("-dec.wav")]
    return os.path.join(home, files[0]) if len(files) == 1 else None


# --------------------------------------------------------------------------------------------
# A raw SIP phone in Python, for what baresip cannot show: it registers with digest (MD5), takes
# one call answering with an SDP of its choosing, and keeps every RTP/RTCP datagram it receives
# on its media ports, so a test can depacketize and compare them.

import hashlib
import re
import select
import time
import threading


def _header(message, name):
    m = re.search(r"^%s\s*:\s*(.*?)\r$" % re.escape(name), message, re.M | re.I)
    return m.group(1) if m else None


class RawPhone:
    def __init__(self, sip_address, user, password, media=("audio", "video"), domain="127.0.0.1"):
        host, port = sip_address.rsplit(":", 1)
        self.server = (host, int(port))
        self.user, self.password, self.domain = user, password, domain
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.port = self.sip.getsockname()[1]
        self.media = {}
        for kind in media:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            self.media[kind] = s
        self.received = {kind: [] for kind in media}  # (arrival, datagram)
        self.peer_media = {}  # kind -> (host, port) from the caller's SDP
        self.invite = None
        self.cseq = 0
        self.log = []

    def close(self):
        for s in [self.sip] + list(self.media.values()):
            s.close()

    def media_port(self, kind):
        return self.media[kind].getsockname()[1]

    # -- SIP --

    def _send(self, text, to=None):
        self.log.append(">> " + text.split("\r\n", 1)[0])
        self.sip.sendto(text.encode(), to or self.server)

    def _recv(self, timeout):
        """The next SIP message (text), reading media sockets meanwhile; None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.sip] + list(self.media.values()), [], [], left)
            for s in readable:
                data, source = s.recvfrom(65536)
                if s is self.sip:
                    text = data.decode("utf-8", "replace")
                    self.log.append("<< " + text.split("\r\n", 1)[0])
                    return text, source
                kind = [k for k, v in self.media.items() if v is s][0]
                self.received[kind].append((time.monotonic(), data))

    def pump_media(self, seconds):
        """Reads media (and answers BYE) for `seconds`; True if a BYE came."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            got = self._recv(left)
            if got and got[0].startswith("BYE "):
                self._reply(got[0], got[1], 200, "OK")
                return True

    def register(self, expires=300):
        call_id = "reg-%s-%d@127.0.0.1" % (self.user, self.port)
        authorization = ""
        for attempt in range(2):
            self.cseq += 1
            self._send("REGISTER sip:%s SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-r%d-%d\r\n"
                       "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=r%d\r\nTo: <sip:%s@%s>\r\n"
                       "Call-ID: %s\r\nCSeq: %d REGISTER\r\n%s"
                       "Contact: <sip:%s@127.0.0.1:%d>;expires=%d\r\nContent-Length: 0\r\n\r\n"
                       % (self.domain, self.port, self.port, self.cseq, self.user, self.domain, self.port,
                          self.user, self.domain, call_id, self.cseq, authorization, self.user, self.port,
                          expires))
            got = self._recv(5)
            if not got:
                raise AssertionError("no answer to REGISTER")
            status = int(got[0].split(" ", 2)[1])
            if status != 401:
                return status
            challenge = _header(got[0], "WWW-Authenticate")
            realm = re.search(r'realm="([^"]*)"', challenge).group(1)
            nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
            ha1 = hashlib.md5(("%s:%s:%s" % (self.user, realm, self.password)).encode()).hexdigest()
            ha2 = hashlib.md5(("REGISTER:sip:%s" % self.domain).encode()).hexdigest()
            response = hashlib.md5(("%s:%s:00000001:c0ffee:auth:%s" % (ha1, nonce, ha2)).encode()).hexdigest()
            authorization = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="sip:%s", '
                             'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"\r\n'
                             % (self.user, realm, nonce, self.domain, response))
        return status

    def _reply(self, request, source, status, reason, extra="", body=""):
        lines = request.split("\r\n")
        keep = [l for l in lines[1:] if re.match(r"(?i)^(via|from|to|call-id|cseq|record-route)\s*:", l)]
        keep = [l + (";tag=phone" if re.match(r"(?i)^to\s*:", l) and "tag=" not in l else "") for l in keep]
        text = "SIP/2.0 %d %s\r\n%s\r\n%s" % (status, reason, "\r\n".join(keep), extra)
        if body:
            text += "Content-Type: application/sdp\r\n"
        text += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
        self._send(text, source)

    def answer(self, sdp_media, timeout=15):
        """Waits for an INVITE, answers 200 with `sdp_media` (m= sections, with {audio}/{video}
        standing for this phone's ports), waits for the ACK. Returns the INVITE's SDP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline - time.monotonic())
            if not got:
                break
            text, source = got
            if not text.startswith("INVITE "):
                continue
            self.invite = (text, source)
            offer = text.split("\r\n\r\n", 1)[1]
            for m in re.finditer(r"^m=(audio|video) (\d+)", offer, re.M):
                self.peer_media[m.group(1)] = ("127.0.0.1", int(m.group(2)))
            body = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
                    sdp_media.format(**{k: self.media_port(k) for k in self.media}))
            self._reply(text, source, 200, "OK", "Contact: <sip:%s@127.0.0.1:%d>\r\n" % (self.user, self.port),
                        body)
            while time.monotonic() < deadline:
                got = self._recv(deadline - time.monotonic())
                if got and got[0].startswith("ACK "):
                    return offer
            break
        raise AssertionError("no INVITE and ACK within %ds: %r" % (timeout, self.log))

    def ring(self, timeout=15):
        """Waits for an INVITE and answers 180 Ringing, never more (a phone nobody picks up).
        Returns the INVITE's text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline - time.monotonic())
            if got and got[0].startswith("INVITE "):
                self.invite = got
                self._reply(got[0], got[1], 180, "Ringing", "Contact: <sip:%s@127.0.0.1:%d>\r\n" % (self.user, self.port))
                return got[0]
        raise AssertionError("no INVITE within %ds: %r" % (timeout, self.log))

    def wait_request(self, method, timeout=15):
        """Waits for a request of `method` and answers it 200 (a CANCEL also ends the INVITE with
        487, as a phone does). Returns its text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline - time.monotonic())
            if got and got[0].startswith(method + " "):
                self._reply(got[0], got[1], 200, "OK")
                if method == "CANCEL" and self.invite:
                    self._reply(self.invite[0], self.invite[1], 487, "Request Terminated")
                return got[0]
        raise AssertionError("no %s within %ds: %r" % (method, timeout, self.log))

    def send_rtp(self, kind, datagram):
        self.media[kind].sendto(datagram, self.peer_media[kind])

    def start_rtp(self, kind="audio", payload_type=0, payload=b"\xff" * 160, every=0.02):
        """Sends RTP (PCMU silence by default) to the caller every `every` seconds from a thread,
        until stop_rtp()."""
        self.stop_rtp()
        self._rtp_stop = threading.Event()

        def run(stop, seq=0):
            while not stop.wait(every) and seq < 100000:
                header = struct.pack(">BBHII", 0x80, payload_type, seq & 0xFFFF, seq * len(payload), 0xF00D)
                try:
                    self.send_rtp(kind, header + payload)
                except OSError:
                    return
                seq += 1
        self._rtp_thread = threading.Thread(target=run, args=(self._rtp_stop,), daemon=True)
        self._rtp_thread.start()

    def send_payloads(self, kind, payload_type, payloads, every=0.02, ssrc=0xC0DE):
        """Sends each payload once as RTP (sequence and timestamp counting up, 8 kHz clock), one
        every `every` seconds, from a thread; returns the thread, started."""
        def run():
            for i, payload in enumerate(payloads):
                try:
                    self.send_rtp(kind, struct.pack(">BBHII", 0x80, payload_type, 100 + i, 5000 + i * 160, ssrc) +
                                  payload)
                except OSError:
                    return
                time.sleep(every)
        sending = threading.Thread(target=run, daemon=True)
        sending.start()
        return sending

    def stop_rtp(self):
        if getattr(self, "_rtp_thread", None):
            self._rtp_stop.set()
            self._rtp_thread.join(5)
            self._rtp_thread = None

    # -- re-INVITEs of the call answer() took (this phone is the callee) --

    def _sdp(self, sdp_media, direction, version):
        return ("v=0\r\no=- 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=%s\r\n" % (version, direction) +
                sdp_media.format(**{k: self.media_port(k) for k in self.media}))

    def reinvite(self, sdp_media, direction, timeout=10):
        """Sends a re-INVITE offering `sdp_media` with `direction` (sendonly, inactive, sendrecv)
        along the INVITE's Record-Route; ACKs the answer. Returns (status, the answer's SDP)."""
        text, _source = self.invite
        self._dialog_cseq = getattr(self, "_dialog_cseq", 100) + 1
        self._sdp_version = getattr(self, "_sdp_version", 1) + 1
        routes = re.findall(r"^Record-Route\s*:\s*(.*?)\r$", text, re.M | re.I)
        routes = [r.strip() for line in routes for r in line.split(",")]
        contact = re.search(r"<([^>]+)>", _header(text, "Contact")).group(1)
        hop = re.search(r"sip:(?:[^@>]*@)?([^:;>]+):?(\d+)?", routes[0] if routes else contact)
        where = (hop.group(1), int(hop.group(2) or 5060))
        body = self._sdp(sdp_media, direction, self._sdp_version)

        def request(method, branch, content=""):
            return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=%s\r\nMax-Forwards: 70\r\n%s"
                    "From: %s;tag=phone\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
                    "Contact: <sip:%s@127.0.0.1:%d>\r\n%sContent-Length: %d\r\n\r\n%s"
                    % (method, contact, self.port, branch, "".join("Route: %s\r\n" % r for r in routes),
                       _header(text, "To"), _header(text, "From"), _header(text, "Call-ID"), self._dialog_cseq,
                       method, self.user, self.port, "Content-Type: application/sdp\r\n" if content else "",
                       len(content), content))
        branch = "z9hG4bK-re%d" % self._dialog_cseq
        self._send(request("INVITE", branch, body), where)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline - time.monotonic())
            if not got or not got[0].startswith("SIP/2.0 ") or branch not in got[0]:
                continue
            status = int(got[0].split(" ", 2)[1])
            if status < 200:
                continue
            self._send(request("ACK", branch if status >= 300 else branch + "-ack"), where)
            return status, got[0].split("\r\n\r\n", 1)[1]
        raise AssertionError("no answer to the re-INVITE: %r" % self.log)

    def answer_reinvite(self, direction, sdp_media="m=audio {audio} RTP/AVP 0\r\n", timeout=10):
        """Waits for a re-INVITE of the call, answers 200 with `direction`, waits for the ACK.
        Returns the offer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline - time.monotonic())
            if not got or not got[0].startswith("INVITE ") or "tag=" not in (_header(got[0], "To") or ""):
                continue
            text, source = got
            self._sdp_version = getattr(self, "_sdp_version", 1) + 1
            self._reply(text, source, 200, "OK", "Contact: <sip:%s@127.0.0.1:%d>\r\n" % (self.user, self.port),
                        self._sdp(sdp_media, direction, self._sdp_version))
            while time.monotonic() < deadline:
                ack = self._recv(deadline - time.monotonic())
                if ack and ack[0].startswith("ACK "):
                    return text.split("\r\n\r\n", 1)[1]
            break
        raise AssertionError("no re-INVITE and ACK within %ds: %r" % (timeout, self.log))


def h264_access_units(datagrams, payload_type):
    """RFC 6184 depacketization of RTP datagrams (in arrival order) into access units: a list of
    (rtp timestamp, [NAL units]) in order. Single NAL units, STAP-A and FU-A are understood."""
    units, current, ts_now, fragment = [], None, None, None
    for _arrival, d in datagrams:
        if len(d) < 12 or (d[1] & 0x7F) != payload_type or 192 <= d[1] <= 223:
            continue
        cc = d[0] & 0x0F
        ts = struct.unpack(">I", d[4:8])[0]
        payload = d[12 + 4 * cc:]
        if current is None or ts != ts_now:
            current, ts_now = [], ts
            units.append((ts, current))
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            current.append(bytes(payload))
        elif kind == 24:
            at = 1
            while at + 2 <= len(payload):
                size = struct.unpack(">H", payload[at:at + 2])[0]
                current.append(bytes(payload[at + 2:at + 2 + size]))
                at += 2 + size
        elif kind == 28:
            start, end = payload[1] & 0x80, payload[1] & 0x40
            if start:
                fragment = bytearray([(payload[0] & 0xE0) | (payload[1] & 0x1F)])
            if fragment is not None:
                fragment += payload[2:]
                if end:
                    current.append(bytes(fragment))
                    fragment = None
    return units


def h264_rtp_packets(access_units, payload_type, ts_step=6000, mtu=1200, ssrc=0x5EED):
    """RFC 6184 packetization (single NAL units, FU-A above `mtu`) of [[NAL units]], one access
    unit every `ts_step` (90 kHz units); the marker ends each access unit."""
    packets, seq = [], 1000
    for i, nals in enumerate(access_units):
        payloads = []
        for n in nals:
            if len(n) <= mtu:
                payloads.append(n)
                continue
            header, body = n[0], n[1:]
            for at in range(0, len(body), mtu):
                fu = bytes([(header & 0xE0) | 28,
                            (0x80 if at == 0 else 0) | (0x40 if at + mtu >= len(body) else 0) | (header & 0x1F)])
                payloads.append(fu + body[at:at + mtu])
        for k, p in enumerate(payloads):
            marker = 0x80 if k == len(payloads) - 1 else 0
            packets.append(struct.pack(">BBHII", 0x80, marker | payload_type, seq & 0xFFFF, i * ts_step, ssrc) + p)
            seq += 1
    return packets


class Linphone:
    """Linphone 5.1's console client (linphonec) on a home folder of its own, driven through its
    prompt. It has no sound card here: `soundcard use files` plays a WAV file into a call and
    records what it hears to another (play/record commands). Everything it prints is kept."""

    def __init__(self, workdir, name):
        import threading
        self.home = os.path.join(workdir, "linphone-" + name)
        os.makedirs(os.path.join(self.home, ".local", "share", "linphone"), exist_ok=True)
        env = dict(os.environ, HOME=self.home)
        self.proc = subprocess.Popen(["linphonec"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.home)
        self.lines = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        # Without these it listens on IPv6 only and on port 5060, which may be taken.
        self.send("ipv6 disable")
        self.send("ports sip %d" % free_udp_port())
        self.send("soundcard use files")

    def _read(self):
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, command):
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()

    def wait_for_line(self, pattern, timeout=15):
        """The first line printed so far or within `timeout` that matches the regex, or None."""
        import re
        import time
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if re.search(pattern, line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(left)

    def output(self):
        with self._cond:
            return "\n".join(l for l in self.lines if "soundcard" not in l)

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
