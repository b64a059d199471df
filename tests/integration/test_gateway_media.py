"""The gateway's media beyond the calls of test_gateway.py, each checked on the wire: G.711 clients
(Flash Player 11's pcmu/pcma) whose bytes the phone gets unchanged and the other way; a phone's
PLI and FIR answered with an IDR by the Sorenson transcoder; PLIs sent once a second to a phone
whose H.264 cannot be decoded; gateway.srtp = "required" with baresip (SDES) and raw phones.

Everything talks to 127.0.0.1 only; every wait is bounded.
"""

import os
import re
import struct
import subprocess
import threading
import unittest

from junction_process import wait_for
from phones import (RawPhone, free_udp_range, h264_access_units, h264_rtp_packets, make_phone, run_phone, tone_coverage,
                    tone_seconds)
import ogg_speex
import test_gateway as tg


def rtcp_pli(sender_ssrc, media_ssrc):
    """RFC 4585 §6.3.1: payload-specific feedback (206), FMT 1, no FCI."""
    return struct.pack(">BBHII", 0x80 | 1, 206, 2, sender_ssrc, media_ssrc)


def rtcp_fir(sender_ssrc, media_ssrc, sequence):
    """RFC 5104 §4.3.1: FMT 4, media source 0, one FCI entry (SSRC, sequence number)."""
    return struct.pack(">BBHIIIB3x", 0x80 | 4, 206, 4, sender_ssrc, 0, media_ssrc, sequence)


def is_pli(datagram):
    return len(datagram) >= 12 and datagram[1] == 206 and datagram[0] & 0x1F == 1


def idr_frames(units, frame_step=6000):
    """The frame numbers (from the RTP timestamps, 15 a second) of the access units holding an IDR."""
    first = units[0][0]
    # FLV's millisecond timestamps make the steps 5,940 or 6,030: round, not floor.
    return [round(((ts - first) & 0xFFFFFFFF) / frame_step) for ts, nals in units
            if any(n[0] & 0x1F == 5 for n in nals)]


def video_psnr(reference, candidate):
    """Frame n of `candidate` (raw H.264) against frame n of `reference` (any file ffmpeg reads),
    luma PSNR by ffmpeg's psnr filter: (frames compared, average dB, worst frame's dB). Both are
    put on one time base, frame n at n: the filter pairs frames by time."""
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", reference, "-f", "h264", "-i", candidate,
                           "-lavfi", "[0:v]settb=1/15,setpts=N[a];[1:v]settb=1/15,setpts=N[b];"
                           "[b][a]psnr=stats_file=-:eof_action=endall", "-f", "null", "-"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    values = [float(m.group(1)) if m.group(1) != "inf" else 99.0
              for m in re.finditer(r"psnr_y:(\S+)", done.stdout.decode())]
    if done.returncode != 0 or not values:
        raise AssertionError("ffmpeg psnr: %s" % done.stderr.decode()[-2000:])
    return len(values), sum(values) / len(values), min(values)


