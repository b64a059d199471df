"""WebRTC through the server, with aiortc (Debian's python3-aiortc) as an independent peer:
WHIP publishes into the stream hub (ffmpeg plays it back over RTMP: the picture decodes and the
audio is the 1 kHz tone that was sent), WHEP plays an RTMP publication (aiortc decodes the
frames and hears the tone), the authorization of the RTMP application holds for both, bad
offers get clear errors, and a session that ends (DELETE, the peer closing, a certificate that
is not the offer's fingerprint) frees its state: the gauges go back to 0. Everything on
127.0.0.1: aioice's host candidates are limited to loopback here.
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import aioice.ice
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from junction_process import BROWSER_DIR, SLOW, JunctionProcess, curl, require_browser
from phones import tone_coverage, tone_coverage_over_middle
from test_rtmp import HookRecorder

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
TOKEN = "s3cret-publish"
PLAY_TOKEN = "s3cret-play"


def loopback_only(use_ipv4=True, use_ipv6=True):
    return ["127.0.0.1"]


def http(method, url, body=b"", content_type="application/sdp", headers=None):
    """(status, headers, body) of one request; error statuses are answers too."""
    request = urllib.request.Request(url, data=body if method in ("POST", "PATCH") else None, method=method)
    if method in ("POST", "PATCH"):
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10 * SLOW) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


async def wait_for_state(pc, states=("connected", "failed", "closed"), timeout=10):
    done = asyncio.get_running_loop().create_future()

    @pc.on("connectionstatechange")
    def changed():
        if pc.connectionState in states and not done.done():
            done.set_result(pc.connectionState)

    if pc.connectionState in states:
        return pc.connectionState
    try:
        return await asyncio.wait_for(done, timeout * SLOW)
    except asyncio.TimeoutError:
        return pc.connectionState


class WebrtcCase(unittest.TestCase):
    junction = None

    @classmethod
    def setUpClass(cls):
        cls._saved = aioice.ice.get_host_addresses
        aioice.ice.get_host_addresses = loopback_only
        cls.workdir = tempfile.mkdtemp(prefix="junction-webrtc-")
        cls.junction = JunctionProcess(shards=2, rtmp={"catch_all": False}, rtmp_apps=[
            {"name": "live"},
            {"name": "guarded", "publish_token": TOKEN, "play_token": PLAY_TOKEN},
            {"name": "closed", "live": False},
        ] + cls.more_apps()).start()
        # Ten seconds of a moving picture and a 1 kHz tone: what aiortc publishes (it decodes the
        # file and encodes H.264 and Opus itself).
        cls.media = os.path.join(cls.workdir, "tone.mkv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi",
                                 "-i", "sine=frequency=1000:sample_rate=48000", "-t", "10",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "pcm_s16le",
                                 cls.media], check=True, timeout=60)

    @classmethod
    def more_apps(cls):
        return []

    @classmethod
    def tearDownClass(cls):
        aioice.ice.get_host_addresses = cls._saved
        cls.junction.stop()
        cls.junction.cleanup()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def url(self, path):
        return self.junction.url(path)

    def gauge(self, name):
        return self.junction.metrics().sum(name)

    def wait_gauges_zero(self, names=("junction_webrtc_peers", "junction_whip_sessions", "junction_whep_sessions")):
        deadline = time.monotonic() + 10 * SLOW
        while time.monotonic() < deadline:
            values = {n: self.gauge(n) for n in names}
            if not any(values.values()):
                return values
            time.sleep(0.1)
        self.fail("gauges still up: %r" % values)

    def rtmp_publisher(self, stream, seconds, size="320x240", gop=25, extra=()):
        """ffmpeg publishing live/<stream> over RTMP in real time: a moving picture (H.264
        constrained baseline, what browsers decode) and a 1 kHz tone (AAC)."""
        return subprocess.Popen(
            FFMPEG + ["-re", "-f", "lavfi", "-i", "testsrc=size=%s:rate=25" % size, "-f", "lavfi",
                      "-i", "sine=frequency=1000:sample_rate=44100", "-t", str(seconds),
                      "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "baseline",
                      "-pix_fmt", "yuv420p", "-g", str(gop), *extra, "-c:a", "aac", "-f", "flv",
                      self.junction.rtmp_url("live", stream)])

    async def offer_to_play_video(self, path):
        """aiortc offers to play `path`'s video over WHEP; (pc, tracks by kind once they come,
        status, headers, answer)."""
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        tracks = {}
        pc.on("track", lambda track: tracks.setdefault(track.kind, track))
        await pc.setLocalDescription(await pc.createOffer())
        status, headers, answer = await asyncio.to_thread(http, "POST", self.url(path), pc.localDescription.sdp.encode())
        return pc, tracks, status, headers, answer

    async def publish(self, path, tamper=None, headers=None, media=None, video_codec=None):
        """A WHIP session of aiortc publishing `media` (the tone file); (pc, status, headers, body).
        `video_codec` ("VP8") offers only that video codec (and RTX)."""
        pc = RTCPeerConnection()
        player = MediaPlayer(media or self.media)
        pc.addTrack(player.audio)
        video = pc.addTransceiver(player.video, direction="sendonly")
        if video_codec:
            video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                       if c.mimeType in ("video/" + video_codec, "video/rtx")])
        await pc.setLocalDescription(await pc.createOffer())  # gathers before it returns
        sdp = pc.localDescription.sdp
        if tamper:
            sdp = tamper(sdp)
        status, h, body = await asyncio.to_thread(http, "POST", self.url(path), sdp.encode(), headers=headers)
        if status == 201:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
        return pc, status, h, body

    def wait_gauge(self, name, value):
        deadline = time.monotonic() + 10 * SLOW
        while self.gauge(name) != value:
            self.assertLess(time.monotonic(), deadline, "%s stays %r, not %r" % (name, self.gauge(name), value))
            time.sleep(0.05)

    def play_rtmp(self, stream, seconds, name):
        """ffmpeg takes live/<stream> over RTMP for `seconds`; the FLV it wrote (codecs copied)."""
        flv = os.path.join(self.workdir, name + ".flv")
        subprocess.run(FFMPEG + ["-i", self.junction.rtmp_url("live", stream), "-t", str(seconds), "-c", "copy", flv],
                       check=True, timeout=30 * SLOW)
        return flv

    def assert_picture_and_tone(self, flv, frames, size=("320", "240")):
        wav = flv[:-4] + ".wav"
        subprocess.run(FFMPEG + ["-i", flv, "-ac", "1", "-ar", "16000", wav], check=True, timeout=30)
        self.assertGreater(tone_coverage(wav, 1000), 0.9)
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                                "-show_entries", "stream=codec_name,nb_read_frames,width,height",
                                "-of", "default=nw=1", flv], capture_output=True, text=True, timeout=30)
        fields = dict(line.split("=", 1) for line in probe.stdout.split())
        self.assertEqual(fields.get("codec_name"), "h264", probe.stdout)
        if size:  # None: whatever size the sender chose
            self.assertEqual((fields.get("width"), fields.get("height")), size, probe.stdout)
        self.assertGreater(int(fields.get("nb_read_frames", 0)), frames, probe.stdout)


class WhipTest(WebrtcCase):
    def test_a_whip_publication_plays_over_rtmp_with_its_picture_and_tone(self):
        async def run():
            pc, status, headers, answer = await self.publish("/live/whip1/whip")
            self.assertEqual(status, 201, answer)
            self.assertEqual(headers["content-type"], "application/sdp")
            self.assertTrue(headers["location"].startswith("/webrtc/sessions/"), headers)
            self.assertIn("etag", headers)
            self.assertIn(b"a=ice-lite", answer)
            self.assertIn(b"H264/90000", answer)
            self.assertIn(b"opus/48000", answer)
            self.assertEqual(await wait_for_state(pc), "connected")
            # ffmpeg plays the stream over RTMP while aiortc publishes: five seconds of it.
            flv = os.path.join(self.workdir, "whip1.flv")
            play = await asyncio.create_subprocess_exec(
                *FFMPEG, "-i", self.junction.rtmp_url("live", "whip1"), "-t", "5", "-c", "copy", flv)
            code = await asyncio.wait_for(play.wait(), 30 * SLOW)
            self.assertEqual(code, 0)
            self.assertEqual(self.gauge("junction_whip_sessions"), 1)
            status, _, _ = await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            self.assertEqual(status, 200)
            status, _, _ = await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            self.assertEqual(status, 404)  # gone
            await pc.close()
            return flv

        self.assert_picture_and_tone(asyncio.run(run()), 50)  # 25 a second
        self.wait_gauges_zero()

    def test_a_vp8_publisher_is_transcoded_to_h264_only_while_someone_plays(self):
        # aiortc offers VP8 only (a browser without H.264): Junction takes it, and makes H.264
        # and AAC of it for RTMP players, but only while there is one.
        frames_before = self.junction.metrics().sum("junction_whip_frames_total")
        media = os.path.join(self.workdir, "tone30.mkv")  # long enough for both players
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi",
                                 "-i", "sine=frequency=1000:sample_rate=48000", "-t", "30",
                                 "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "pcm_s16le",
                                 media], check=True, timeout=60)

        async def run():
            pc, status, headers, answer = await self.publish("/live/vp8/whip", media=media, video_codec="VP8")
            self.assertEqual(status, 201, answer)
            self.assertIn(b"VP8/90000", answer)
            self.assertNotIn(b"H264", answer)
            self.assertEqual(await wait_for_state(pc), "connected")
            # A few seconds' worth of its packets arrive, and nothing is transcoded or pushed.
            received = self.junction.metrics().sum("junction_webrtc_packets_received_total")
            deadline = time.monotonic() + 10 * SLOW
            while self.junction.metrics().sum("junction_webrtc_packets_received_total") < received + 300:
                self.assertLess(time.monotonic(), deadline, "aiortc's packets do not arrive")
                await asyncio.sleep(0.05)
            self.assertEqual(self.gauge("junction_whip_transcoding"), 0)
            self.assertEqual(self.junction.metrics().sum("junction_whip_frames_total"), frames_before)
            # A player: transcoding starts (at a keyframe asked of aiortc), and stops after it.
            first = await asyncio.to_thread(self.play_rtmp, "vp8", 5, "vp8-first")
            await asyncio.to_thread(self.wait_gauge, "junction_whip_transcoding", 0)
            # And again for a second one: new transcoders, on the same timeline.
            second = await asyncio.to_thread(self.play_rtmp, "vp8", 3, "vp8-second")
            await asyncio.to_thread(self.wait_gauge, "junction_whip_transcoding", 0)
            await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            await pc.close()
            return first, second

        first, second = asyncio.run(run())
        self.assert_picture_and_tone(first, 50)   # 25 a second
        self.assert_picture_and_tone(second, 25)
        self.wait_gauges_zero()

    def test_a_publisher_that_takes_only_remb_is_let_climb(self):
        # aiortc numbers no packet for transport-wide feedback but agrees goog-remb, and sets its
        # H.264 encoder's target from REMB (1 Mbit/s until told otherwise, 3 at most). Junction's
        # loss-based estimate (no loss here) lets it climb: a picture of noise, which takes all
        # the bits it is given, reaches RTMP at well over the 1 Mbit/s it would keep without.
        noisy = os.path.join(self.workdir, "noise.mkv")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25,noise=alls=60:allf=t", "-f", "lavfi",
                                 "-i", "sine=frequency=1000:sample_rate=48000", "-t", "15", "-c:v", "libx264",
                                 "-preset", "ultrafast", "-crf", "5", "-c:a", "pcm_s16le", noisy],
                       check=True, timeout=120)

        async def run():
            pc, status, headers, answer = await self.publish("/live/remb/whip", media=noisy)
            self.assertEqual(status, 201, answer)
            self.assertIn(b"goog-remb", answer)
            self.assertNotIn(b"transport-cc", answer)
            self.assertEqual(await wait_for_state(pc), "connected")
            # Eight seconds of it: the climb (REMB once a second), then the last three measured.
            flv = os.path.join(self.workdir, "remb.flv")
            play = await asyncio.create_subprocess_exec(
                *FFMPEG, "-i", self.junction.rtmp_url("live", "remb"), "-t", "8", "-c", "copy", flv)
            self.assertEqual(await asyncio.wait_for(play.wait(), 30 * SLOW), 0)
            await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            await pc.close()
            return flv

        flv = asyncio.run(run())
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "packet=pts_time,size", "-of", "csv=p=0", flv],
                               capture_output=True, text=True, timeout=30)
        packets = [(float(t), int(n)) for t, n in (line.split(",")[:2] for line in probe.stdout.split())]
        self.assertTrue(packets, probe.stdout)
        self.assertGreater(packets[-1][0] - packets[0][0], 6, packets[:3])
        packets = [p for p in packets if p[0] >= packets[-1][0] - 3]
        seconds = packets[-1][0] - packets[0][0]
        bitrate = sum(n for _t, n in packets) * 8 / seconds
        self.assertGreater(bitrate, 1_400_000, "%d bit/s over %.1f s" % (bitrate, seconds))
        self.wait_gauges_zero()

    def test_a_second_publisher_of_a_stream_gets_409(self):
        async def run():
            first, status, headers, _ = await self.publish("/live/twice/whip")
            self.assertEqual(status, 201)
            self.assertEqual(await wait_for_state(first), "connected")
            second, status2, _, body = await self.publish("/live/twice/whip")
            self.assertEqual(status2, 409, body)
            await second.close()
            # The first one closing its association ends its session too.
            await first.close()

        asyncio.run(run())
        self.wait_gauges_zero()

    def test_a_certificate_that_is_not_the_offers_fingerprint_fails_and_is_freed(self):
        def other_fingerprint(sdp):
            return "\r\n".join("a=fingerprint:sha-256 " + ":".join(["AB"] * 32)
                               if line.startswith("a=fingerprint:") else line
                               for line in sdp.splitlines()) + "\r\n"

        before = self.gauge("junction_webrtc_failed_total")

        async def run():
            pc, status, _, _ = await self.publish("/live/badcert/whip", tamper=other_fingerprint)
            self.assertEqual(status, 201)
            state = await wait_for_state(pc, ("connected", "failed", "closed"))
            self.assertNotEqual(state, "connected")
            await pc.close()

        asyncio.run(run())
        self.wait_gauges_zero()
        self.assertEqual(self.gauge("junction_webrtc_failed_total"), before + 1)


class AuthorizationTest(WebrtcCase):
    @classmethod
    def more_apps(cls):
        cls.hooks = HookRecorder({"/publish": "refused", "/play": "refused"})
        cls.addClassCleanup(cls.hooks.close)
        return [{"name": "hooked", "on_publish": cls.hooks.url("/publish"), "on_play": cls.hooks.url("/play"),
                 "hook_timeout": "3s"}]

    def offer_text(self):
        async def make():
            pc = RTCPeerConnection()
            pc.addTransceiver("audio", direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            sdp = pc.localDescription.sdp
            await pc.close()
            return sdp
        return asyncio.run(make()).encode()

    def test_the_applications_tokens_are_bearer_tokens(self):
        offer = self.offer_text()
        status, headers, _ = http("POST", self.url("/guarded/s/whip"), offer)
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("www-authenticate"), "Bearer")
        status, _, _ = http("POST", self.url("/guarded/s/whip"), offer, headers={"Authorization": "Bearer wrong"})
        self.assertEqual(status, 401)
        status, _, _ = http("POST", self.url("/guarded/s/whip"), offer,
                            headers={"Authorization": "Bearer " + PLAY_TOKEN})
        self.assertEqual(status, 401)  # the play token does not publish
        status, h, body = http("POST", self.url("/guarded/s/whip"), offer,
                               headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 201, body)
        self.assertEqual(http("DELETE", self.url(h["location"]))[0], 200)
        self.wait_gauges_zero()

    def test_the_applications_hooks_are_asked_and_can_refuse(self):
        offer = self.offer_text()
        status, _, body = http("POST", self.url("/hooked/refused/whip"), offer)
        self.assertEqual(status, 403, body)
        self.assertIn(b"on_publish hook", body)
        asked = self.hooks.wait("/publish", stream="refused", action="on_publish")
        self.assertEqual(asked[-1].get("protocol"), "whip", asked)
        self.assertEqual(asked[-1].get("app"), "hooked", asked)
        status, h, body = http("POST", self.url("/hooked/allowed/whip"), offer)
        self.assertEqual(status, 201, body)
        self.assertTrue(self.hooks.find("/publish", stream="allowed", protocol="whip"))
        status, _, body = http("POST", self.url("/hooked/refused/whep"), offer)
        self.assertEqual(status, 403, body)
        self.assertTrue(self.hooks.wait("/play", stream="refused", protocol="whep"))
        self.assertEqual(http("DELETE", self.url(h["location"]))[0], 200)
        self.wait_gauges_zero()

    def test_applications_and_streams_that_are_not_there_get_404(self):
        offer = self.offer_text()
        for path in ("/nosuchapp/s/whip", "/closed/s/whip", "/live/not-published/whep", "/live/whip",
                     "/live/a/b/whip"):
            status, _, body = http("POST", self.url(path), offer)
            self.assertEqual(status, 404, (path, body))

    def test_bad_offers_get_clear_errors(self):
        offer = self.offer_text()
        status, _, body = http("POST", self.url("/live/x/whip"), offer, content_type="text/plain")
        self.assertEqual(status, 415, body)
        status, _, body = http("POST", self.url("/live/x/whip"), b"v=0\r\nnonsense\r\n")
        self.assertEqual(status, 400, body)
        no_ice = b"".join(line + b"\r\n" for line in offer.splitlines() if not line.startswith(b"a=ice-"))
        status, _, body = http("POST", self.url("/live/x/whip"), no_ice)
        self.assertEqual(status, 400, body)
        self.assertIn(b"ICE credentials", body)
        no_fingerprint = b"".join(line + b"\r\n" for line in offer.splitlines()
                                  if not line.startswith(b"a=fingerprint"))
        self.assertEqual(http("POST", self.url("/live/x/whip"), no_fingerprint)[0], 400)
        self.assertEqual(http("DELETE", self.url("/webrtc/sessions/0-nosuchsession"))[0], 404)
        self.assertEqual(http("DELETE", self.url("/webrtc/sessions/99-abc"))[0], 404)
        self.assertEqual(http("DELETE", self.url("/webrtc/sessions/garbage"))[0], 404)
        # A simulcast layer a player asks for: a rid, of a stream that is there.
        status, _, body = http("POST", self.url("/live/x/whep?layer=../x"), offer)
        self.assertEqual(status, 400, body)
        self.assertIn(b"rid", body)
        self.assertEqual(http("POST", self.url("/live/x/whep?layer=q"), offer)[0], 404)
        self.wait_gauges_zero()

    def test_patch_takes_trickled_candidates_and_refuses_an_ice_restart(self):
        offer = self.offer_text()
        status, h, body = http("POST", self.url("/live/patched/whip"), offer)
        self.assertEqual(status, 201, body)
        location = self.url(h["location"])
        frag = b"a=ice-ufrag:" + [l for l in offer.splitlines() if l.startswith(b"a=ice-ufrag:")][0][12:] + \
            b"\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"
        self.assertEqual(http("PATCH", location, frag, content_type="application/trickle-ice-sdpfrag")[0], 204)
        self.assertEqual(http("PATCH", location, frag, content_type="application/sdp")[0], 415)
        restart = b"a=ice-ufrag:newone\r\na=ice-pwd:newpasswordnewpassword12\r\n"
        self.assertEqual(http("PATCH", location, restart, content_type="application/trickle-ice-sdpfrag")[0], 422)
        self.assertEqual(http("DELETE", location)[0], 200)
        self.wait_gauges_zero()


class WhepTest(WebrtcCase):
    def test_an_rtmp_publication_plays_over_whep_with_picture_and_tone(self):
        publisher = self.rtmp_publisher("cam", 30)
        try:
            self._play(publisher)
        finally:
            publisher.kill()
            publisher.wait()
        self.wait_gauges_zero()

    def _play(self, publisher):
        async def run():
            # The stream is there once ffmpeg has connected: until then a WHEP offer gets 404.
            deadline = time.monotonic() + 15 * SLOW
            while True:
                pc = RTCPeerConnection()
                pc.addTransceiver("video", direction="recvonly")
                pc.addTransceiver("audio", direction="recvonly")
                tracks = {}

                @pc.on("track")
                def on_track(track, tracks=tracks):
                    tracks[track.kind] = track

                await pc.setLocalDescription(await pc.createOffer())
                status, headers, answer = await asyncio.to_thread(
                    http, "POST", self.url("/live/cam/whep"), pc.localDescription.sdp.encode())
                if status == 201 or time.monotonic() > deadline or publisher.poll() is not None:
                    break
                await pc.close()
                await asyncio.sleep(0.2)
            self.assertEqual(status, 201, answer)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.decode(), type="answer"))
            self.assertEqual(await wait_for_state(pc), "connected")
            video, audio = [], []

            async def take_video():
                while len(video) < 75:  # three seconds at 25 a second
                    frame = await tracks["video"].recv()
                    video.append((frame.width, frame.height))

            async def take_audio():
                while len(audio) < 150:  # three seconds of 20 ms frames
                    frame = await tracks["audio"].recv()
                    samples = frame.to_ndarray()
                    channels = len(frame.layout.channels)
                    audio.append((frame.sample_rate, samples.reshape(-1)[::channels].tolist()))

            await asyncio.wait_for(asyncio.gather(take_video(), take_audio()), 30 * SLOW)
            self.assertEqual(self.gauge("junction_whep_sessions"), 1)
            status, _, _ = await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            self.assertEqual(status, 200)
            await pc.close()
            return video, audio

        video, audio = asyncio.run(run())
        self.assertEqual(set(video), {(320, 240)})
        rate = audio[0][0]
        samples = [x for _, chunk in audio for x in chunk]
        self.assertGreater(tone_coverage_over_middle(samples, rate, 1000), 0.9)


class LossyRelay(asyncio.DatagramProtocol):
    """A UDP relay between aiortc and Junction's WebRTC port that drops every 20th RTP packet
    (5 %, evenly, so the test's figure does not depend on chance) going one way; STUN, DTLS and
    RTCP pass untouched. The answer's candidate is pointed at it (rewrite)."""

    def __init__(self, target, drop_towards_server):
        self.target, self.drop_towards_server = target, drop_towards_server
        self.client = None
        self.rtp_seen = self.dropped = 0

    @classmethod
    async def open(cls, target, drop_towards_server):
        loop = asyncio.get_running_loop()
        relay = cls(target, drop_towards_server)
        relay.front, _ = await loop.create_datagram_endpoint(lambda: relay, local_addr=("127.0.0.1", 0))
        relay.back, _ = await loop.create_datagram_endpoint(lambda: _Back(relay), local_addr=("127.0.0.1", 0))
        return relay

    def port(self):
        return self.front.get_extra_info("sockname")[1]

    def lose(self, data):
        if len(data) < 2 or not 128 <= data[0] <= 191 or 192 <= data[1] <= 223:
            return False  # not RTP
        self.rtp_seen += 1
        if self.rtp_seen % 20 == 0:
            self.dropped += 1
            return True
        return False

    def datagram_received(self, data, addr):  # from the client
        self.client = addr
        if not (self.drop_towards_server and self.lose(data)):
            self.back.sendto(data, self.target)

    def from_server(self, data):
        if self.client and not (not self.drop_towards_server and self.lose(data)):
            self.front.sendto(data, self.client)

    def rewrite(self, answer):
        """The answer with its UDP candidate and m= ports pointed at the relay."""
        port = str(self.target[1])
        out = []
        for line in answer.splitlines():
            if line.startswith("a=candidate:") and " udp " in line.lower():
                parts = line.split()
                if parts[5] == port:
                    parts[5] = str(self.port())
                line = " ".join(parts)
            elif line.startswith("m=") and line.split()[1] == port:
                parts = line.split()
                parts[1] = str(self.port())
                line = " ".join(parts)
            elif line.startswith("a=candidate:"):
                continue  # ICE-TCP: not relayed
            out.append(line)
        return "\r\n".join(out) + "\r\n"

    def close(self):
        self.front.close()
        self.back.close()


class _Back(asyncio.DatagramProtocol):
    def __init__(self, relay):
        self.relay = relay

    def datagram_received(self, data, addr):
        self.relay.from_server(data)


def answer_port(answer):
    for line in answer.splitlines():
        if line.startswith("a=candidate:") and " udp " in line.lower():
            return int(line.split()[5])
    raise AssertionError("no UDP candidate in the answer")


class LossTest(WebrtcCase):
    """5 % of the RTP on the UDP path lost, evenly: NACKs and retransmissions (RTX) repair it."""

    def test_a_whep_player_losing_five_percent_gets_them_again(self):
        publisher = self.rtmp_publisher("lossy", 40, size="640x480", gop=50, extra=["-b:v", "1M"])
        resent_before = self.gauge("junction_whep_packets_resent_total")

        async def run():
            deadline = time.monotonic() + 15 * SLOW
            while (await asyncio.to_thread(http, "POST", self.url("/live/lossy/whep"), b"v=0\r\n"))[0] == 404:
                self.assertLess(time.monotonic(), deadline, "the RTMP publication did not start")
                await asyncio.sleep(0.2)
            pc, tracks, status, headers, answer = await self.offer_to_play_video("/live/lossy/whep")
            self.assertEqual(status, 201, answer)
            relay = await LossyRelay.open(("127.0.0.1", answer_port(answer.decode())), drop_towards_server=False)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=relay.rewrite(answer.decode()), type="answer"))
            self.assertEqual(await wait_for_state(pc), "connected")
            pts = []
            while len(pts) < 150:  # six seconds at 25 a second
                frame = await asyncio.wait_for(tracks["video"].recv(), 10 * SLOW)
                pts.append(frame.pts)
            await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            await pc.close()
            relay.close()
            return pts, relay.dropped

        try:
            pts, dropped = asyncio.run(run())
        finally:
            publisher.kill()
            publisher.wait()
        # The frames the stream had between the first and last one decoded (25 a second, 3,600
        # units of the 90 kHz clock apart) against those decoded. Lost packets not sent again
        # would cost every frame they belonged to (a picture is two to five packets here, so 5 %
        # of packets is 10-25 % of frames), and aiortc drops an incomplete frame; repaired, at
        # most the odd frame whose retransmission itself came late is missing. (640x480 at
        # 1 Mbit/s: about five packets a picture, so a quarter of the pictures lose one; with the
        # answers to NACKs switched off aiortc decoded 61 %.) 90 % is asked: on a loaded machine
        # aiortc, decoding in Python, can fall behind by itself (a full run of every suite on two
        # cores once gave less than 97 %).
        expected = (pts[-1] - pts[0]) // 3600 + 1
        self.assertGreater(dropped, 10)
        self.assertGreaterEqual(len(pts) / expected, 0.90, (len(pts), expected, dropped))
        self.assertGreater(self.gauge("junction_whep_packets_resent_total") - resent_before, 0)
        self.wait_gauges_zero()

    def test_a_whip_publisher_losing_five_percent_is_asked_for_them_again(self):
        nacked_before = self.gauge("junction_whip_packets_nacked_total")

        async def run():
            pc = RTCPeerConnection()
            player = MediaPlayer(self.media)
            pc.addTrack(player.video)
            await pc.setLocalDescription(await pc.createOffer())
            status, headers, answer = await asyncio.to_thread(
                http, "POST", self.url("/live/lossywhip/whip"), pc.localDescription.sdp.encode())
            self.assertEqual(status, 201, answer)
            relay = await LossyRelay.open(("127.0.0.1", answer_port(answer.decode())), drop_towards_server=True)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=relay.rewrite(answer.decode()), type="answer"))
            self.assertEqual(await wait_for_state(pc), "connected")
            flv = os.path.join(self.workdir, "lossywhip.flv")
            play = await asyncio.create_subprocess_exec(
                *FFMPEG, "-i", self.junction.rtmp_url("live", "lossywhip"), "-t", "5", "-c", "copy", flv)
            self.assertEqual(await asyncio.wait_for(play.wait(), 30 * SLOW), 0)
            await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
            await pc.close()
            relay.close()
            return flv, relay.dropped

        flv, dropped = asyncio.run(run())
        self.assertGreater(dropped, 10)
        self.assertGreater(self.gauge("junction_whip_packets_nacked_total") - nacked_before, 0)
        # The frames RTMP carried against the 25 a second their timestamps span: a lost packet
        # not repaired breaks its picture and, in Junction, every picture until the next
        # keyframe (asked for, but a round trip and an encoder's keyframe away); without the
        # NACKs ffmpeg got no picture at all. 90 %: aiortc's encoder, in Python, may skip a
        # picture itself on a loaded machine.
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "packet=pts", "-of", "csv=p=0", flv], capture_output=True, text=True, timeout=30)
        pts = [int(x) for x in probe.stdout.split() if x.strip().isdigit()]
        self.assertGreater(len(pts), 50, probe.stdout[:200])
        expected = (max(pts) - min(pts)) // 40 + 1
        self.assertGreaterEqual(len(pts) / expected, 0.90, (len(pts), expected, dropped))
        self.wait_gauges_zero()


