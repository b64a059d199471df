"""The Flash<->SIP gateway with real clients: a siprtmp-style RTMP client (rtmp_client.py speaking
the siprtmp API with AMF arguments) logs in to rtmp://127.0.0.1/sip/<user>@127.0.0.1, and a real
SIP phone (baresip, auto-answer, sending a 440 Hz tone and recording what it decodes) is called or
calls. Audio is checked by decoding: the phone must hear the client's 1 kHz tone (sent as Speex
16 kHz or Nellymoser), the client must get the phone's 440 Hz back (as Speex).

Everything talks to 127.0.0.1 only; every wait is bounded.
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import wave

from junction_process import JunctionProcess, curl, junction_bin, wait_for
from phones import (RawPhone, channel_tones, decoded_recording, free_udp_range, h264_access_units, h264_rtp_packets,
                    make_phone, run_phone, tone_coverage, tone_coverage_over_middle, tone_strength)
import rtmp_client
from rtmp_client import RtmpClient, RtmpTimeout, AUDIO

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
TONE_SECONDS = 6


def read_flv_tags(path):
    """[(type, timestamp ms, body)] of an FLV file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"FLV":
        raise ValueError("%s is not FLV" % path)
    at = struct.unpack(">I", data[5:9])[0] + 4
    tags = []
    while at + 11 <= len(data):
        kind = data[at]
        size = int.from_bytes(data[at + 1:at + 4], "big")
        ts = int.from_bytes(data[at + 4:at + 7], "big") | data[at + 7] << 24
        body = data[at + 11:at + 11 + size]
        if len(body) < size:
            break
        tags.append((kind, ts, body))
        at += 11 + size + 4
    return tags


def write_flv_audio(path, tags):
    """An audio-only FLV file of [(timestamp ms, body)]."""
    with open(path, "wb") as f:
        f.write(b"FLV\x01\x04\x00\x00\x00\x09" + b"\x00\x00\x00\x00")
        for ts, body in tags:
            header = bytes([AUDIO]) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big") + \
                bytes([(ts >> 24) & 0xFF]) + b"\x00\x00\x00"
            f.write(header + body + struct.pack(">I", 11 + len(body)))


def avc_frames(tags):
    """The H.264 frames of FLV video tags: (sps/pps from the sequence header, [(keyframe, [NAL units])])."""
    sets, frames = [], []
    for kind, _ts, body in tags:
        if kind != 9 or (body[0] & 0x0F) != 7:
            continue
        if body[1] == 0:  # AVCDecoderConfigurationRecord
            rec = body[5:]
            n_sps = rec[5] & 0x1F
            at = 6
            for _ in range(n_sps):
                size = struct.unpack(">H", rec[at:at + 2])[0]
                sets.append(bytes(rec[at + 2:at + 2 + size]))
                at += 2 + size
            n_pps = rec[at]
            at += 1
            for _ in range(n_pps):
                size = struct.unpack(">H", rec[at:at + 2])[0]
                sets.append(bytes(rec[at + 2:at + 2 + size]))
                at += 2 + size
        elif body[1] == 1:
            nals, at, data = [], 0, body[5:]
            while at + 4 <= len(data):
                size = struct.unpack(">I", data[at:at + 4])[0]
                nals.append(bytes(data[at + 4:at + 4 + size]))
                at += 4 + size
            frames.append(((body[0] >> 4) == 1, nals))
    return sets, frames