class GatewayMediaTest(unittest.TestCase):
    VIDEO_ANSWER = tg.GatewayTest.VIDEO_ANSWER
    add_user = tg.GatewayTest.__dict__["add_user"]
    client = tg.GatewayTest.client
    video_call = tg.GatewayTest.video_call

    @classmethod
    def setUpClass(cls):
        tg.start_gateway_server(cls, "gateway-media")
        # 6 s of Sorenson at 15 frames a second: the transcoder's own keyframes (every 50 frames)
        # come at frames 0 and 50, so others are answers to requests.
        cls.sorenson_video = os.path.join(cls.workdir, "video-flv1.flv")
        subprocess.run(tg.FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "6", "-c:v", "flv1",
                                    "-g", "15", "-f", "flv", cls.sorenson_video], check=True, timeout=60)
        cls.h264_video = os.path.join(cls.workdir, "video-h264.flv")
        subprocess.run(tg.FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "4", "-c:v", "libx264",
                                    "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "15", "-bf", "0", "-f",
                                    "flv", cls.h264_video], check=True, timeout=60)
        cls.add_user("alice@127.0.0.1", "pw-alice")

    # -- G.711 clients --

    def place_call(self, name, codec, answer):
        """A raw phone `name` registers and will answer with `answer`; alice, playing `remote`
        already, invites it with `codec`. Returns (phone, client, {"offer": ...} once answered,
        the answering thread)."""
        self.add_user("%s@127.0.0.1" % name, "pw-" + name)
        phone = RawPhone(self.junction.sip_address(), name, "pw-" + name, media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client()
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        c.play_remote()
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer(answer)))
        answering.start()
        self.assertEqual(c.call_method("invite", "%s@127.0.0.1" % name, codec).command_name, "_result")
        return phone, c, done, answering

    def g711_call(self, codec, payload_type, flv_format):
        """The client (Flash Player 11's G.711) calls a raw phone answering with `payload_type`;
        both send 2 s of distinct 20 ms payloads. Returns (what the client sent, the payloads the
        phone got in sequence order, what the phone sent, the FLV bodies the client played)."""
        phone, c, done, answering = self.place_call("g711" + codec, codec, "m=audio {audio} RTP/AVP %d\r\n" % payload_type)
        self.assertEqual(c.wait_callback("accepted"), [codec, None])
        answering.join(20)
        self.assertRegex(done["offer"], r"m=audio \d+ RTP/AVP %d\b" % payload_type)
        # Any byte is a G.711 sample: payloads that differ from packet to packet and inside one.
        phone_sent = [bytes((i * 7 + j * 3) % 256 for j in range(160)) for i in range(100)]
        client_sent = [bytes((i * 11 + j * 5 + 1) % 256 for j in range(160)) for i in range(100)]
        listening = threading.Thread(target=lambda: done.update(bye=phone.pump_media(15)))
        listening.start()
        sending = phone.send_payloads("audio", payload_type, phone_sent)
        c.publish_local()
        c.send_audio_paced([(i * 20, bytes([(flv_format << 4) | 0x02]) + p) for i, p in enumerate(client_sent)], 3)
        sending.join(10)
        self.assertTrue(wait_for(lambda: (c.pump(0.05) or True) and len(c.remote_audio) >= len(phone_sent), 10),
                        "the client got %d of %d packets" % (len(c.remote_audio), len(phone_sent)))
        self.assertTrue(wait_for(lambda: sum(1 for _t, d in list(phone.received["audio"])
                                             if d[1] & 0x7F == payload_type) >= len(client_sent), 10))
        self.assertEqual(c.call_method("bye").command_name, "_result")
        listening.join(20)
        self.assertTrue(done.get("bye"), phone.log)
        rtp = sorted((struct.unpack(">H", d[2:4])[0], d[12:]) for _t, d in phone.received["audio"]
                     if len(d) > 12 and d[1] & 0x7F == payload_type)
        return client_sent, [p for _seq, p in rtp], phone_sent, [body for _ts, body in c.remote_audio]

    def test_g711_clients_and_phones_get_each_others_bytes_unchanged(self):
        for codec, payload_type, flv_format in (("pcmu", 0, 8), ("pcma", 8, 7)):
            with self.subTest(codec=codec):
                client_sent, phone_got, phone_sent, client_got = self.g711_call(codec, payload_type, flv_format)
                # Passed through, not transcoded: the same bytes, in the same order, both ways.
                self.assertEqual(b"".join(phone_got), b"".join(client_sent))
                self.assertEqual({b[0] >> 4 for b in client_got}, {flv_format})
                self.assertEqual(b"".join(b[1:] for b in client_got), b"".join(phone_sent))
                self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_rtp_ports") == 0, 10))

    # -- transcoded audio, counted on the wire --

    def speex_tone(self, source="sine=frequency=1000:sample_rate=16000"):
        """The client's 4 s of Speex 16 kHz 1 kHz tone (201 frames), and the same decoded (8 kHz WAV)."""
        tone = os.path.join(self.workdir, "tone-speex.flv")
        subprocess.run(tg.FFMPEG + ["-f", "lavfi", "-i", source, "-t", "5", "-c:a",
                                    "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", tone], check=True, timeout=60)
        sent = [(ts, b) for kind, ts, b in tg.read_flv_tags(tone) if kind == 8 and ts <= 4000]
        sent_wav = os.path.join(self.workdir, "sent-speex.wav")
        tg.write_flv_audio(sent_wav + ".flv", sent)
        subprocess.run(tg.FFMPEG + ["-i", sent_wav + ".flv", "-ac", "1", "-ar", "8000", sent_wav], check=True, timeout=30)
        return sent, sent_wav

    def transcoded_call(self, name, codec, answer, payload_type, phone_sent, sent):
        """The client (`codec`) calls a raw phone answering `answer`; the client sends `sent` (FLV
        Speex), the phone `phone_sent` (payloads of `payload_type`, 20 ms apart, 8 kHz clock).
        Returns (the RTP datagrams the phone got, in order; the client's played audio)."""
        phone, c, done, answering = self.place_call(name, codec, answer)
        self.assertEqual(c.wait_callback("accepted"), ["speex", None])
        answering.join(20)
        listening = threading.Thread(target=lambda: done.update(bye=phone.pump_media(20)))
        listening.start()
        sending = phone.send_payloads("audio", payload_type, phone_sent)
        c.publish_local()
        c.send_audio_paced(sent, 5)
        sending.join(10)
        rtp = lambda: [d for _t, d in list(phone.received["audio"]) if len(d) > 12 and d[1] & 0x7F == payload_type]
        # Everything sent comes out, less what a codec still holds (a frame at most).
        self.assertTrue(wait_for(lambda: len(rtp()) >= len(sent) - 1, 10), len(rtp()))
        self.assertTrue(wait_for(lambda: (c.pump(0.05) or True) and len(c.remote_audio) >= len(phone_sent) - 1, 10),
                        len(c.remote_audio))
        self.assertEqual(c.call_method("bye").command_name, "_result")
        listening.join(25)
        self.assertTrue(done.get("bye"), phone.log)
        got = rtp()
        # One 20 ms packet per Speex frame of the client's, no gap in sequence or time.
        self.assertLessEqual(len(got), len(sent))
        sequences = [struct.unpack(">H", d[2:4])[0] for d in got]
        stamps = [struct.unpack(">I", d[4:8])[0] for d in got]
        self.assertEqual([(b - a) & 0xFFFF for a, b in zip(sequences, sequences[1:])], [1] * (len(got) - 1))
        self.assertEqual([(b - a) & 0xFFFFFFFF for a, b in zip(stamps, stamps[1:])], [160] * (len(got) - 1))
        # One 20 ms Speex 16 kHz frame per packet of the phone's, timestamps 20 ms apart.
        self.assertLessEqual(len(c.remote_audio), len(phone_sent))
        self.assertEqual({b[0] >> 4 for _ts, b in c.remote_audio}, {11})
        self.assertEqual(c.remote_audio[0][0], 0)
        self.assertEqual({b[0] - a[0] for a, b in zip(c.remote_audio, c.remote_audio[1:])}, {20})
        return got, c.remote_audio

    def assert_client_heard(self, remote_audio, frequency):
        """The client's Speex decodes to the phone's tone, as long as the frames that came
        (within a frame: the decoder's first one ramps in, and the 20 ms window)."""
        client_flv = os.path.join(self.workdir, "client-heard-%d.flv" % frequency)
        tg.write_flv_audio(client_flv, remote_audio)
        client_wav = client_flv + ".wav"
        subprocess.run(tg.FFMPEG + ["-i", client_flv, "-ac", "1", "-ar", "8000", client_wav], check=True, timeout=30)
        self.assertAlmostEqual(tone_seconds(client_wav, frequency), len(remote_audio) * 0.02, delta=0.041)
        self.assertGreaterEqual(tone_coverage(client_wav, frequency), 0.9)

    def test_transcoded_audio_lasts_as_long_as_it_was_sent_both_ways(self):
        # Speex from the client against a raw phone answering PCMU, which sends 4 s of PCMU tone
        # (200 packets) back: what each side gets is counted and decoded.
        sent, sent_wav = self.speex_tone()
        phone_tone = os.path.join(self.workdir, "phone-tone.ul")
        subprocess.run(tg.FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000", "-t", "4", "-f", "mulaw",
                                    phone_tone], check=True, timeout=30)
        with open(phone_tone, "rb") as f:
            pcmu = f.read()
        phone_sent = [pcmu[i:i + 160] for i in range(0, len(pcmu), 160)]
        self.assertEqual(len(phone_sent), 200)
        got, remote = self.transcoded_call("counted", "ulaw", "m=audio {audio} RTP/AVP 0\r\n", 0, phone_sent, sent)
        heard_wav = os.path.join(self.workdir, "phone-heard.wav")
        with open(heard_wav + ".ul", "wb") as f:
            f.write(b"".join(d[12:] for d in got))
        subprocess.run(tg.FFMPEG + ["-f", "mulaw", "-ar", "8000", "-i", heard_wav + ".ul", heard_wav], check=True,
                       timeout=30)
        # The tone lasts as long as the client's did, within a frame (and the 20 ms window).
        self.assertAlmostEqual(tone_seconds(heard_wav, 1000), tone_seconds(sent_wav, 1000), delta=0.041)
        self.assertGreaterEqual(tone_coverage(heard_wav, 1000), 0.9)
        self.assert_client_heard(remote, 440)

    def test_a_narrowband_client_and_a_speex_8k_phone_hear_each_other(self):
        # `narrowband`: the phone gets speex/8000 (RTP payload type 97), the client Speex 16 kHz.
        # A pure 1 kHz tone sets libspeex's narrowband decoder off after two seconds or so
        # (ffmpeg alone, Speex 16 kHz to 8 kHz, does the same: the pitch predictor locks on a
        # sinusoid); a trace of noise, as any voice has, keeps it in step.
        sent, sent_wav = self.speex_tone("aevalsrc=0.125*sin(2*PI*1000*t)+0.004*(random(0)-0.5):s=16000")
        phone_spx = os.path.join(self.workdir, "phone-tone.spx")
        subprocess.run(tg.FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000", "-t", "4", "-c:a",
                                    "libspeex", "-ar", "8000", "-ac", "1", phone_spx], check=True, timeout=30)
        phone_sent = ogg_speex.read_packets(phone_spx)[2:]  # past the header and comments
        self.assertEqual(len(phone_sent), 200)
        got, remote = self.transcoded_call("nbphone", "narrowband",
                                           "m=audio {audio} RTP/AVP 97\r\na=rtpmap:97 speex/8000\r\n", 97,
                                           phone_sent, sent)
        # What the phone got is narrowband Speex that libspeex (through ffmpeg) decodes to the
        # client's tone, as long as it was sent.
        heard_spx = os.path.join(self.workdir, "phone-heard.spx")
        ogg_speex.write_speex(heard_spx, [d[12:] for d in got])
        heard_wav = heard_spx + ".wav"
        subprocess.run(tg.FFMPEG + ["-i", heard_spx, "-ar", "8000", heard_wav], check=True, timeout=30)
        self.assertAlmostEqual(tone_seconds(heard_wav, 1000), tone_seconds(sent_wav, 1000), delta=0.041)
        self.assertGreaterEqual(tone_coverage(heard_wav, 1000), 0.9)
        self.assert_client_heard(remote, 440)

    # -- keyframes --

    def test_a_phones_pli_and_fir_each_get_an_idr_from_the_transcoder(self):
        phone, _c = self.video_call("askingphone", self.sorenson_video, feedback=[
            (1.5, lambda ssrc: rtcp_pli(0xFEED, ssrc)), (2.5, lambda ssrc: rtcp_fir(0xFEED, ssrc, 1))])
        units = h264_access_units(phone.received["video"], 98)
        self.assertGreater(len(units), 60)
        frames = idr_frames(units)
        # Its own keyframes at 0 and 50; one after the PLI (sent at frame 22) and one after the
        # FIR (frame 37), each before the next frame of its own.
        self.assertIn(0, frames)
        asked = [f for f in frames if 0 < f < 50]
        self.assertEqual(len(asked), 2, frames)
        self.assertGreaterEqual(asked[0], 22, frames)
        self.assertGreaterEqual(asked[1], 37, frames)

    def test_the_transcoders_own_keyframes_come_every_50_frames_and_look_like_the_source(self):
        # The control for the test above: without requests, IDRs at 0 and 50 only.
        phone, _c = self.video_call("quietphone", self.sorenson_video)
        units = h264_access_units(phone.received["video"], 98)
        self.assertGreater(len(units), 60)
        self.assertEqual(idr_frames(units), [0, 50])
        # Every frame sent (5 s at 15 a second, the source's first 76) came out, and each is close
        # to the Sorenson frame it was made from.
        self.assertEqual(len(units), 76)
        annexb = os.path.join(self.workdir, "quietphone.h264")
        with open(annexb, "wb") as f:
            f.write(b"".join(b"\x00\x00\x00\x01" + n for _ts, nals in units for n in nals))
        frames, average, worst = video_psnr(self.sorenson_video, annexb)
        self.assertEqual(frames, 76)
        # Floors: 40 dB on average, 35 dB for the worst frame (measured: about 55 and 44).
        self.assertGreaterEqual(average, 40.0)
        self.assertGreaterEqual(worst, 35.0)
        self.assertFalse([d for _t, d in phone.received["video"] if is_pli(d)], "a PLI to a phone that sent nothing")

    def test_a_phone_whose_h264_cannot_be_decoded_gets_a_pli_once_a_second(self):
        _sets, frames = tg.avc_frames(tg.read_flv_tags(self.h264_video))
        # Every frame but the keyframes (every 15th): nothing the client could decode.
        units = [nals for key, nals in frames if not key]
        self.assertGreater(len(units), 40)
        phone, _c = self.video_call("lossyphone", self.h264_video, h264_rtp_packets(units, 98))
        plis = [t for t, d in phone.received["video"] if is_pli(d)]
        # About 3.5 s of undecodable video: a PLI at the first frame and then once a second.
        self.assertGreaterEqual(len(plis), 3, len(plis))
        self.assertLessEqual(len(plis), 5, len(plis))
        self.assertTrue(all(b - a >= 0.9 for a, b in zip(plis, plis[1:])), [b - a for a, b in zip(plis, plis[1:])])