class IceOnlyPeer(asyncio.DatagramProtocol):
    """A peer that answers to ICE and nothing else: it sends a check (with USE-CANDIDATE) every
    two seconds, so its consent stays fresh, and never answers the DTLS handshake Junction starts.
    With `credentials` "wrong" its checks are signed with a password that is not the answer's,
    with "none" they carry neither USERNAME nor MESSAGE-INTEGRITY: each gets an error response."""

    def __init__(self, answer, local_ufrag, credentials="right"):
        lines = answer.splitlines()
        value = lambda key: next(l.split(":", 1)[1] for l in lines if l.startswith("a=" + key + ":"))
        self.remote_ufrag, self.remote_pwd = value("ice-ufrag"), value("ice-pwd")
        self.local_ufrag = local_ufrag
        self.credentials = credentials
        self.target = ("127.0.0.1", answer_port(answer))
        self.successes = self.errors = self.dtls = 0

    def connection_made(self, transport):
        self.transport = transport

    def check(self):
        import aioice.stun as stun
        m = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
        if self.credentials != "none":
            m.attributes["USERNAME"] = "%s:%s" % (self.remote_ufrag, self.local_ufrag)
        m.attributes["PRIORITY"] = 1853824767
        m.attributes["ICE-CONTROLLING"] = 1234567890
        m.attributes["USE-CANDIDATE"] = None
        if self.credentials == "right":
            m.add_message_integrity(self.remote_pwd.encode())  # and FINGERPRINT
        elif self.credentials == "wrong":
            m.add_message_integrity(b"not-the-password-not-it")
        self.transport.sendto(bytes(m), self.target)

    def datagram_received(self, data, addr):
        if len(data) >= 2 and data[0] == 0x01 and data[1] == 0x11:
            self.errors += 1  # a Binding error response (RFC 8489 §6.3.4)
        elif data and data[0] < 4:
            self.successes += 1
        elif data and 20 <= data[0] <= 63:
            self.dtls += 1  # the handshake's flights, never answered


