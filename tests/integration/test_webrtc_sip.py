"""A browser calling a SIP phone through Junction and a phone calling a browser: JsSIP (npm) in
Debian's headless Chromium registers over SIP-over-WebSocket and calls baresip (registered over
UDP), or baresip calls it. Junction's proxy
bridges the call: the browser's side is WebRTC (ICE-lite and DTLS-SRTP on the shard's WebRTC
port), the phone's plain RTP. Each side sends a tone (the page a 1 kHz file through its fake
microphone, baresip 440 Hz) and each must hear the other's: baresip's recording holds 1 kHz, the
page's analyser finds 440 Hz. Once with a codec both have (PCMU or G.722 pass through, only the
RTP header written again), once with the page offering only Opus (Junction transcodes Opus and
G.711 both ways on its worker). The bridge's gauge returns to 0 after each call. And a browser
calls an RTMP client of the Flash-to-SIP gateway (its line is a SIP user like any phone).
"""
import json
import os
import struct
import shutil
import subprocess
import tempfile
import time
import unittest

from junction_process import BROWSER_DIR, SLOW, JunctionProcess, curl, junction_bin, require_browser, wait_for
from phones import RawPhone, decoded_recording, free_udp_range, make_phone, run_phone, tone_coverage, tone_strength

PAGE = os.path.join(BROWSER_DIR, "sip_page.mjs")
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
PHONE_HZ = 440
PAGE_HZ = 1000
CALL_SECONDS = 6


class BrowserCallsPhoneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_browser()
        cls.workdir = tempfile.mkdtemp(prefix="junction-webrtc-sip-")
        if not os.environ.get("KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(shards=2, workdir=cls.workdir).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)
        cls.tone = os.path.join(cls.workdir, "tone.wav")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=48000" % PAGE_HZ, "-t", "30",
                                 "-ac", "1", cls.tone], check=True, timeout=30)

    def add_user(self, aor, password):
        self.junction.add_user(aor, password)

    def registered(self, aor):
        return self.junction.sip_registered(aor)

    def gauge(self, name):
        return self.junction.metrics().sum(name)

    def call(self, caller, phone, codecs, audio_modules=(), opus_only=False, hold=False):
        """The page (user `caller`) calls baresip (user `phone`, offering `codecs`); returns the
        page's report and baresip's recording."""
        home = make_phone(self.workdir, self.junction.sip_address(), phone, "pw-" + phone, PHONE_HZ,
                          free_udp_range(), self.add_user, codecs=codecs, audio_modules=audio_modules)
        bob = run_phone(home, 60 * SLOW)
        self.addCleanup(lambda: bob.poll() is None and bob.kill())
        self.assertTrue(wait_for(lambda: self.registered("sip:%s@127.0.0.1" % phone), 15 * SLOW),
                        "baresip did not register")
        self.add_user(caller + "@127.0.0.1", "pw-" + caller)
        page = subprocess.run(
            ["node", PAGE, "--ws", "ws://%s/sip" % self.junction.address("http"),
             "--user", caller + "@127.0.0.1", "--password", "pw-" + caller, "--call", "sip:%s@127.0.0.1" % phone,
             "--seconds", str(CALL_SECONDS), "--tone", self.tone, "--opus-only", "1" if opus_only else "0",
             "--hold", "1" if hold else "0", "--timeout-ms", str(int(20000 * SLOW))],
            stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR, timeout=120 * SLOW)
        lines = [json.loads(line) for line in page.stdout.splitlines() if line.startswith("{")]
        self.assertTrue(lines, page.stdout)
        bob.terminate()
        phone_out = bob.communicate(timeout=10)[0].decode("utf-8", "replace")
        self.assertTrue(lines[-1]["ok"], "%r\nbaresip said:\n%s" % (lines[-1], phone_out[-3000:]))
        return lines[-1], decoded_recording(home)

    def answer(self, callee, phone, codecs, opus_only=False):
        """baresip (user `phone`, offering `codecs`) calls the page (user `callee`), which answers;
        returns the page's report and baresip's recording."""
        self.add_user(callee + "@127.0.0.1", "pw-" + callee)
        page = subprocess.Popen(
            ["node", PAGE, "--ws", "ws://%s/sip" % self.junction.address("http"),
             "--user", callee + "@127.0.0.1", "--password", "pw-" + callee, "--answer", "1",
             "--seconds", str(CALL_SECONDS), "--tone", self.tone, "--opus-only", "1" if opus_only else "0",
             "--timeout-ms", str(int(30000 * SLOW))],
            stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR)
        self.addCleanup(lambda: page.poll() is None and page.kill())
        first = json.loads(page.stdout.readline() or "{}")
        self.assertEqual(first.get("event"), "registered", first)
        home = make_phone(self.workdir, self.junction.sip_address(), phone, "pw-" + phone, PHONE_HZ,
                          free_udp_range(), self.add_user, codecs=codecs)
        bob = run_phone(home, 60 * SLOW, "/dial sip:%s@127.0.0.1" % callee)
        self.addCleanup(lambda: bob.poll() is None and bob.kill())
        out, _ = page.communicate(timeout=90 * SLOW)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        self.assertTrue(lines, out)
        bob.terminate()
        phone_out = bob.communicate(timeout=10)[0].decode("utf-8", "replace")
        self.assertTrue(lines[-1]["ok"], "%r\nbaresip said:\n%s" % (lines[-1], phone_out[-3000:]))
        return lines[-1], decoded_recording(home)

    def check(self, report, recording, browser_codec):
        self.assertTrue(report["ok"], {k: v for k, v in report.items() if k not in ("localSdp", "remoteSdp")})
        inbound, outbound = report["stats"]["inbound-rtp"], report["stats"]["outbound-rtp"]
        self.assertEqual(inbound["codec"], browser_codec, report["remoteSdp"])
        self.assertGreater(inbound["packets"], 25 * CALL_SECONDS)
        self.assertGreater(outbound["packets"], 25 * CALL_SECONDS)
        # The page heard the phone: the loudest frequency is 440 Hz (± one analyser bin, 6 Hz)
        # in most of its 100 ms looks once the call runs (the first may still be silent).
        peaks = report["peaks"][len(report["peaks"]) // 4:]
        near = [p for p in peaks if abs(p["hz"] - PHONE_HZ) <= 12 and p["db"] > -80]
        self.assertGreaterEqual(len(near), 0.8 * len(peaks), peaks)
        # The phone heard the page's 1 kHz tone.
        self.assertIsNotNone(recording)
        self.assertGreaterEqual(tone_coverage(recording, PAGE_HZ), 0.9)
        self.assertLess(tone_strength(recording, PHONE_HZ), 0.1)
        self.assertTrue(wait_for(lambda: self.gauge("junction_sip_webrtc_bridges") == 0, 10 * SLOW),
                        "the bridge outlived the call")

    def test_browser_calls_a_pcmu_phone(self):
        before = self.gauge("junction_sip_webrtc_bridged_total")
        transcoded = self.gauge("junction_sip_webrtc_transcoded_total")
        report, recording = self.call("alice", "bob", "PCMU", hold=True)
        self.check(report, recording, "audio/PCMU")
        # The page put the call on hold (its re-INVITE carried to the phone as a plain one, the
        # phone's answer back to it): nothing came to it while held, the phone's audio after.
        self.assertLess(report["hold"]["whileHeld"], 5, report["hold"])
        self.assertGreater(report["hold"]["afterResume"], 25, report["hold"])
        self.assertEqual(self.gauge("junction_sip_webrtc_bridged_total") - before, 1)
        self.assertEqual(self.gauge("junction_sip_webrtc_transcoded_total") - transcoded, 0)
        # The page's answer came from Junction: ICE-lite, its fingerprint, its port.
        self.assertIn("a=ice-lite", report["remoteSdp"])

    def test_an_opus_only_browser_calls_a_pcmu_phone_through_the_transcoder(self):
        transcoded = self.gauge("junction_sip_webrtc_transcoded_total")
        report, recording = self.call("carol", "dave", "PCMU", opus_only=True)
        self.check(report, recording, "audio/opus")
        self.assertEqual(self.gauge("junction_sip_webrtc_transcoded_total") - transcoded, 1)

    def test_a_pcmu_phone_calls_a_browser(self):
        before = self.gauge("junction_sip_webrtc_bridged_total")
        transcoded = self.gauge("junction_sip_webrtc_transcoded_total")
        report, recording = self.answer("erin", "frank", "PCMU")
        self.check(report, recording, "audio/PCMU")
        self.assertEqual(self.gauge("junction_sip_webrtc_bridged_total") - before, 1)
        self.assertEqual(self.gauge("junction_sip_webrtc_transcoded_total") - transcoded, 0)
        # Junction's offer: ICE-lite, actpass; the page took it as it was.
        self.assertIn("a=ice-lite", report["remoteSdp"])

    def test_a_pcmu_phone_calls_an_opus_only_browser_through_the_transcoder(self):
        transcoded = self.gauge("junction_sip_webrtc_transcoded_total")
        report, recording = self.answer("grace", "heidi", "PCMU", opus_only=True)
        self.check(report, recording, "audio/opus")
        self.assertEqual(self.gauge("junction_sip_webrtc_transcoded_total") - transcoded, 1)

    def dtmf_events(self, opus_only):
        """An Opus-only or ordinary page calls a raw phone answering PCMU with telephone-event/8000
        and presses "5#"; returns the phone's events {timestamp: [(event, end, duration)]}."""
        name = "keys" + ("opus" if opus_only else "pcmu")
        self.add_user(name + "@127.0.0.1", "pw-" + name)
        self.add_user("ivan@127.0.0.1", "pw-ivan")
        phone = RawPhone(self.junction.sip_address(), name, "pw-" + name, media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        answered = {}
        answer = "m=audio {audio} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
        page = subprocess.Popen(
            ["node", PAGE, "--ws", "ws://%s/sip" % self.junction.address("http"), "--user", "ivan@127.0.0.1",
             "--password", "pw-ivan", "--call", "sip:%s@127.0.0.1" % name, "--seconds", "2", "--dtmf", "5#",
             "--opus-only", "1" if opus_only else "0", "--timeout-ms", str(int(20000 * SLOW))],
            stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR)
        self.addCleanup(lambda: page.poll() is None and page.kill())
        answered["offer"] = phone.answer(answer, timeout=30 * SLOW)
        self.assertIn("telephone-event/8000", answered["offer"])
        phone.pump_media(6 * SLOW)  # until the page's BYE
        out, _ = page.communicate(timeout=60 * SLOW)
        report = [json.loads(line) for line in out.splitlines() if line.startswith("{")][-1]
        self.assertTrue(report["ok"], report)
        events = {}
        for _t, d in phone.received["audio"]:
            if len(d) >= 16 and (d[1] & 0x7F) == 101:
                ts = struct.unpack(">I", d[4:8])[0]
                events.setdefault(ts, []).append((d[12], bool(d[13] & 0x80), struct.unpack(">H", d[14:16])[0]))
        return events

    def test_the_phones_hold_and_resume_reach_the_browser(self):
        # A phone that holds the call (a plain re-INVITE, sendonly) and resumes it: each goes to
        # the page as a WebRTC re-offer, and the page's answer comes back plain.
        self.add_user("holder@127.0.0.1", "pw-holder")
        self.add_user("judy@127.0.0.1", "pw-judy")
        phone = RawPhone(self.junction.sip_address(), "holder", "pw-holder", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        page = subprocess.Popen(
            ["node", PAGE, "--ws", "ws://%s/sip" % self.junction.address("http"), "--user", "judy@127.0.0.1",
             "--password", "pw-judy", "--call", "sip:holder@127.0.0.1", "--seconds", "5", "--tone", self.tone,
             "--timeout-ms", str(int(20000 * SLOW))],
            stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR)
        self.addCleanup(lambda: page.poll() is None and page.kill())
        offer = phone.answer("m=audio {audio} RTP/AVP 0\r\n", timeout=30 * SLOW)
        self.assertIn("RTP/AVP", offer)
        phone.start_rtp()
        status, held = phone.reinvite("m=audio {audio} RTP/AVP 0\r\n", "sendonly", timeout=15 * SLOW)
        self.assertEqual(status, 200, held)
        self.assertIn("a=recvonly", held)
        self.assertRegex(held, r"m=audio [1-9]\d* RTP/AVP 0\b")
        status, resumed = phone.reinvite("m=audio {audio} RTP/AVP 0\r\n", "sendrecv", timeout=15 * SLOW)
        self.assertEqual(status, 200, resumed)
        self.assertIn("a=sendrecv", resumed)
        phone.pump_media(10 * SLOW)  # until the page's BYE
        phone.stop_rtp()
        out, _ = page.communicate(timeout=60 * SLOW)
        report = [json.loads(line) for line in out.splitlines() if line.startswith("{")][-1]
        self.assertTrue(report["ok"], report)
        self.assertGreater(report["stats"]["inbound-rtp"]["packets"], 100)  # the phone's audio came through

    def test_a_browsers_keys_reach_the_phone_as_rfc4733_events(self):
        for opus_only in (False, True):
            with self.subTest(opus_only=opus_only):
                events = self.dtmf_events(opus_only)
                self.assertEqual(sorted(e[0][0] for e in events.values()), [5, 11], events)
                for packets in events.values():
                    self.assertTrue(packets[-1][1], "the event ends: %r" % packets)
                    # 100 ms at the phone's 8 kHz (Chromium's Opus-side events count 48 kHz: moved).
                    self.assertTrue(500 <= packets[-1][2] <= 1600, packets)


class BrowserCallsGatewayUserTest(unittest.TestCase):
    """JsSIP calls alice, logged in to the Flash-to-SIP gateway from an RTMP client (the
    siprtmp-style client of test_gateway.py): the bridge speaks plain RTP to the gateway's line,
    which transcodes to the client's Speex. The page sends 600 Hz, the client 1 kHz; each hears
    the other's."""

    @classmethod
    def setUpClass(cls):
        require_browser()
        import test_gateway as tg
        cls.tg = tg
        tg.start_gateway_server(cls, "webrtc-gateway")
        tg.GatewayTest.add_user.__func__(cls, "alice@127.0.0.1", "pw-alice")
        tg.GatewayTest.add_user.__func__(cls, "zoe@127.0.0.1", "pw-zoe")
        cls.page_tone = os.path.join(cls.workdir, "600.wav")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=600:sample_rate=48000", "-t", "30", "-ac", "1",
                                 cls.page_tone], check=True, timeout=30)
        cls.speex_tone = os.path.join(cls.workdir, "tone-speex.flv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000", "-t", "10",
                                 "-c:a", "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", cls.speex_tone],
                       check=True, timeout=60)

    def test_a_browser_calls_an_rtmp_gateway_user(self):
        tg = self.tg
        c = tg.GatewayClient(self.junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(c.close)
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        self.assertTrue(wait_for(lambda: b"sip:alice@127.0.0.1" in curl(
            self.junction.url("/api/v1/sip/registrations")).body, 10 * SLOW), "the gateway line did not register")
        page = subprocess.Popen(
            ["node", PAGE, "--ws", "ws://%s/sip" % self.junction.address("http"), "--user", "zoe@127.0.0.1",
             "--password", "pw-zoe", "--call", "sip:alice@127.0.0.1", "--seconds", "4", "--tone", self.page_tone,
             "--timeout-ms", str(int(20000 * SLOW))],
            stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR)
        self.addCleanup(lambda: page.poll() is None and page.kill())
        invited = c.wait_callback("invited", timeout=30 * SLOW)
        self.assertEqual(invited[0], "sip:zoe@127.0.0.1")
        c.play_remote()
        self.assertEqual(c.call_method("accept", "wideband", "ulaw").command_name, "_result")
        c.wait_callback("accepted")
        c.start_media()
        tags = [(ts, body) for kind, ts, body in tg.read_flv_tags(self.speex_tone) if kind == tg.AUDIO]
        c.send_audio_paced(tags, 7)
        c.wait_callback("byed", timeout=20 * SLOW)  # the page hung up
        out, _ = page.communicate(timeout=60 * SLOW)
        report = [json.loads(line) for line in out.splitlines() if line.startswith("{")][-1]
        self.assertTrue(report["ok"], report)
        peaks = report["peaks"][len(report["peaks"]) // 4:]
        near = [p for p in peaks if abs(p["hz"] - 1000) <= 12 and p["db"] > -80]
        self.assertGreaterEqual(len(near), 0.8 * len(peaks), peaks)
        heard = os.path.join(self.workdir, "client-heard.flv")
        tg.write_flv_audio(heard, c.remote_audio)
        self.assertGreaterEqual(tg.decoded_tone(heard, 600, self.workdir), 0.9)
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_sip_webrtc_bridges") == 0, 10 * SLOW))


if __name__ == "__main__":
    unittest.main()