class SrtpRequiredTest(unittest.TestCase):
    """gateway.srtp = "required": a phone offering SRTP (SDES) gets it, plain RTP is refused both
    ways (488), and the gateway's own offers are RTP/SAVP with a key."""

    add_user = tg.GatewayTest.__dict__["add_user"]

    @classmethod
    def setUpClass(cls):
        tg.start_gateway_server(cls, "gateway-srtp", {"gateway": {"srtp": "required"}})
        cls.add_user("alice@127.0.0.1", "pw-alice")

    def client(self):
        c = tg.GatewayClient(self.junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(c.close)
        self.assertEqual(c.login("pw-alice").command_name, "_result")
        return c

    def phone_calls(self, name, account_params):
        home = make_phone(self.workdir, self.junction.sip_address(), name, "pw-" + name, 440, free_udp_range(),
                          self.add_user, account_params=account_params, audio_modules=("srtp.so",))
        phone = run_phone(home, 5, "/dial sip:alice@127.0.0.1")
        self.addCleanup(lambda: phone.poll() is None and phone.kill())
        return phone

    def test_a_phone_offering_srtp_gets_it(self):
        before = self.junction.metrics().sum("junction_gateway_srtp_calls_total")
        c = self.client()
        phone = self.phone_calls("sam", ";mediaenc=srtp-mand")
        c.wait_callback("invited")
        self.assertEqual(c.call_method("accept", "ulaw").command_name, "_result")
        self.assertEqual(c.wait_callback("accepted"), ["speex", None])
        c.start_media()
        c.wait_callback("byed", timeout=15)
        out = phone.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("Call established", out, out[-3000:])
        self.assertEqual(self.junction.metrics().sum("junction_gateway_srtp_calls_total"), before + 1)
        self.assertGreater(len(c.remote_audio), 50, "no SRTP audio reached the client")

    def test_a_phone_offering_plain_rtp_is_refused_with_488(self):
        c = self.client()
        phone = self.phone_calls("pat", "")
        out = phone.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("488", out, out[-3000:])
        self.assertNotIn("Call established", out)
        self.assertFalse([n for n, _a in c.callbacks if n == "invited"], "the client was rung for a plain call")

    def test_the_gateways_offer_is_srtp_and_a_plain_answer_fails_the_call(self):
        self.add_user("ray@127.0.0.1", "pw-ray")
        phone = RawPhone(self.junction.sip_address(), "ray", "pw-ray", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = self.client()
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer("m=audio {audio} RTP/AVP 0\r\n")))
        answering.start()
        self.assertEqual(c.call_method("invite", "ray@127.0.0.1", "ulaw").command_name, "_result")
        answering.join(20)
        self.assertRegex(done["offer"], r"m=audio \d+ RTP/SAVP ")
        self.assertRegex(done["offer"], r"a=crypto:\d+ (AEAD_AES_128_GCM|AES_CM_128_HMAC_SHA1_80) inline:")
        rejected = c.wait_callback("rejected")
        self.assertIn("488", rejected[0])
        # The phone that answered is told the call is over, and nothing is left open.
        phone.wait_request("BYE")
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_gateway_rtp_ports") == 0, 10))