class TimeoutTest(WebrtcCase):
    """A peer that passes ICE but never does DTLS, one that connects and then vanishes without a
    word (killed), and two whose checks carry the wrong credentials or none: each session ends
    by itself (the DTLS handshake times out after 30 s; consent lapses 30 s after the last check;
    a peer no valid check came from gets 30 s too), says why in the log, is counted, and frees
    its state. The four run at once."""

    def test_sessions_that_never_connect_or_vanish_end_by_themselves(self):
        failed_before = self.gauge("junction_webrtc_failed_total")
        # The vanishing peer: aiortc connected and publishing in a child process, then SIGKILL.
        child = subprocess.Popen(
            [sys.executable, "-c", VANISHING_PEER, self.url("/live/vanishing/whip")],
            stdout=subprocess.PIPE, text=True, cwd=HERE)
        self.assertEqual(child.stdout.readline().strip(), "connected")
        child.kill()
        child.wait()

        async def ice_only(stream, credentials):
            pc = RTCPeerConnection()
            pc.addTransceiver("audio", direction="sendonly")
            await pc.setLocalDescription(await pc.createOffer())
            offer = pc.localDescription.sdp
            await pc.close()
            ufrag = next(l.split(":", 1)[1] for l in offer.splitlines() if l.startswith("a=ice-ufrag:"))
            status, _, answer = await asyncio.to_thread(http, "POST", self.url("/live/%s/whip" % stream),
                                                        offer.encode())
            self.assertEqual(status, 201, answer)
            loop = asyncio.get_running_loop()
            transport, peer = await loop.create_datagram_endpoint(
                lambda: IceOnlyPeer(answer.decode(), ufrag, credentials), local_addr=("127.0.0.1", 0))
            deadline = time.monotonic() + 60 * SLOW
            while time.monotonic() < deadline and self.gauge("junction_webrtc_peers") > 0:
                peer.check()
                await asyncio.sleep(2)
            transport.close()
            return peer

        async def all_of_them():
            return await asyncio.gather(ice_only("silent", "right"), ice_only("wrongpwd", "wrong"),
                                        ice_only("nocreds", "none"))

        strangers_before = self.gauge("junction_webrtc_stranger_datagrams_total")
        peer, wrong, none = asyncio.run(all_of_them())
        self.assertGreater(peer.successes, 0)  # ICE worked
        self.assertGreater(peer.dtls, 1)       # Junction started the handshake and retransmitted
        for bad in (wrong, none):
            self.assertEqual((bad.successes, bad.dtls), (0, 0))  # no check passed, no handshake
        # A check under the session's ufrag but the wrong password is told so (401); one without
        # USERNAME names no session on the shared port: dropped and counted, never answered.
        self.assertGreater(wrong.errors, 0)
        self.assertEqual(none.errors, 0)
        self.assertGreater(self.gauge("junction_webrtc_stranger_datagrams_total"), strangers_before)
        self.wait_gauges_zero()
        self.assertEqual(self.gauge("junction_webrtc_failed_total"), failed_before + 4)
        log = self.junction.stderr_text()
        self.assertIn("the DTLS handshake timed out", log)
        self.assertIn("consent expired", log)
        self.assertIn("no ICE check came from the peer", log)


