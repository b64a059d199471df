"""RTMP behaviour docs/rtmp.md promises that no other test showed: pause and unpause,
receiveAudio/receiveVideo, getStreamLength, pings to silent clients (rtmp.ping_interval),
DELETE /api/v1/streams/<app>/<name>, and rtmp.http_flv = false. Raw RTMP clients
(rtmp_client.py) on both sides, so every status message and frame is read; frames carry tags,
so each one is told apart."""

import json
import unittest

import rtmp_client as rc
from junction_process import curl, wait_for
from test_rtmp import RtmpTestCase


def tagged(messages, kind, tag):
    return [m for m in messages if m.type == kind and tag in m.payload]


class StreamCommandsTest(RtmpTestCase):
    rtmp_config = {"ping_interval": "1s"}
    rtmp_apps = [{"name": "live"}]

    def player(self, name):
        [(c, sid)] = self.start_players("live", name, count=1)
        c.seen = []
        return c, sid

    def round_trip(self, c):
        """Commands of one connection are handled in order: once this call is answered, every
        command sent before it has been."""
        self.assertEqual(c.call("junction.version").command_name, "_result")

    def until_audio(self, c, tag, count):
        """Reads up to the last audio frame tagged `tag`; returns what came before it."""
        c.seen = []
        c.wait_for(lambda m: m.type == rc.AUDIO and (tag + b"-a%d" % (count - 1)) in m.payload, 10,
                   "audio of %r" % tag)
        return c.seen

    def test_pause_stops_frames_and_unpause_resumes_them(self):
        pub, psid = self.start_publisher("live", "pausing")
        c, sid = self.player("pausing")
        # A second play of the same name on the same connection (so on the same shard), never
        # paused: once it has a frame, the paused play has been offered it too.
        witness = c.create_stream()
        self.assertEqual(c.play(witness, "pausing").status().get("code"), "NetStream.Play.Start")
        self.send_frames(pub, psid, b"before", 3)
        self.expect_frames([(c, sid)], b"before", 3)
        c.send_command("pause", 0, None, True, 120.0, stream_id=sid, csid=8)
        status = c.wait_status(sid, 10, ("NetStream.Pause.Notify",))
        self.assertIn("pausing", status.status().get("description", ""))
        c.seen = []
        self.send_frames(pub, psid, b"paused", 3)
        c.wait_for(lambda m: m.stream_id == witness and m.type == rc.AUDIO and b"paused-a2" in m.payload, 10,
                   "the witness's last paused frame")
        c.send_command("pause", 0, None, False, 120.0, stream_id=sid, csid=8)
        c.wait_status(sid, 10, ("NetStream.Unpause.Notify",))
        self.send_frames(pub, psid, b"after", 3)
        self.expect_frames([(c, sid)], b"after", 3)
        mine = [m for m in c.seen if m.stream_id == sid]
        self.assertEqual(tagged(mine, rc.VIDEO, b"paused") + tagged(mine, rc.AUDIO, b"paused"), [],
                         "frames sent while paused reached the paused play")

    def test_receive_video_and_receive_audio_choose_what_arrives(self):
        pub, psid = self.start_publisher("live", "choosy")
        c, sid = self.player("choosy")
        self.send_frames(pub, psid, b"both", 3)
        seen = self.until_audio(c, b"both", 3)
        self.assertEqual(len(tagged(seen, rc.VIDEO, b"both")), 3)

        c.send_command("receiveVideo", 0, None, False, stream_id=sid, csid=8)
        self.round_trip(c)
        self.send_frames(pub, psid, b"novideo", 3)
        seen = self.until_audio(c, b"novideo", 3)
        self.assertEqual(tagged(seen, rc.VIDEO, b"novideo"), [], "video came after receiveVideo(false)")

        c.send_command("receiveVideo", 0, None, True, stream_id=sid, csid=8)
        c.send_command("receiveAudio", 0, None, False, stream_id=sid, csid=8)
        self.round_trip(c)
        c.seen = []
        self.send_frames(pub, psid, b"noaudio", 3)
        self.send_frames(pub, psid, b"mark", 1, first_ts=1000)
        # Every video frame (keyframes: at once), and none of the audio sent before the mark.
        c.wait_for(lambda m: m.type == rc.VIDEO and b"mark-v0" in m.payload, 10, "the mark")
        self.assertEqual(len(tagged(c.seen, rc.VIDEO, b"noaudio")), 3)
        self.assertEqual(tagged(c.seen, rc.AUDIO, b"noaudio"), [], "audio came after receiveAudio(false)")

        c.send_command("receiveAudio", 0, None, True, stream_id=sid, csid=8)
        self.round_trip(c)
        self.send_frames(pub, psid, b"again", 3, first_ts=2000)
        seen = self.until_audio(c, b"again", 3)
        self.assertEqual(len(tagged(seen, rc.AUDIO, b"again")), 2)  # a0 and a1 before a2

    def test_get_stream_length_of_a_live_stream_is_zero(self):
        pub, psid = self.start_publisher("live", "measured")
        c = self.client()
        c.setup("live")
        reply = c.call("getStreamLength", "measured")
        self.assertEqual(reply.command_name, "_result")
        self.assertEqual(reply.values()[3], 0)

    def test_a_silent_client_is_pinged(self):
        c = self.client()
        c.setup("live")
        # The client answers each PingRequest (rtmp_client.py); the server pings again a
        # ping_interval after the last thing it read.
        pings = 0
        for _ in range(2):
            c.wait_for(lambda m: m.type == rc.USER_CONTROL and m.payload[:2] == b"\x00\x06", 10, "a PingRequest")
            pings += 1
        self.assertEqual(pings, 2)
        self.assertFalse(c.closed_within(0.2))

    def test_delete_stream_closes_the_publisher_and_tells_the_players(self):
        pub, psid = self.start_publisher("live", "doomed")
        c, sid = self.player("doomed")
        self.send_frames(pub, psid, b"live", 2)
        self.expect_frames([(c, sid)], b"live", 2)
        # One stream by its name (issue 16: it answered 405), as the list has it.
        one = curl(self.junction.url("/api/v1/streams/live/doomed"))
        self.assertEqual(one.status, 200, one.body)
        stable = lambda s: {k: s[k] for k in ("app", "name", "live", "players", "publisher", "bytes_in")}
        self.assertEqual(stable(json.loads(one.body)), stable(self.find_live("doomed")))
        self.assertEqual(curl(self.junction.url("/api/v1/streams/live/nobody")).status, 404)
        r = curl(self.junction.url("/api/v1/streams/live/doomed"), "-X", "DELETE")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(pub.closed_within(5), "the publisher was not closed")
        c.wait_status(sid, 10, ("NetStream.Play.UnpublishNotify",))
        self.assertTrue(wait_for(lambda: self.find_live("doomed") is None, 5))
        r = curl(self.junction.url("/api/v1/streams/live/doomed"), "-X", "DELETE")
        self.assertEqual(r.status, 404, r.body)

    def find_live(self, name):
        for s in json.loads(curl(self.junction.url("/api/v1/streams")).body)["streams"]:
            if s["app"] == "live" and s["name"] == name and s["live"]:
                return s
        return None


class HttpFlvOffTest(RtmpTestCase):
    rtmp_config = {"http_flv": False}
    rtmp_apps = [{"name": "live"}]

    def test_http_flv_plays_are_not_served(self):
        pub, psid = self.start_publisher("live", "noweb")
        self.send_frames(pub, psid, b"x", 2)
        self.wait_live("live", "noweb")
        r = curl(self.junction.url("/live/noweb.flv"))
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(self.metric("junction_http_flv_plays_total"), 0)


if __name__ == "__main__":
    unittest.main()