def decoded_tone(flv_path, frequency, workdir):
    """The share of the middle half of an FLV file's audio (decoded by ffmpeg to 16 kHz mono)
    that holds `frequency`, frame by frame (20 ms)."""
    wav = os.path.join(workdir, os.path.basename(flv_path) + ".wav")
    subprocess.run(FFMPEG + ["-i", flv_path, "-ac", "1", "-ar", "16000", wav], check=True, timeout=30)
    with wave.open(wav, "rb") as w:
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = struct.unpack("<%dh" % (len(frames) // 2), frames)
    return tone_coverage_over_middle(samples, rate, frequency)


class GatewayClient(RtmpClient):
    """A siprtmp client: logs in with connect(url, authName, authPassword, displayName), calls the
    gateway's methods and collects its callbacks (invited, ringing, accepted, ...)."""

    CALLBACKS = ("invited", "ringing", "accepted", "rejected", "cancelled", "byed", "dtmf", "held", "holding",
                 "holdFailed")

    def __init__(self, port, user, timeout=10.0):
        super().__init__(port, timeout=timeout)
        self.user = user
        self.callbacks = []   # (name, args) in arrival order
        self.remote_audio = []  # (timestamp, body) played from `remote`
        self.remote_video = []  # (9, timestamp, body) played from `remote`

    def login(self, password, auth_name=None, display="Flash User"):
        self.handshake()
        return self.connect("sip/%s" % self.user, args=(auth_name or self.user.split("@")[0], password, display),
                            timeout=15)

    def absorb(self, m):
        """Keeps callbacks and remote audio; True when the message was one of them."""
        if m.is_command and m.command_name in self.CALLBACKS:
            self.callbacks.append((m.command_name, list(m.values()[3:])))
            return True
        if m.type == AUDIO and m.stream_id == getattr(self, "play_stream", None):
            self.remote_audio.append((m.timestamp, m.payload))
            return True
        if m.type == 9 and m.stream_id == getattr(self, "play_stream", None):
            self.remote_video.append((9, m.timestamp, m.payload))
            return True
        return False

    def wait_for(self, predicate, timeout=None, what="a message"):
        """RtmpClient's, keeping the callbacks and remote media that arrive meanwhile (while
        publishing `local`, say): they are not dropped as other messages are."""
        def match(m):
            if predicate(m):
                return True
            self.absorb(m)
            return False
        return super().wait_for(match, timeout, what)

    def pump(self, seconds):
        """Reads (and keeps) whatever arrives for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                m = self.read_message(left)
            except RtmpTimeout:
                return
            self.absorb(m)

    def wait_callback(self, name, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            for i, (n, args) in enumerate(self.callbacks):
                if n == name:
                    del self.callbacks[:i + 1]
                    return args
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s callback within %ds (got %r)" % (name, timeout, self.callbacks))
            try:
                m = self.read_message(left)
            except RtmpTimeout:
                continue
            self.absorb(m)

    def call_method(self, name, *args):
        """NetConnection.call(name, null, args...): the reply, keeping callbacks that come first."""
        tid = self.new_tid()
        self.send_command(name, tid, None, *args)
        while True:
            m = self.read_message()
            if m.command_name in ("_result", "_error") and m.transaction_id == tid:
                return m
            self.absorb(m)

    def start_media(self):
        """createStream twice: publish `local`, play `remote` (siprtmp's two streams); `remote`
        only if play_remote() did not play it already."""
        self.publish_local()
        if getattr(self, "play_stream", None) is None:
            self.play_remote()

    def publish_local(self):
        self.publish_stream = self.create_stream()
        status = self.publish(self.publish_stream, "local")
        if status.status().get("code") != "NetStream.Publish.Start":
            raise AssertionError("publish local: %r" % status)

    def play_remote(self):
        """Plays `remote`. Before the call is up the player waits for it and then hears the call
        from its first frame: a Speex decoder that joins a pure tone mid-stream can take seconds
        to fall into step with the encoder (the pitch predictor's memory), which would make a
        tone check fail on audio that is fine."""
        self.play_stream = self.create_stream()
        self.send_raw(rtmp_client.chunk_message(8, rtmp_client.COMMAND_AMF0, self.play_stream,
                                                rtmp_client.amf0_encode_all(["play", 0, None, "remote", -2]),
                                                chunk_size=self.out_chunk_size))

    def send_audio_paced(self, tags, seconds):
        """Sends FLV audio tags on `local` in real time for up to `seconds`, reading as it goes."""
        self.send_paced([(AUDIO, ts, body) for ts, body in tags], seconds)

    def send_paced(self, tags, seconds):
        """Sends FLV tags [(type, ts, body)] (audio and video) on `local` in real time."""
        start = time.monotonic()
        for kind, ts, body in tags:
            if kind not in (AUDIO, 9) or ts / 1000.0 > seconds:
                continue
            while time.monotonic() - start < ts / 1000.0:
                self.pump(min(0.01, max(0.0, ts / 1000.0 - (time.monotonic() - start))))
            self.send_message(4 if kind == AUDIO else 6, kind, self.publish_stream, body, timestamp=ts)


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-gateway-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        # The default digest settings (baresip 1.0 gets one MD5 challenge, the gateway SHA-256).
        # Calls of alice are recorded (recording.calls = "users").
        cls.junction = JunctionProcess(workdir=cls.workdir,
                                       extra={"recording": {"calls": "users", "users": ["alice@127.0.0.1"]}}).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)
        cls.speex_tone = os.path.join(cls.workdir, "tone-speex.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000", "-t",
                                 str(TONE_SECONDS), "-c:a", "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv",
                                 cls.speex_tone], check=True, timeout=60)
        cls.nelly_tone = os.path.join(cls.workdir, "tone-nelly.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=22050", "-t",
                                 str(TONE_SECONDS), "-c:a", "nellymoser", "-ar", "22050", "-ac", "1", "-f", "flv",
                                 cls.nelly_tone], check=True, timeout=60)
        cls.h264_video = os.path.join(cls.workdir, "video-h264.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi", "-i",
                                 "sine=frequency=1000:sample_rate=16000", "-t", "4", "-c:v", "libx264", "-profile:v",
                                 "baseline", "-pix_fmt", "yuv420p", "-g", "15", "-bf", "0", "-c:a", "libspeex",
                                 "-ar", "16000", "-ac", "1", "-f", "flv", cls.h264_video], check=True, timeout=60)
        cls.sorenson_video = os.path.join(cls.workdir, "video-flv1.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-f", "lavfi", "-i",
                                 "sine=frequency=1000:sample_rate=16000", "-t", "4", "-c:v", "flv1", "-g", "15",
                                 "-c:a", "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", cls.sorenson_video],
                       check=True, timeout=60)
        cls.add_user("alice@127.0.0.1", "pw-alice")

    @classmethod
    def add_user(cls, aor, password):
        done = subprocess.run([junction_bin(), "--config", cls.junction.config_path, "users", "add", aor,
                               "--password", password], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=20)
        if done.returncode != 0:
            raise AssertionError(done.stdout)

    def client(self, user="alice@127.0.0.1"):
        c = GatewayClient(self.junction.port("rtmp"), user)
        self.addCleanup(c.close)
        return c

    def audio_tags(self, path):
        return [(ts, body) for kind, ts, body in read_flv_tags(path) if kind == AUDIO]

    def metric(self, name):
        return self.junction.metrics().sum(name)

    def phone(self, name, frequency, rtp_ports):
        return make_phone(self.workdir, self.junction.sip_address(), name, "pw-" + name, frequency, rtp_ports,
                          self.add_user)

    def wait_registered(self, aor, present=True):
        def check():
            _status, _h, body = self.junction_get("/api/v1/sip/registrations")
            return (("sip:" + aor) in body) == present
        self.assertTrue(wait_for(check, 10), "%s %s registered" % (aor, "not" if present else "still"))

    def junction_get(self, path):
        from junction_process import curl
        status, headers, body = curl(self.junction.url(path))
        return status, headers, body.decode("utf-8", "replace") if isinstance(body, bytes) else body

    # -- login --

    def test_login_registers_and_a_wrong_password_is_refused(self):
        good = self.client()
        reply = good.login("pw-alice")
        self.assertEqual(reply.command_name, "_result", reply)
        self.wait_registered("alice@127.0.0.1")
        self.assertEqual(self.metric("junction_gateway_lines"), 1)
        good.close()
        # Leaving unregisters the user.
        self.wait_registered("alice@127.0.0.1", present=False)
        self.assertTrue(wait_for(lambda: self.metric("junction_gateway_lines") == 0, 10))

        bad = self.client()
        reply = bad.login("wrong")
        self.assertEqual(reply.command_name, "_error", reply)
        self.assertIn("registration failed: 401", reply.status().get("description", ""))
        self.assertEqual(reply.status().get("code"), "NetConnection.Connect.Rejected")

    def test_connect_without_user_at_domain_is_refused(self):
        c = GatewayClient(self.junction.port("rtmp"), "")
        self.addCleanup(c.close)
        c.handshake()
        reply = c.connect("sip", args=("alice", "pw-alice", "A"))
        self.assertEqual(reply.command_name, "_error", reply)
        self.assertIn("<user>@<domain>", reply.status().get("description", ""))

    # -- calls --

    def call_phone(self, tone_path, codecs, phone_name, rtp_ports):
        """The client calls a baresip phone, both send tones for a few seconds, the client hangs
        up. Returns (what the phone decoded, the client's received audio file)."""
        bob_home = self.phone(phone_name, 440, rtp_ports)
        bob = run_phone(bob_home, 14)
        self.addCleanup(lambda: bob.poll() is None and bob.kill())
        self.wait_registered("%s@127.0.0.1" % phone_name)
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        c.play_remote()  # from the call's first frame
        reply = c.call_method("invite", "%s@127.0.0.1" % phone_name, *codecs)
        self.assertEqual(reply.command_name, "_result", reply)
        accepted = c.wait_callback("accepted")
        c.start_media()
        c.send_audio_paced(self.audio_tags(tone_path), 5)
        self.assertEqual(c.call_method("bye").command_name, "_result")
        bob_out = bob.communicate(timeout=30)[0].decode("utf-8", "replace")
        received = os.path.join(self.workdir, "%s-client-heard.flv" % phone_name)
        write_flv_audio(received, c.remote_audio)
        self.assertTrue(wait_for(lambda: self.metric("junction_gateway_calls") == 0, 5))
        return accepted, bob_out, bob_home, c, received

    def test_speex_client_calls_a_pcmu_phone_and_both_hear_each_other(self):
        calls_before = self.metric("junction_gateway_calls_total")
        accepted, bob_out, bob_home, c, received = self.call_phone(self.speex_tone, ["ulaw", "dtmf"], "bob",
                                                                   free_udp_range())
        self.assertEqual(accepted, ["speex", None])
        self.assertIn("Call established: sip:alice@127.0.0.1", bob_out, bob_out[-3000:])
        heard = decoded_recording(bob_home)
        self.assertIsNotNone(heard, os.listdir(bob_home))
        # The phone decoded PCMU that was the client's Speex 1 kHz tone.
        self.assertGreaterEqual(tone_coverage(heard, 1000), 0.9)
        self.assertLess(tone_strength(heard, 440), 0.1)
        # The client got the phone's 440 Hz as Speex 16 kHz (FLV codec 11).
        self.assertGreater(len(c.remote_audio), 100)
        self.assertEqual(c.remote_audio[0][1][0] >> 4, 11, "remote audio is not Speex")
        self.assertGreaterEqual(decoded_tone(received, 440, self.workdir), 0.9)
        self.assertEqual(self.metric("junction_gateway_calls_total"), calls_before + 1)
        self.assertGreater(self.metric("junction_gateway_rtp_packets_received_total"), 100)
        self.assertGreater(self.metric("junction_gateway_rtp_packets_sent_total"), 100)
        # The call was recorded: both directions, one on each channel, for as long as it lasted.
        rec = self.recording_of("sip:bob@127.0.0.1")
        self.assertTrue(rec["complete"], rec)
        self.assertEqual(rec["from"], "sip:alice@127.0.0.1")
        path = self.download(rec)
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels,sample_rate:"
                                "format=duration", "-of", "json", path], stdout=subprocess.PIPE, timeout=30, check=True)
        info = json.loads(probe.stdout)
        self.assertEqual([(s["codec_name"], s["channels"]) for s in info["streams"]], [("aac", 2)])
        duration = float(info["format"]["duration"])
        self.assertAlmostEqual(duration, rec["duration_seconds"], delta=0.5)
        self.assertGreater(duration, 4.0)
        left, right = channel_tones(path, self.workdir)
        self.assertGreaterEqual(left(1000, coverage=True), 0.9, "the client's tone is not on the left")
        self.assertGreaterEqual(right(440, coverage=True), 0.9, "the phone's tone is not on the right")
        self.assertLess(left(440), 0.1)
        self.assertLess(right(1000), 0.1)

    def test_nellymoser_client_is_heard_by_the_phone(self):
        accepted, bob_out, bob_home, c, received = self.call_phone(self.nelly_tone, ["ulaw"], "carol",
                                                                   free_udp_range())
        self.assertEqual(accepted, ["speex", None])
        heard = decoded_recording(bob_home)
        self.assertIsNotNone(heard, os.listdir(bob_home))
        self.assertGreaterEqual(tone_coverage(heard, 1000), 0.9)
        self.assertGreaterEqual(decoded_tone(received, 440, self.workdir), 0.9)

    def test_a_phone_calls_the_client_which_accepts_and_the_phone_hangs_up(self):
        dave_home = self.phone("dave", 440, free_udp_range())
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.wait_registered("alice@127.0.0.1")
        dave = run_phone(dave_home, 7, "/dial sip:alice@127.0.0.1")
        self.addCleanup(lambda: dave.poll() is None and dave.kill())
        invited = c.wait_callback("invited")
        self.assertEqual(invited, ["sip:dave@127.0.0.1", "sip:alice@127.0.0.1"])
        c.play_remote()
        reply = c.call_method("accept", "wideband", "ulaw")
        self.assertEqual(reply.command_name, "_result", reply)
        # The phone offered PCMU only: the client sends Speex and the gateway transcodes.
        self.assertEqual(c.wait_callback("accepted"), ["speex", None])
        c.start_media()
        c.send_audio_paced(self.audio_tags(self.speex_tone), 4)
        # The phone's -t ends it: its BYE reaches the client as byed.
        c.wait_callback("byed", timeout=15)
        dave_out = dave.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("Call established: sip:alice@127.0.0.1", dave_out, dave_out[-3000:])
        heard = decoded_recording(dave_home)
        self.assertIsNotNone(heard, os.listdir(dave_home))
        self.assertGreaterEqual(tone_coverage(heard, 1000), 0.9)
        received = os.path.join(self.workdir, "dave-client-heard.flv")
        write_flv_audio(received, c.remote_audio)
        self.assertGreaterEqual(decoded_tone(received, 440, self.workdir), 0.9)
        self.assert_nothing_left(lines=False)

    def incoming_call_with(self, name, rtp_ports, codecs, account_params="", modules=()):
        """A baresip phone calls alice with `codecs`; the client accepts (ulaw, opus, g722),
        sends its 1 kHz tone, the phone hangs up. Returns (the phone's output, its home)."""
        home = make_phone(self.workdir, self.junction.sip_address(), name, "pw-" + name, 440, rtp_ports,
                          self.add_user, modules=modules, account_params=account_params, codecs=codecs,
                          audio_modules=("opus.so", "g722.so", "srtp.so"))
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.wait_registered("alice@127.0.0.1")
        phone = run_phone(home, 7, "/dial sip:alice@127.0.0.1")
        self.addCleanup(lambda: phone.poll() is None and phone.kill())
        c.wait_callback("invited")
        c.play_remote()
        self.assertEqual(c.call_method("accept", "ulaw", "opus", "g722").command_name, "_result")
        self.assertEqual(c.wait_callback("accepted"), ["speex", None])
        c.start_media()
        c.send_audio_paced(self.audio_tags(self.speex_tone), 4)
        c.wait_callback("byed", timeout=15)
        out = phone.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("Call established: sip:alice@127.0.0.1", out, out[-3000:])
        heard = decoded_recording(home)
        self.assertIsNotNone(heard, os.listdir(home))
        self.assertGreaterEqual(tone_coverage(heard, 1000), 0.9, "the phone did not hear the client's tone")
        received = os.path.join(self.workdir, "%s-client-heard.flv" % name)
        self.assertEqual(c.remote_audio[0][0], 0, "the client missed the call's first frames")
        write_flv_audio(received, c.remote_audio)
        self.assertGreaterEqual(decoded_tone(received, 440, self.workdir), 0.9, "the client did not hear the phone")
        return out, home

    def test_an_opus_phone_and_the_speex_client_hear_each_other(self):
        out, _home = self.incoming_call_with("olga", free_udp_range(), "opus/48000/2")
        self.assertRegex(out, r"audio: Set audio encoder: opus 48000Hz")

    def test_a_g722_phone_and_the_speex_client_hear_each_other(self):
        out, _home = self.incoming_call_with("gail", free_udp_range(), "G722/16000/1")
        self.assertIn("audio: Set audio encoder: G722 16000Hz", out)

    def test_a_phone_that_insists_on_srtp_gets_srtp(self):
        before = self.metric("junction_gateway_srtp_calls_total")
        out, _home = self.incoming_call_with("sara", free_udp_range(), "PCMU", account_params=";mediaenc=srtp-mand")
        self.assertIn("srtp", out.lower())
        self.assertEqual(self.metric("junction_gateway_srtp_calls_total"), before + 1)
        self.assertEqual(self.metric("junction_gateway_srtp_failures_total"), 0)

    def test_the_client_rejects_a_call_as_busy(self):
        erin_home = self.phone("erin", 440, free_udp_range())
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.wait_registered("alice@127.0.0.1")
        erin = run_phone(erin_home, 4, "/dial sip:alice@127.0.0.1")
        self.addCleanup(lambda: erin.poll() is None and erin.kill())
        c.wait_callback("invited")
        self.assertEqual(c.call_method("reject", "486 Busy Here").command_name, "_result")
        erin_out = erin.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("486 Busy Here", erin_out, erin_out[-3000:])
        self.assertNotIn("Call established", erin_out)

    def test_a_call_to_nobody_is_rejected_with_404(self):
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.assertEqual(c.call_method("invite", "nobody@127.0.0.1").command_name, "_result")
        rejected = c.wait_callback("rejected")
        self.assertTrue(rejected[0].startswith("404"), rejected)
        # A second call on the line while one is up is refused; here the line is free again.
        self.assertEqual(c.call_method("invite", "nobody@127.0.0.1").command_name, "_result")
        c.wait_callback("rejected")

    def test_rtmp_disconnect_mid_call_hangs_up_and_unregisters(self):
        frank_home = self.phone("frank", 440, free_udp_range())
        frank = run_phone(frank_home, 12)
        self.addCleanup(lambda: frank.poll() is None and frank.kill())
        self.wait_registered("frank@127.0.0.1")
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.assertEqual(c.call_method("invite", "frank@127.0.0.1", "ulaw").command_name, "_result")
        c.wait_callback("accepted")
        c.start_media()
        c.send_audio_paced(self.audio_tags(self.speex_tone), 2)
        self.assertEqual(self.metric("junction_gateway_calls"), 1)
        c.close()  # the Flash client goes away mid-call
        self.wait_registered("alice@127.0.0.1", present=False)
        frank_out = frank.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("Call established: sip:alice@127.0.0.1", frank_out, frank_out[-3000:])
        # frank got the BYE ("reset by peer" is how baresip says so) long before its own -t ran out.
        self.assertIn("sip:alice@127.0.0.1: session closed: Connection reset by peer", frank_out, frank_out[-3000:])
        self.assertRegex(frank_out, r"terminated \(duration: [0-5] secs\)", frank_out[-3000:])
        self.assert_nothing_left()

    # -- video --

    VIDEO_ANSWER = ("m=audio {audio} RTP/AVP 0\r\n"
                    "m=video {video} RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n"
                    "a=fmtp:98 profile-level-id=42e01f;packetization-mode=1\r\n")

    def video_call(self, name, source, phone_sends=(), feedback=()):
        """The client calls a raw phone offering H.264 and sends `source` (audio and video), while
        the phone sends `phone_sends` (RTP datagrams for its video port, 15 a second) and the
        RTCP of `feedback` ([(seconds after the client starts sending, make(gateway's video
        SSRC) -> datagram)]); returns the phone with what it received, and the client with what
        it played."""
        self.add_user("%s@127.0.0.1" % name, "pw-" + name)
        phone = RawPhone(self.junction.sip_address(), name, "pw-" + name)
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer(self.VIDEO_ANSWER)))
        answering.start()
        self.assertEqual(c.call_method("invite", "%s@127.0.0.1" % name, "ulaw", "h264").command_name, "_result")
        accepted = c.wait_callback("accepted")
        answering.join(20)
        self.assertEqual(accepted, ["speex", "h264"])
        self.assertIn("H264/90000", done["offer"])
        listening = threading.Thread(target=lambda: done.update(bye=phone.pump_media(15)))
        listening.start()
        c.start_media()
        c.pump(0.3)  # playing `remote` before the phone's first keyframe

        def send_video():
            start = time.monotonic()
            for datagram in phone_sends:
                ts = struct.unpack(">I", datagram[4:8])[0] / 90000.0
                time.sleep(max(0.0, ts - (time.monotonic() - start)))
                phone.send_rtp("video", datagram)
            for at, make in feedback:
                time.sleep(max(0.0, at - (time.monotonic() - start)))
                rtp = [d for _t, d in list(phone.received["video"]) if len(d) >= 12 and d[1] & 0x7F == 98]
                phone.send_rtp("video", make(struct.unpack(">I", rtp[-1][8:12])[0] if rtp else 0))
        sending = threading.Thread(target=send_video)
        sending.start()
        c.send_paced(read_flv_tags(source), 5)
        sending.join(20)
        c.pump(0.5)
        self.assertEqual(c.call_method("bye").command_name, "_result")
        listening.join(20)
        self.assertTrue(done.get("bye"), phone.log)
        return phone, c

    def test_h264_from_the_client_reaches_the_phone_as_rfc6184_rtp_of_the_same_frames(self):
        phone, _c = self.video_call("vid", self.h264_video)
        sets, sent = avc_frames(read_flv_tags(self.h264_video))
        units = h264_access_units(phone.received["video"], 98)
        self.assertEqual(len(units), len(sent), "the phone got %d access units of %d" % (len(units), len(sent)))
        # Frame by frame the same NAL units (parameter sets travel in band before each IDR).
        strip = lambda nals: [n for n in nals if n[0] & 0x1F not in (7, 8, 9)]
        for i, (_ts, nals) in enumerate(units):
            self.assertEqual(strip(nals), strip(sent[i][1]), "access unit %d differs" % i)
        first = units[0][1]
        self.assertEqual([n[0] & 0x1F for n in first[:2]], [7, 8], "no SPS/PPS before the first IDR")
        self.assertEqual(first[:2], sets)
        # RTP timestamps follow the FLV ones (90 kHz).
        self.assertEqual((units[15][0] - units[0][0]) & 0xFFFFFFFF, 90000)

    def test_sorenson_from_an_old_flash_client_arrives_as_decodable_h264(self):
        phone, _c = self.video_call("oldflash", self.sorenson_video)
        units = h264_access_units(phone.received["video"], 98)
        self.assertGreater(len(units), 30)
        annexb = os.path.join(self.workdir, "from-sorenson.h264")
        with open(annexb, "wb") as f:
            for _ts, nals in units:
                for n in nals:
                    f.write(b"\x00\x00\x00\x01" + n)
        probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", annexb],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(probe.stderr, b"", probe.stderr)
        codec, width, height, frames = probe.stdout.decode().strip().split(",")
        self.assertEqual((codec, width, height), ("h264", "320", "240"))
        self.assertGreater(int(frames), 30)

    def test_h264_from_the_phone_reaches_the_client_as_the_same_flv_frames(self):
        sets, frames = avc_frames(read_flv_tags(self.h264_video))
        # The phone sends its parameter sets in band before the first IDR, as phones do.
        units = [sets + frames[0][1]] + [nals for _key, nals in frames[1:]]
        packets = h264_rtp_packets(units, 98)
        self.assertGreater(len(packets), len(units))  # some FU-A
        _phone, c = self.video_call("vidback", self.h264_video, packets)
        got_sets, got = avc_frames(c.remote_video)
        self.assertEqual(got_sets, sets, "the client's sequence header is not the phone's SPS/PPS")
        strip = lambda nals: [n for n in nals if n[0] & 0x1F not in (7, 8, 9)]
        self.assertEqual(len(got), len(units), "the client got %d frames of %d" % (len(got), len(units)))
        for i, (key, nals) in enumerate(got):
            self.assertEqual(strip(nals), strip(units[i]), "frame %d differs" % i)
            self.assertEqual(key, any(n[0] & 0x1F == 5 for n in units[i]), "frame %d keyframe flag" % i)
        # FLV timestamps follow the RTP ones: 15 frames a second.
        ts = [t for _k, t, b in c.remote_video if b[1] == 1]
        self.assertEqual(ts[15] - ts[0], 1000)

    def test_a_call_is_recorded_on_api_request_and_lines_are_listed(self):
        # zed is not among the users whose calls are always recorded.
        self.add_user("zed@127.0.0.1", "pw-zed")
        self.add_user("yan@127.0.0.1", "pw-yan")
        phone = RawPhone(self.junction.sip_address(), "yan", "pw-yan", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = GatewayClient(self.junction.port("rtmp"), "zed@127.0.0.1")
        self.addCleanup(c.close)
        self.assertEqual(c.login("pw-zed").command_name, "_result")
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer("m=audio {audio} RTP/AVP 0\r\n")))
        answering.start()
        self.assertEqual(c.call_method("invite", "yan@127.0.0.1", "ulaw").command_name, "_result")
        c.wait_callback("accepted")
        answering.join(20)
        listening = threading.Thread(target=lambda: done.update(bye=phone.pump_media(15)))
        listening.start()
        c.start_media()
        c.send_audio_paced(self.audio_tags(self.speex_tone), 1)
        from junction_process import curl
        _s, _h, body = curl(self.junction.url("/api/v1/gateway/lines"))
        lines = {l["user"]: l for l in json.loads(body)["lines"]}
        self.assertEqual(lines["zed@127.0.0.1"]["state"], "in-call")
        self.assertEqual(lines["zed@127.0.0.1"]["peer"], "sip:yan@127.0.0.1")
        self.assertEqual(lines["zed@127.0.0.1"]["recording"], "")
        status, _h, body = curl(self.junction.url("/api/v1/gateway/lines/zed@127.0.0.1/record"), "-X", "POST", "-H", "Content-Type: application/json")
        self.assertEqual(status, 200, body)
        rec_id = json.loads(body)["recording"]
        self.assertTrue(rec_id.startswith("call-"), body)
        status, _h, _b = curl(self.junction.url("/api/v1/gateway/lines/nobody@127.0.0.1/record"), "-X", "POST", "-H", "Content-Type: application/json")
        self.assertEqual(status, 404)
        c.send_audio_paced(self.audio_tags(self.speex_tone), 3)
        self.assertEqual(c.call_method("bye").command_name, "_result")
        listening.join(20)
        rec = self.recording_of("sip:yan@127.0.0.1")
        self.assertEqual((rec["id"], rec["line"]), (rec_id, "zed@127.0.0.1"))
        self.assertGreater(rec["duration_seconds"], 1.0)
        left, _right = channel_tones(self.download(rec), self.workdir)
        self.assertGreaterEqual(left(1000, coverage=True), 0.9)

    def test_dtmf_both_ways_as_rfc4733_events(self):
        self.add_user("tone@127.0.0.1", "pw-tone")
        phone = RawPhone(self.junction.sip_address(), "tone", "pw-tone", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        done = {}
        answer = "m=audio {audio} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer(answer)))
        answering.start()
        self.assertEqual(c.call_method("invite", "tone@127.0.0.1", "ulaw", "dtmf").command_name, "_result")
        c.wait_callback("accepted")
        answering.join(20)
        self.assertIn("telephone-event/8000", done["offer"])
        c.start_media()
        # Client -> phone: sendDTMF("5#") becomes two events.
        self.assertEqual(c.call_method("sendDTMF", "5#").command_name, "_result")
        phone.pump_media(1.0)
        events = {}
        for _t, d in phone.received["audio"]:
            if len(d) >= 16 and (d[1] & 0x7F) == 101:
                ts = struct.unpack(">I", d[4:8])[0]
                events.setdefault(ts, []).append((d[12], bool(d[13] & 0x80)))
        self.assertEqual(sorted(e[0][0] for e in events.values()), [5, 11], events)
        for packets in events.values():
            self.assertEqual([end for _e, end in packets][-3:], [True, True, True], "three end packets")
        # Phone -> client: key 9, an update, then the end packet three times (as phones send it).
        ts = 123456
        for i, (end, marker) in enumerate([(False, True), (False, False), (True, False), (True, False), (True, False)]):
            payload = bytes([9, (0x80 if end else 0) | 10]) + struct.pack(">H", 400 * (i + 1))
            phone.send_rtp("audio", struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | 101, 500 + i, ts, 77) + payload)
        self.assertEqual(c.wait_callback("dtmf"), ["9"])
        c.pump(0.5)
        self.assertNotIn("dtmf", [name for name, _a in c.callbacks], "one key press, one callback")
        # A call that did not agree on DTMF cannot send it.
        self.assertEqual(c.call_method("bye").command_name, "_result")
        self.assertEqual(c.call_method("sendDTMF", "1").command_name, "_error")

    def test_two_flash_clients_exchange_any_codec_unchanged_over_xflv(self):
        self.add_user("xena@127.0.0.1", "pw-xena")
        caller = self.client()
        self.assertEqual(caller.login("pw-alice").command_name, "_result")
        callee = GatewayClient(self.junction.port("rtmp"), "xena@127.0.0.1")
        self.addCleanup(callee.close)
        self.assertEqual(callee.login("pw-xena").command_name, "_result")
        self.assertEqual(caller.call_method("invite", "xena@127.0.0.1", "flv").command_name, "_result")
        self.assertEqual(callee.wait_callback("invited")[0], "sip:alice@127.0.0.1")
        self.assertEqual(callee.call_method("accept", "flv").command_name, "_result")
        self.assertEqual(callee.wait_callback("accepted"), ["default", "default"])
        self.assertEqual(caller.wait_callback("accepted"), ["default", "default"])
        callee.start_media()
        caller.start_media()
        # H.264 and Speex from one client: the other plays exactly those messages.
        tags = [t for t in read_flv_tags(self.h264_video) if t[0] in (AUDIO, 9)]
        caller.send_paced(tags, 3)
        callee.pump(1.0)
        sent = [(k, ts, body) for k, ts, body in tags if ts <= 3000]
        got = [(AUDIO, ts, body) for ts, body in callee.remote_audio] + callee.remote_video
        key = lambda t: (t[1], t[0], t[2])
        sent_video = [t for t in sent if t[0] == 9]
        got_video = [t for t in got if t[0] == 9]
        self.assertGreaterEqual(len(got_video), len(sent_video) - 2)
        for a, b in zip(got_video, sent_video):
            self.assertEqual(a, b, "a video message changed on the way")
        sent_audio = [t for t in sent if t[0] == AUDIO]
        got_audio = [t for t in got if t[0] == AUDIO]
        self.assertGreaterEqual(len(got_audio), len(sent_audio) - 5)
        self.assertEqual(sorted(got_audio, key=key), sorted(sent_audio, key=key)[:len(got_audio)])
        self.assertEqual(caller.call_method("bye").command_name, "_result")
        callee.wait_callback("byed")

    def recording_of(self, party):
        """The newest call recording with `party` as its `to` or `from` (waits until complete)."""
        def find():
            _s, _h, body = self.junction_get("/api/v1/recordings")
            for r in json.loads(body)["recordings"]:
                if r["kind"] == "call" and party in (r["to"], r["from"]) and r["complete"]:
                    return r
            return None
        self.assertTrue(wait_for(find, 10), self.junction_get("/api/v1/recordings")[2])
        return find()

    def download(self, rec):
        path = os.path.join(self.workdir, rec["id"] + "-downloaded.flv")
        from junction_process import curl
        status, _h, body = curl(self.junction.url(rec["url"]))
        self.assertEqual(status, 200)
        self.assertEqual(len(body), rec["size_bytes"])
        with open(path, "wb") as f:
            f.write(body)
        return path

    def assert_nothing_left(self, lines=True):
        """No call or RTP port of the gateway is left (nor a line, unless the client is still on)."""
        names = ["junction_gateway_calls", "junction_gateway_rtp_ports"] + (["junction_gateway_lines"] if lines else [])
        for name in names:
            self.assertTrue(wait_for(lambda: self.metric(name) == 0, 10), "%s is %s" % (name, self.metric(name)))