# Run as a child process: publishes over WHIP with aiortc, prints "connected", then waits to be
# killed (so it never closes its DTLS association).
VANISHING_PEER = """
import asyncio, sys, urllib.request
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

async def main():
    pc = RTCPeerConnection()
    pc.addTrack(AudioStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    request = urllib.request.Request(sys.argv[1], data=pc.localDescription.sdp.encode(), method="POST",
                                     headers={"Content-Type": "application/sdp"})
    answer = urllib.request.urlopen(request, timeout=10).read().decode()
    done = asyncio.get_running_loop().create_future()
    pc.on("connectionstatechange", lambda: pc.connectionState == "connected" and not done.done() and done.set_result(1))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.wait_for(done, 20)
    print("connected", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(BROWSER_DIR, "webrtc_page.mjs")


class ChromiumCase(WebrtcCase):
    """Debian's Chromium, headless with fake capture devices (a 1 kHz tone file for the
    microphone), driven by tests/browser/webrtc_page.mjs (playwright-core, set up by
    tools/setup.sh). Skipped without them, except under CI."""

    @classmethod
    def setUpClass(cls):
        require_browser()
        super().setUpClass()
        cls.tone = os.path.join(cls.workdir, "tone.wav")
        subprocess.run(FFMPEG + ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", "10",
                                 "-ac", "1", cls.tone], check=True, timeout=30)

    def page(self, mode, path, seconds, tone=None, tcp_only=False, video_codec=None, simulcast=None):
        """Starts the page; returns the process (its stdout gives one JSON line per event)."""
        args = ["node", PAGE, "--mode", mode, "--url", self.url(path), "--seconds", str(seconds),
                "--timeout-ms", str(int(30000 * SLOW))]
        if video_codec:
            args += ["--video-codec", video_codec]
        if simulcast:
            args += ["--simulcast", simulcast]
        if tone:
            args += ["--tone", tone]
        if tcp_only:
            args += ["--tcp-only", "1"]
        return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=BROWSER_DIR)

    def events(self, page, timeout):
        """The page's lines until it ends (or `timeout` seconds), parsed."""
        out, _ = page.communicate(timeout=timeout * SLOW)
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def wait_connected(self, page):
        line = page.stdout.readline()
        self.assertTrue(line, "the page ended before connecting")
        event = json.loads(line)
        self.assertEqual(event.get("event"), "connected", event)

    def publish_and_play(self, stream, seconds, whep_path, rtmp_plays, **page_options):
        """Chromium publishes live/<stream> for `seconds` (the tone; `page_options` as page()
        takes them); once it is connected a second page plays `whep_path` for 6 s while ffmpeg
        takes each (stream, seconds) of `rtmp_plays` over RTMP in turn. Both pages' reports
        (checked ok) and the FLV files."""
        publisher = self.page("whip", "/live/%s/whip" % stream, seconds, tone=self.tone, **page_options)
        try:
            self.wait_connected(publisher)
            player = self.page("whep", whep_path, 6)
            flvs = [self.play_rtmp(name, t, name.replace("~", "-")) for name, t in rtmp_plays]
            played = self.events(player, 60)[-1]
            published = self.events(publisher, 60)[-1]
        finally:
            if publisher.poll() is None:
                publisher.kill()
        self.assertTrue(published["ok"], published)
        self.assertTrue(played["ok"], played)
        return published, played, flvs


class ChromiumTest(ChromiumCase):
    def test_chromium_publishes_over_whip_and_plays_it_back_over_whep(self):
        # ffmpeg takes the browser's stream over RTMP while a second page plays it over WHEP.
        published, played, (flv,) = self.publish_and_play("browser", 14, "/live/browser/whep", [("browser", 5)])
        self.assertEqual(published["stats"]["outbound-rtp:video"]["codec"], "video/H264", published)
        self.assertEqual(published["deleted"], 200)
        self.assert_picture_and_tone(flv, 25, size=None)  # a browser may start smaller
        video, audio = played["stats"]["inbound-rtp:video"], played["stats"]["inbound-rtp:audio"]
        self.assertGreater(video["frames"], 25, played)
        self.assertGreater(audio["energy"], 0.01, played)  # the tone, not silence
        self.wait_gauges_zero()

    def test_chromium_plays_an_rtmp_publication_over_whep_without_freezing(self):
        publisher = self.rtmp_publisher("rtmpcam", 40)
        try:
            deadline = time.monotonic() + 15 * SLOW
            while http("POST", self.url("/live/rtmpcam/whep"), b"v=0\r\n")[0] == 404:
                self.assertLess(time.monotonic(), deadline, "the RTMP publication did not start")
                time.sleep(0.2)
            played = self.events(self.page("whep", "/live/rtmpcam/whep", 10), 60)[-1]
        finally:
            publisher.kill()
            publisher.wait()
        self.assertTrue(played["ok"], played)
        video, audio = played["stats"]["inbound-rtp:video"], played["stats"]["inbound-rtp:audio"]
        self.assertEqual((video["codec"], audio["codec"]), ("video/H264", "audio/opus"), played)
        self.assertEqual((video["width"], video["height"]), (320, 240), played)
        self.assertGreater(video["frames"], 200, played)  # ten seconds at 25 a second
        # Freezes (Chromium counts an inter-frame gap over max(3x the mean, mean + 150 ms)): none
        # on a quiet machine (12 runs of 12 with the pacing; a 0.2 s one in 1 run of 4 without
        # it). On two busy cores (CI) the browser's own renderer, ffmpeg and the server share the
        # CPUs, and a single 0.2 s stall was seen once in about twenty loaded runs: at most one
        # is allowed, and half a second in all. A sanitized server (SLOW) does not keep time at
        # all: there the pictures decoded above are what is asked.
        if SLOW == 1:
            self.assertLessEqual(video["freezes"], 1, played)
            self.assertLessEqual(video["freeze_seconds"], 0.5, played)
        self.assertGreater(audio["energy"], 0.01, played)
        self.assertGreater(audio["level"], 0.01, played)
        self.wait_gauges_zero()

    def test_chromium_plays_over_ice_tcp_when_it_takes_no_udp_candidate(self):
        # The page drops the answer's UDP candidates (as if UDP were blocked): Chromium connects
        # to the shard's ICE-TCP listener, and checks, DTLS and SRTP go over that connection.
        publisher = self.rtmp_publisher("tcpcam", 30)
        try:
            deadline = time.monotonic() + 15 * SLOW
            while http("POST", self.url("/live/tcpcam/whep"), b"v=0\r\n")[0] == 404:
                self.assertLess(time.monotonic(), deadline, "the RTMP publication did not start")
                time.sleep(0.2)
            played = self.events(self.page("whep", "/live/tcpcam/whep", 5, tcp_only=True), 60)[-1]
        finally:
            publisher.kill()
            publisher.wait()
        self.assertTrue(played["ok"], played)
        self.assertEqual(played["path"]["protocol"], "tcp", played)
        video, audio = played["stats"]["inbound-rtp:video"], played["stats"]["inbound-rtp:audio"]
        self.assertGreater(video["frames"], 75, played)  # five seconds at 25 a second
        self.assertGreater(audio["energy"], 0.01, played)
        self.wait_gauges_zero()