class LoginGuessingTest(unittest.TestCase):
    """Issue 13: wrong passwords given to the gateway are counted against the RTMP client's own
    address (login_guard.hpp), so a guesser is locked out alone: the registrar, which sees every
    line's REGISTER from the gateway's one address, never counts them and never locks the
    gateway out for the other users."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-gateway-guess-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(sip={"auth_failures_allowed": 3},
                                       workdir=cls.workdir).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)
        GatewayTest.add_user.__func__(cls, "alice@127.0.0.1", "pw-alice")

    def login(self, password):
        c = GatewayClient(self.junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(c.close)
        reply = c.login(password)
        return reply.command_name, reply.status().get("description", "") if reply.command_name == "_error" else ""

    def test_a_guesser_is_locked_out_and_the_registrar_counts_nothing(self):
        for n in range(4):  # three allowed, the fourth locks the address out
            self.assertEqual(self.login("wrong-%d" % n), ("_error", "registration failed: 401 wrong user name or password"))
        name, why = self.login("pw-alice")
        self.assertEqual(name, "_error")
        self.assertIn("403 too many failed logins", why)
        metrics = self.junction.metrics()
        self.assertEqual(metrics.sum("junction_sip_auth_failures_total"), 0)
        self.assertEqual(metrics.sum("junction_sip_auth_throttled_total"), 0)
        # Once the lockout (1 s) has passed, the right password logs in.
        self.assertTrue(wait_for(lambda: self.login("pw-alice")[0] == "_result", 10, 0.5))


class RemoteDomainTest(unittest.TestCase):
    """A user of another domain: the line registers with that domain's SIP server (here a second
    junction on 127.0.0.2, the registrar of domain 127.0.0.2) and calls through it."""

    def test_the_line_registers_with_the_users_own_domain_and_calls_through_it(self):
        workdir = tempfile.mkdtemp(prefix="junction-it-gateway-remote-")
        self.addCleanup(shutil.rmtree, workdir, True)
        os.makedirs(os.path.join(workdir, "a"))
        os.makedirs(os.path.join(workdir, "b"))
        remote = JunctionProcess(workdir=os.path.join(workdir, "b"),
                                 sip={"listen": ["127.0.0.2:0"], "domains": ["127.0.0.2"]}).start()
        self.addCleanup(remote.cleanup)
        self.addCleanup(remote.stop)
        local = JunctionProcess(workdir=os.path.join(workdir, "a")).start()
        self.addCleanup(local.cleanup)
        self.addCleanup(local.stop)
        for user in ("ada", "bea"):
            subprocess.run([junction_bin(), "--config", remote.config_path, "users", "add", "%s@127.0.0.2" % user,
                            "--password", "pw-" + user], check=True, timeout=20, stdout=subprocess.DEVNULL)
        port = remote.sip_address().rsplit(":", 1)[1]
        # A wrong password: the remote registrar says no, and so does the connect.
        bad = GatewayClient(local.port("rtmp"), "ada@127.0.0.2:%s" % port)
        self.addCleanup(bad.close)
        reply = bad.login("wrong", auth_name="ada")
        self.assertEqual(reply.command_name, "_error", reply)
        self.assertIn("401", reply.status().get("description", ""))
        c = GatewayClient(local.port("rtmp"), "ada@127.0.0.2:%s" % port)
        self.addCleanup(c.close)
        self.assertEqual(c.login("pw-ada", auth_name="ada").command_name, "_result")
        _s, _h, body = curl(remote.url("/api/v1/sip/registrations"))
        self.assertIn("sip:ada@127.0.0.2", json.loads(body)["registrations"][0]["aor"])
        # bea is a phone of the remote domain: the call goes through its proxy.
        phone = RawPhone(remote.sip_address(), "bea", "pw-bea", media=("audio",), domain="127.0.0.2")
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer("m=audio {audio} RTP/AVP 0\r\n")))
        answering.start()
        self.assertEqual(c.call_method("invite", "bea", "ulaw").command_name, "_result")  # a bare user: the line's domain
        c.wait_callback("accepted")
        answering.join(20)
        self.assertTrue(done.get("offer"))
        invite = phone.invite[0]
        self.assertIn("From: \"Flash User\" <sip:ada@127.0.0.2>", invite)
        self.assertEqual(c.call_method("bye").command_name, "_result")
        self.assertTrue(phone.pump_media(5), phone.log)
        c.close()
        # Unregistered from the remote domain when the client left.
        def registered():
            _s, _h, b = curl(remote.url("/api/v1/sip/registrations"))
            return any(r["aor"] == "sip:ada@127.0.0.2" for r in json.loads(b)["registrations"])
        self.assertTrue(wait_for(lambda: not registered(), 10))


def start_gateway_server(cls, name, extra=None):
    """A server for test class `cls` (cls.workdir, cls.junction; stopped and removed after the
    class) with the default digest settings and `extra` sections."""
    cls.workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % name)
    cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
    cls.junction = JunctionProcess(workdir=cls.workdir, extra=extra or {}).start()
    cls.addClassCleanup(cls.junction.cleanup)
    cls.addClassCleanup(cls.junction.stop)


def call_on_own_server(test, client_user, phone_user, extra=None):
    """A server of the test's own (cleaned up after it) with users `client_user` and `phone_user`
    at 127.0.0.1: a raw phone registered as the one answers PCMU when a gateway client logged in as
    the other calls it. Returns (junction, workdir, client, phone) once the call is up."""
    workdir = tempfile.mkdtemp(prefix="junction-it-gateway-own-")
    test.addCleanup(shutil.rmtree, workdir, True)
    junction = JunctionProcess(workdir=workdir, extra=extra or {}).start()
    test.addCleanup(junction.cleanup)
    for user in (client_user, phone_user):
        subprocess.run([junction_bin(), "--config", junction.config_path, "users", "add", "%s@127.0.0.1" % user,
                        "--password", "pw-" + user], check=True, timeout=20, stdout=subprocess.DEVNULL)
    phone = RawPhone(junction.sip_address(), phone_user, "pw-" + phone_user, media=("audio",))
    test.addCleanup(phone.close)
    test.assertEqual(phone.register(), 200)
    c = GatewayClient(junction.port("rtmp"), "%s@127.0.0.1" % client_user)
    test.addCleanup(c.close)
    test.assertEqual(c.login("pw-" + client_user).command_name, "_result")
    answering = threading.Thread(target=lambda: phone.answer("m=audio {audio} RTP/AVP 0\r\n"))
    answering.start()
    test.assertEqual(c.call_method("invite", "%s@127.0.0.1" % phone_user, "ulaw").command_name, "_result")
    c.wait_callback("accepted")
    answering.join(20)
    return junction, workdir, c, phone


class CallControlTest(unittest.TestCase):
    """Hold both ways, the RTP timeout, the ring timeout, two lines of one user and BYE at shutdown,
    with raw phones whose SIP and RTP the tests read. gateway.rtp_timeout is 2 s here,
    gateway.ring_timeout 3 s."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-gateway-control-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(workdir=cls.workdir,
                                       extra={"gateway": {"rtp_timeout": "2s", "ring_timeout": "3s"}}).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.tone = os.path.join(cls.workdir, "tone.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000", "-t", "5", "-c:a",
                                 "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", cls.tone], check=True, timeout=60)
        cls.tags = [(ts, body) for kind, ts, body in read_flv_tags(cls.tone) if kind == AUDIO]
        for user in ("ann", "hal", "rex", "lin", "cat", "ned"):
            subprocess.run([junction_bin(), "--config", cls.junction.config_path, "users", "add",
                            "%s@127.0.0.1" % user, "--password", "pw-" + user],
                           check=True, timeout=20, stdout=subprocess.DEVNULL)

    def client(self, user):
        c = GatewayClient(self.junction.port("rtmp"), user)
        self.addCleanup(c.close)
        self.assertEqual(c.login("pw-" + user.split("@")[0]).command_name, "_result")
        return c

    def call_phone(self, client_user, phone_user):
        """The client calls a raw phone, which answers PCMU and sends RTP. Returns (client, phone)."""
        phone = RawPhone(self.junction.sip_address(), phone_user, "pw-" + phone_user, media=("audio",))
        self.addCleanup(phone.close)
        self.addCleanup(phone.stop_rtp)
        self.assertEqual(phone.register(), 200)
        c = self.client(client_user)
        answering = threading.Thread(target=lambda: phone.answer("m=audio {audio} RTP/AVP 0\r\n"))
        answering.start()
        self.assertEqual(c.call_method("invite", "%s@127.0.0.1" % phone_user, "ulaw").command_name, "_result")
        self.assertEqual(c.wait_callback("accepted"), ["speex", None])
        answering.join(20)
        phone.start_rtp()
        c.start_media()
        return c, phone

    def heard_by_phone(self, c, phone, seconds):
        """RTP packets the phone gets while the client talks for `seconds`."""
        phone.received["audio"].clear()
        c.send_audio_paced(self.tags, seconds)
        phone.pump_media(0.4)
        return len(phone.received["audio"])

    def test_the_phone_holds_and_resumes_then_the_client_does(self):
        c, phone = self.call_phone("ann@127.0.0.1", "hal")
        self.assertGreater(self.heard_by_phone(c, phone, 1), 20)

        # The phone holds (inactive) and goes quiet for longer than the RTP timeout.
        phone.stop_rtp()
        status, answer = phone.reinvite("m=audio {audio} RTP/AVP 0\r\n", "inactive")
        self.assertEqual(status, 200)
        self.assertIn("a=inactive", answer)
        self.assertEqual(c.wait_callback("held"), [True])
        self.assertEqual(self.heard_by_phone(c, phone, 3), 0, "media went to a phone that holds the call")

        # It resumes: media flows both ways again.
        status, answer = phone.reinvite("m=audio {audio} RTP/AVP 0\r\n", "sendrecv")
        self.assertEqual(status, 200)
        self.assertIn("a=sendrecv", answer)
        self.assertEqual(c.wait_callback("held"), [False])
        phone.start_rtp()
        self.assertGreater(self.heard_by_phone(c, phone, 1), 20)

        # The client holds: a re-INVITE with sendonly; the phone answers recvonly and stops
        # sending, for longer than the RTP timeout.
        reply = c.call_method("hold", True)
        self.assertEqual(reply.command_name, "_result", reply)
        phone.stop_rtp()
        offer = phone.answer_reinvite("recvonly")
        self.assertIn("a=sendonly", offer)
        self.assertEqual(c.wait_callback("holding"), [True])
        c.pump(3)
        self.assertNotIn("byed", [name for name, _args in c.callbacks])

        # And resumes.
        self.assertEqual(c.call_method("hold", False).command_name, "_result")
        offer = phone.answer_reinvite("sendrecv")
        self.assertIn("a=sendrecv", offer)
        self.assertEqual(c.wait_callback("holding"), [False])
        phone.start_rtp()
        self.assertGreater(self.heard_by_phone(c, phone, 1), 20)
        self.assertEqual(c.call_method("bye").command_name, "_result")
        self.assertTrue(phone.pump_media(5), phone.log)
        # Hold with no call is an error.
        self.assertEqual(c.call_method("hold", True).command_name, "_error")

    def test_a_phone_that_stops_sending_rtp_is_hung_up_after_the_rtp_timeout(self):
        c, phone = self.call_phone("rex@127.0.0.1", "hal")
        c.pump(1)
        phone.stop_rtp()
        started = time.monotonic()
        self.assertTrue(phone.pump_media(10), "no BYE after the phone went quiet: %r" % phone.log)
        self.assertGreater(time.monotonic() - started, 1.5)  # not before the timeout
        c.wait_callback("byed")
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_calls") == 0, 5))
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_rtp_ports") == 0, 5))

    def test_a_call_that_fails_on_a_codec_mismatch_frees_its_ports_and_says_why(self):
        # Found by an independent client: the client offers only wideband, the phone answers 200
        # with PCMU anyway; the line kept one RTP port and logged nothing.
        phone = RawPhone(self.junction.sip_address(), "hal", "pw-hal", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client("ned@127.0.0.1")
        failed_before = self.junction.metrics().sum("junction_gateway_calls_failed_total")
        for attempt in range(2):  # the second attempt finds the line as clean as the first
            answering = threading.Thread(target=lambda: phone.answer("m=audio {audio} RTP/AVP 0\r\n"))
            answering.start()
            self.assertEqual(c.call_method("invite", "hal@127.0.0.1", "wideband").command_name, "_result")
            self.assertEqual(c.wait_callback("rejected"), ["488 Not Acceptable Here"])
            answering.join(20)
            self.assertTrue(phone.pump_media(5), "no BYE for the answer it cannot use: %r" % phone.log)
            self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_rtp_ports") == 0, 5),
                            "attempt %d left RTP ports open" % attempt)
            self.assertEqual(self.junction.metrics().sum("junction_gateway_calls"), 0)
            self.assertEqual(self.junction.metrics().sum("junction_gateway_calls_failed_total"),
                             failed_before + attempt + 1)
        self.assertTrue(wait_for(lambda: "call failed: the phone's answer has no codec the client offered"
                                 in self.junction.stderr_text(), 5), self.junction.stderr_text()[-2000:])

    def test_an_unanswered_call_is_cancelled_after_the_ring_timeout(self):
        phone = RawPhone(self.junction.sip_address(), "hal", "pw-hal", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client("ned@127.0.0.1")
        self.assertEqual(c.call_method("invite", "hal@127.0.0.1", "ulaw").command_name, "_result")
        phone.ring()
        self.assertEqual(c.wait_callback("ringing"), ["180 Ringing"])
        # Nobody picks up: the gateway gives up after ring_timeout, cancels, and says so.
        phone.wait_request("CANCEL", 15)
        self.assertEqual(c.wait_callback("rejected"), ["408 No Answer"])
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_rtp_ports") == 0, 5))
        self.assertEqual(self.junction.metrics().sum("junction_gateway_calls"), 0)

    def test_two_lines_of_one_user_both_ring_and_the_one_that_answers_takes_the_call(self):
        first, second = self.client("lin@127.0.0.1"), self.client("lin@127.0.0.1")
        _s, _h, body = curl(self.junction.url("/api/v1/gateway/lines"))
        lines = [l for l in json.loads(body)["lines"] if l["user"] == "lin@127.0.0.1"]
        self.assertEqual(len(lines), 2, body)
        _s, _h, body = curl(self.junction.url("/api/v1/sip/registrations"))
        bindings = [r for r in json.loads(body)["registrations"] if r["aor"] == "sip:lin@127.0.0.1"]
        self.assertEqual(len(bindings[0]["contacts"]), 2, body)  # one binding per line
        caller = self.client("cat@127.0.0.1")
        self.assertEqual(caller.call_method("invite", "lin@127.0.0.1").command_name, "_result")
        self.assertEqual(first.wait_callback("invited")[0], "sip:cat@127.0.0.1")
        self.assertEqual(second.wait_callback("invited")[0], "sip:cat@127.0.0.1")
        self.assertEqual(second.call_method("accept").command_name, "_result")
        caller.wait_callback("accepted")
        # The other line stops ringing: the proxy cancels its branch.
        self.assertEqual(first.wait_callback("cancelled")[0], "sip:cat@127.0.0.1")
        _s, _h, body = curl(self.junction.url("/api/v1/gateway/lines"))
        states = sorted(l["state"] for l in json.loads(body)["lines"] if l["user"] == "lin@127.0.0.1")
        self.assertEqual(states, ["idle", "in-call"])
        # The line that is free takes the next call while the other talks.
        self.assertEqual(caller.call_method("bye").command_name, "_result")
        second.wait_callback("byed")

    def test_server_shutdown_ends_calls_with_bye(self):
        junction, _workdir, _client, phone = call_on_own_server(self, "sue", "bob")
        junction.signal(signal.SIGTERM)
        self.assertTrue(phone.pump_media(10),
                        "no BYE when the server stopped: %r\n%s" % (phone.log, junction.stderr_text()[-3000:]))
        self.assertEqual(junction.wait(15), 0)


class CallRecordingCrashTest(unittest.TestCase):
    def test_sigkill_mid_call_leaves_a_recording_ffprobe_reads(self):
        junction, workdir, c, _phone = call_on_own_server(self, "kim", "lee", {"recording": {"calls": "all"}})
        tone = os.path.join(workdir, "tone.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000", "-t", "6", "-c:a",
                                 "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", tone], check=True, timeout=60)
        c.start_media()
        c.send_audio_paced([(ts, body) for kind, ts, body in read_flv_tags(tone) if kind == AUDIO], 3.5)
        # The client pauses (the call still up): what it said reaches the file within a second or
        # so even with no packet coming after it.
        c.pump(1.5)
        junction.kill()  # SIGKILL mid-call: the recorder never finishes
        files = [f for f in os.listdir(os.path.join(workdir, "recordings")) if f.endswith(".flv")]
        self.assertEqual(len(files), 1, files)
        path = os.path.join(workdir, "recordings", files[0])
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels",
                                "-show_entries", "packet=pts_time", "-of", "json", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        info = json.loads(probe.stdout)
        self.assertEqual([(s["codec_name"], s["channels"]) for s in info["streams"]], [("aac", 2)])
        last = max(float(p["pts_time"]) for p in info["packets"])
        # Up to the last second or so of the 3.5 s the client talked (the mix holds the last half
        # second back while the phone is silent).
        self.assertGreater(last, 2.0, "the recording stops at %.2f s (%d packets, %d bytes); the server said:\n%s"
                           % (last, len(info["packets"]), os.path.getsize(path), junction.stderr_text()[-3000:]))
        left, _right = channel_tones(path, workdir)
        self.assertGreaterEqual(left(1000, coverage=True), 0.9)


if __name__ == "__main__":
    unittest.main()