class ChromiumPublisherTest(ChromiumCase):
    """Chromium publishing what needs more than passing through: VP8 (transcoded to H.264) and
    simulcast layers (each a stream; players moved between them). A class of its own: the
    sanitized server takes its time with these, and each class has its own time limit."""

    def test_chromium_publishing_vp8_reaches_rtmp_and_whep_players_as_h264(self):
        published, played, (flv,) = self.publish_and_play("browservp8", 12, "/live/browservp8/whep",
                                                          [("browservp8", 5)], video_codec="VP8")
        self.assertEqual(published["stats"]["outbound-rtp:video"]["codec"], "video/VP8", published)
        self.assert_picture_and_tone(flv, 25, size=("640", "480"))
        video, audio = played["stats"]["inbound-rtp:video"], played["stats"]["inbound-rtp:audio"]
        self.assertEqual(video["codec"], "video/H264", played)
        self.assertGreater(video["frames"], 25, played)
        self.assertGreater(audio["energy"], 0.01, played)
        self.wait_gauges_zero(("junction_webrtc_peers", "junction_whip_sessions", "junction_whep_sessions",
                               "junction_whip_transcoding"))

    def last_picture_size(self, flv):
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "frame=width,height", "-of", "csv=p=0", flv], capture_output=True, text=True, timeout=30)
        sizes = probe.stdout.split()
        self.assertTrue(sizes, probe.stderr)
        return tuple(int(n) for n in sizes[-1].split(",")[:2])

    def test_chromium_simulcast_layers_are_streams_and_the_stream_carries_the_best(self):
        # Two layers (h: 640x480, l: 320x240, H.264 through Chromium's simulcast adapter): each
        # is a stream of its own, `<stream>~<rid>`; `<stream>` carries the best one; a WHEP
        # player picks a layer with ?layer=.
        published, played, (low, best) = self.publish_and_play(
            "sim", 14, "/live/sim/whep?layer=l", [("sim~l", 3), ("sim", 4)], simulcast="h,l")
        for rid, size in (("h", (640, 480)), ("l", (320, 240))):
            sent = published["stats"].get("outbound-rtp:video:" + rid)
            self.assertTrue(sent, published)
            self.assertEqual((sent["width"], sent["height"]), size, published)
            self.assertGreater(sent["frames"], 50, published)
        self.assertEqual(self.last_picture_size(best), (640, 480))
        self.assertEqual(self.last_picture_size(low), (320, 240))
        self.assert_picture_and_tone(low, 25)
        video = played["stats"]["inbound-rtp:video"]
        self.assertEqual((video["width"], video["height"]), (320, 240), played)
        self.assertGreater(video["frames"], 25, played)
        self.wait_gauges_zero()

    def test_a_whep_player_moves_between_simulcast_layers_as_its_remb_says(self):
        # aiortc plays a Chromium simulcast publication without asking for a layer: it starts on
        # the best one; its REMB (aiortc's estimator, told what to say) falls under what it is
        # sent and it is moved to the lower layer, then rises and it is moved back up.
        from aiortc.rate import RemoteBitrateEstimator
        said = {"bps": None, "calls": 0}
        real_add = RemoteBitrateEstimator.add

        def add(estimator, abs_send_time, arrival_time_ms, payload_size, ssrc):
            real_add(estimator, abs_send_time, arrival_time_ms, payload_size, ssrc)
            said["calls"] += 1
            if said["bps"] is None or said["calls"] % 20:
                return None
            return said["bps"], [ssrc]

        publisher = self.page("whip", "/live/auto/whip", 30, tone=self.tone, simulcast="h,l")
        RemoteBitrateEstimator.add = add
        try:
            self.wait_connected(publisher)
            # Both layers' pictures known to the hub (Chromium starts its upper layer once its
            # estimate of the path allows), and `<stream>` on the upper one.
            deadline = time.monotonic() + 20 * SLOW
            while True:
                listed = curl(self.url("/api/v1/streams"))
                streams = json.loads(listed.body)["streams"] if listed.status == 200 else []
                sizes = {s["name"]: (s.get("width"), s.get("height")) for s in streams if s["app"] == "live"}
                if sizes == {"auto": (640, 480), "auto~h": (640, 480), "auto~l": (320, 240)}:
                    break
                self.assertLess(time.monotonic(), deadline, (listed.status, listed.body[:500]))
                time.sleep(0.2)

            async def run():
                pc, tracks, status, headers, answer = await self.offer_to_play_video("/live/auto/whep")
                self.assertEqual(status, 201, answer)
                self.assertNotIn(b"transport-cc", answer)  # the browser estimates, and says so in REMB
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.decode(), type="answer"))
                self.assertEqual(await wait_for_state(pc), "connected")

                seen = []

                async def until(size, seconds):
                    deadline = time.monotonic() + seconds * SLOW
                    while time.monotonic() < deadline:
                        frame = await asyncio.wait_for(tracks["video"].recv(), 10 * SLOW)
                        if not seen or seen[-1][0] != (frame.width, frame.height):
                            seen.append([(frame.width, frame.height), 0])
                        seen[-1][1] += 1
                        if (frame.width, frame.height) == size:
                            return True
                    print("sizes seen (size, frames):", seen, file=sys.stderr)
                    return False

                self.assertTrue(await until((640, 480), 10), "the best layer first")
                said["bps"] = 30_000
                self.assertTrue(await until((320, 240), 15), "down to the lower layer")
                said["bps"] = 20_000_000
                self.assertTrue(await until((640, 480), 20), "back up")
                await asyncio.to_thread(http, "DELETE", self.url(headers["location"]))
                await pc.close()

            asyncio.run(run())
            published = self.events(publisher, 60)[-1]  # it ends its session itself
        finally:
            RemoteBitrateEstimator.add = real_add
            if publisher.poll() is None:
                publisher.kill()
            publisher.wait()
        self.assertTrue(published["ok"], published)
        self.assertGreaterEqual(self.junction.metrics().sum("junction_whep_layer_switches_total"), 2)
        self.wait_gauges_zero()

if __name__ == "__main__":
    unittest.main()
