"""Recordings of RTMP streams with real clients: ffmpeg and a raw RTMP client publish (per
application `record = true`, publish types "record" and "append"), the files are compared packet
by packet with what was sent (ffprobe), listed at /api/v1/recordings, downloaded whole and by
range, deleted; a junction killed with SIGKILL mid-recording leaves a file ffprobe reads.

Everything talks to 127.0.0.1 only; every wait is bounded.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from junction_process import JunctionProcess, curl, wait_for
import rtmp_client
from rtmp_client import RtmpClient
from test_rtmp import FFMPEG, Probe, make_source
from test_gateway import read_flv_tags

SECONDS = 5


def recordings(junction, *curl_args):
    status, _h, body = curl(junction.url("/api/v1/recordings"), *curl_args)
    if status != 200:
        raise AssertionError("/api/v1/recordings: %s %r" % (status, body))
    return {r["id"]: r for r in json.loads(body)["recordings"]}


def of_stream(junction, stream, *curl_args, count=1):
    """The newest recording of `stream` ("app/name") in the listing, or {}, when the listing holds
    `count` of them (at most). Its id is "app-name-", the UTC time it started to the millisecond
    and 16 hex digits nobody can guess."""
    found = [r for r in recordings(junction, *curl_args).values() if r.get("stream") == stream]
    if len(found) > count:
        raise AssertionError("%d recordings of %s: %r" % (len(found), stream, found))
    for r in found:
        if not re.fullmatch(re.escape(stream.replace("/", "-")) + r"-\d{8}T\d{9}Z(-\d+)?-[0-9a-f]{16}", r["id"]):
            raise AssertionError("a guessable recording id: %r" % r["id"])
    return max(found, key=lambda r: r["id"]) if found else {}


def publish_tags(junction, app, name, kind, tags, seconds):
    """A raw RTMP client publishes FLV tags (type, ts, body) up to `seconds` with publish type
    `kind`, in real time, then unpublishes."""
    c = RtmpClient(junction.port("rtmp"))
    try:
        stream = c.setup(app)
        status = c.publish(stream, name, kind)
        if status.status().get("code") != "NetStream.Publish.Start":
            raise AssertionError("publish %s: %r" % (kind, status))
        start = time.monotonic()
        for kind_, ts, body in tags:
            if ts > seconds * 1000:
                break
            time.sleep(max(0.0, ts / 1000.0 - (time.monotonic() - start)))
            c.send_message(4 if kind_ == 8 else 6 if kind_ == 9 else 5, kind_, stream, body, timestamp=ts)
    finally:
        c.close()


class RecordingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-recording-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.source = make_source(os.path.join(cls.workdir, "source.flv"),
                                 ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-bf", "0", "-c:a", "aac"],
                                 seconds=SECONDS)
        cls.junction = JunctionProcess(workdir=cls.workdir,
                                       rtmp_apps=[{"name": "rec", "record": True}, {"name": "*"}]).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)
        cls.directory = os.path.join(cls.workdir, "recordings")

    def wait_complete(self, stream, timeout=10):
        ok = wait_for(lambda: of_stream(self.junction, stream).get("complete"), timeout)
        self.assertTrue(ok, recordings(self.junction))
        return of_stream(self.junction, stream)

    def test_an_application_with_record_keeps_every_packet_and_serves_the_file(self):
        done = subprocess.run(FFMPEG + ["-re", "-i", self.source, "-c", "copy", "-f", "flv",
                                        self.junction.rtmp_url("rec", "cam")], timeout=SECONDS + 30)
        self.assertEqual(done.returncode, 0)
        rec = self.wait_complete("rec/cam")
        self.assertEqual(rec["kind"], "stream")
        self.assertAlmostEqual(rec["duration_seconds"], SECONDS, delta=0.3)
        path = os.path.join(self.directory, rec["id"] + ".flv")
        # Readable by the server's user alone, like the user store.
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(self.directory, rec["id"] + ".json")).st_mode & 0o777, 0o600)
        self.assertEqual(rec["size_bytes"], os.path.getsize(path))
        # Packet for packet what ffmpeg sent.
        got, src = Probe(path), Probe(self.source)
        self.assertEqual(got.codecs, src.codecs)
        self.assertEqual(got.video, src.video)
        self.assertEqual(got.audio, src.audio)
        # Downloaded whole and by range.
        with open(path, "rb") as f:
            data = f.read()
        status, headers, body = curl(self.junction.url(rec["url"]))
        self.assertEqual((status, body), (200, data))
        status, headers, body = curl(self.junction.url(rec["url"]), "-r", "13-1012")
        self.assertEqual(status, 206)
        self.assertEqual(body, data[13:1013])
        self.assertEqual(headers.get("content-range"), "bytes 13-1012/%d" % len(data))
        # The onMetaData written at the end says how long it is and where the keyframes are.
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=duration:format=duration",
                                "-of", "json", path], stdout=subprocess.PIPE, timeout=30)
        self.assertAlmostEqual(float(json.loads(probe.stdout)["format"]["duration"]), SECONDS, delta=0.3)

    def recorded(self, name):
        """A finished recording of the source under rec/<name>; its id."""
        done = subprocess.run(FFMPEG + ["-re", "-i", self.source, "-c", "copy", "-f", "flv",
                                        self.junction.rtmp_url("rec", name)], timeout=SECONDS + 30)
        self.assertEqual(done.returncode, 0)
        return self.wait_complete("rec/" + name)["id"]

    def test_vod_playback_with_ffmpeg_and_rtmpdump_gives_the_recorded_packets(self):
        rec_id = self.recorded("vodcam")
        src = Probe(os.path.join(self.directory, rec_id + ".flv"))
        out = os.path.join(self.workdir, "vod-ffmpeg.flv")
        started = time.monotonic()
        done = subprocess.run(FFMPEG + ["-i", self.junction.rtmp_url("vod", rec_id), "-c", "copy", "-f", "flv", out],
                              timeout=SECONDS + 30)
        self.assertEqual(done.returncode, 0)
        # Sent at the pace of its timestamps (a second ahead), not all at once.
        self.assertGreater(time.monotonic() - started, SECONDS - 2)
        got = Probe(out)
        self.assertEqual(got.video, src.video)
        self.assertEqual(got.audio, src.audio)
        dump = os.path.join(self.workdir, "vod-rtmpdump.flv")
        done = subprocess.run(["rtmpdump", "-q", "-r", self.junction.rtmp_url("vod", rec_id), "-o", dump],
                              timeout=SECONDS + 30)
        self.assertEqual(done.returncode, 0)  # rtmpdump saw the end (Play.Complete / Play.Stop)
        self.assertEqual(Probe(dump).video, src.video)
        # A name that is not a recording.
        c = RtmpClient(self.junction.port("rtmp"))
        self.addCleanup(c.close)
        stream = c.setup("vod")
        status = c.play(stream, "nothing-here")
        self.assertEqual(status.status().get("code"), "NetStream.Play.StreamNotFound")

    def test_vod_seek_goes_to_the_keyframe_before_the_position(self):
        rec_id = self.recorded("seekcam")
        c = RtmpClient(self.junction.port("rtmp"))
        self.addCleanup(c.close)
        stream = c.setup("vod")
        self.assertEqual(c.play(stream, rec_id).status().get("code"), "NetStream.Play.Start")
        first = c.wait_for(lambda m: m.type == 9 and len(m.payload) > 1 and m.payload[1] == 1, None, "a video frame")
        self.assertEqual(first.payload[0] >> 4, 1, "playback does not start at a keyframe")
        c.send_command("seek", 0, None, 3500.0, stream_id=stream, csid=8)
        c.wait_status(stream, codes=("NetStream.Seek.Notify",))
        # Decoder configuration again, then a keyframe at or before 3.5 s (one per second).
        frame = c.wait_for(lambda m: m.type == 9 and len(m.payload) > 1 and m.payload[1] == 1, None, "a video frame")
        self.assertEqual(frame.payload[0] >> 4, 1, "a seek does not land on a keyframe")
        self.assertTrue(2500 <= frame.timestamp <= 3500, frame.timestamp)
        # The rest plays to the end, which is told.
        end = c.wait_for(lambda m: m.type == rtmp_client.DATA_AMF0 and m.values()[:1] == ["onPlayStatus"],
                         10, "onPlayStatus")
        self.assertEqual(end.values()[1].get("code"), "NetStream.Play.Complete")
        # Live streams cannot seek.
        live = c.create_stream()
        c.play(live, "someone")
        c.send_command("seek", 0, None, 1000.0, stream_id=live, csid=8)
        c.wait_status(live, codes=("NetStream.Seek.Failed",))

    def test_vod_start_positions_from_real_clients(self):
        # rtmpdump --start (play's start argument) and ffmpeg -ss (an RTMP seek command before
        # reading): both begin at the keyframe at or before the position (one per second).
        rec_id = self.recorded("startcam")
        url = self.junction.rtmp_url("vod", rec_id)
        dump = os.path.join(self.workdir, "vod-start.flv")
        done = subprocess.run(["rtmpdump", "-q", "-r", url, "-A", "2.5", "-o", dump], timeout=SECONDS + 30)
        self.assertEqual(done.returncode, 0)
        videos = [ts for kind, ts, _body in read_flv_tags(dump) if kind == 9]
        self.assertTrue(videos, "rtmpdump got no video")
        self.assertTrue(1500 <= videos[0] <= 2500, "rtmpdump --start 2.5 began at %d ms" % videos[0])
        self.assertLess(len(videos), len([t for t in read_flv_tags(self.source) if t[0] == 9]))
        out = os.path.join(self.workdir, "vod-ss.flv")
        done = subprocess.run(FFMPEG + ["-ss", "3", "-i", url, "-c", "copy", "-f", "flv", out], timeout=SECONDS + 30,
                              capture_output=True)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        got = Probe(out)
        self.assertTrue(got.video, "ffmpeg -ss got no video")
        # What ffmpeg wrote starts at the keyframe at or before 3 s of the recording: fewer
        # frames than the whole, and exactly the source's frames from that keyframe on.
        src = Probe(self.source)
        self.assertLess(len(got.video), len(src.video))
        self.assertEqual(got.video, src.video[len(src.video) - len(got.video):])

    def test_publish_type_record_then_append_continues_the_file(self):
        tags = [t for t in read_flv_tags(self.source) if t[0] in (8, 9)]
        publish_tags(self.junction, "live", "show", "record", tags, 2)
        first = self.wait_complete("live/show")
        self.assertAlmostEqual(first["duration_seconds"], 2, delta=0.3)
        path = os.path.join(self.directory, first["id"] + ".flv")
        before = Probe(path)
        publish_tags(self.junction, "live", "show", "append", tags, 2)
        # Finished (the file closed with its last frames), not only long enough.
        self.assertTrue(wait_for(lambda: (lambda r: r.get("complete") and r["duration_seconds"] > 3.5)(
            of_stream(self.junction, "live/show")), 10), recordings(self.junction))
        after = Probe(path)
        # The first part as it was, the second part after it.
        self.assertEqual(after.video[:len(before.video)], before.video)
        self.assertEqual(after.video[len(before.video):], before.video)
        # Recorded again: a file of its own, and neither earlier one is touched (nginx's
        # record_unique); append then continues the newest.
        publish_tags(self.junction, "live", "show", "record", tags, 1)
        self.assertTrue(wait_for(lambda: len([r for r in recordings(self.junction).values()
                                              if r.get("stream") == "live/show" and r.get("complete")]) == 2, 10),
                        recordings(self.junction))
        second = of_stream(self.junction, "live/show", count=2)
        self.assertNotEqual(second["id"], first["id"])
        self.assertGreater(second["id"], first["id"])
        self.assertAlmostEqual(second["duration_seconds"], 1, delta=0.3)
        self.assertEqual(Probe(path).video, after.video)
        publish_tags(self.junction, "live", "show", "append", tags, 1)
        self.assertTrue(wait_for(lambda: (lambda r: r.get("complete") and r["duration_seconds"] > 1.5)(
            of_stream(self.junction, "live/show", count=2)), 10), recordings(self.junction))
        self.assertEqual(of_stream(self.junction, "live/show", count=2)["id"], second["id"])
        self.assertEqual(Probe(path).video, after.video)
        # A live publication records nothing: a recording starts with the publication (before
        # Publish.Start goes back), so the count tells at once.
        started = self.junction.metrics().sum("junction_recordings_started_total")
        publish_tags(self.junction, "live", "plain", "live", tags, 1)
        self.assertEqual(self.junction.metrics().sum("junction_recordings_started_total"), started)
        self.assertEqual(of_stream(self.junction, "live/plain"), {})

    def test_delete_and_names_outside_the_folder(self):
        tags = [t for t in read_flv_tags(self.source) if t[0] in (8, 9)]
        publish_tags(self.junction, "live", "gone", "record", tags, 1)
        gone = self.wait_complete("live/gone")["id"]
        status, _h, _b = curl(self.junction.url("/api/v1/recordings/" + gone), "-X", "DELETE")
        self.assertEqual(status, 200)
        self.assertNotIn(gone, recordings(self.junction))
        self.assertFalse(os.path.exists(os.path.join(self.directory, gone + ".flv")))
        for path in ("/api/v1/recordings/" + gone, "/api/v1/recordings/..%2fjunction.toml",
                     "/recordings/..%2fjunction.toml", "/recordings/%2e%2e/junction.toml", "/recordings/nothing.flv"):
            status, _h, _b = curl(self.junction.url(path))
            self.assertIn(status, (400, 403, 404), path)


class VodAuthorizationTest(unittest.TestCase):
    """Recordings are the admin's (issue 13): with http.admin_token set, rtmp://host/vod/<id> plays
    only with token=<admin token>, as /recordings/<id>.flv downloads only with the bearer token,
    and the ids cannot be guessed from the stream's name."""
    TOKEN = "vod-admin-secret"

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-vod-auth-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(workdir=cls.workdir, http={"admin_token": cls.TOKEN},
                                       rtmp_apps=[{"name": "rec", "record": True}, {"name": "*"}]).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)

    def play_code(self, name, query=""):
        c = RtmpClient(self.junction.port("rtmp"))
        self.addCleanup(c.close)
        stream = c.setup("vod")
        return c.play(stream, name + ("?" + query if query else "")).status().get("code")

    def test_vod_needs_the_admin_token_and_ids_are_not_guessable(self):
        source = make_source(os.path.join(self.workdir, "short.flv"),
                             ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-bf", "0", "-c:a", "aac"],
                             seconds=1)
        tags = [t for t in read_flv_tags(source) if t[0] in (8, 9)]
        publish_tags(self.junction, "rec", "secretcam", "live", tags, 1)
        bearer = ("-H", "Authorization: Bearer " + self.TOKEN)
        self.assertTrue(wait_for(lambda: of_stream(self.junction, "rec/secretcam", *bearer).get("complete"), 10))
        rec_id = of_stream(self.junction, "rec/secretcam", *bearer)["id"]
        # The download and the VOD play ask for the same token.
        self.assertEqual(curl(self.junction.url("/recordings/%s.flv" % rec_id)).status, 401)
        self.assertEqual(curl(self.junction.url("/recordings/%s.flv" % rec_id), *bearer).status, 200)
        self.assertEqual(self.play_code(rec_id), "NetStream.Play.Failed")
        self.assertEqual(self.play_code(rec_id, "token=wrong"), "NetStream.Play.Failed")
        self.assertEqual(self.play_code("rec-secretcam"), "NetStream.Play.Failed")
        self.assertEqual(self.play_code(rec_id, "token=" + self.TOKEN), "NetStream.Play.Start")
        # The old, guessable name plays nothing even with the token.
        self.assertEqual(self.play_code("rec-secretcam", "token=" + self.TOKEN), "NetStream.Play.StreamNotFound")


class KilledRecordingTest(unittest.TestCase):
    def test_sigkill_mid_recording_leaves_a_file_ffprobe_reads_to_the_last_second(self):
        workdir = tempfile.mkdtemp(prefix="junction-it-recording-kill-")
        self.addCleanup(shutil.rmtree, workdir, True)
        source = make_source(os.path.join(workdir, "long.flv"),
                             ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-bf", "0", "-c:a", "aac"],
                             seconds=10)
        junction = JunctionProcess(workdir=workdir, rtmp_apps=[{"name": "rec", "record": True}]).start()
        self.addCleanup(junction.cleanup)
        publisher = subprocess.Popen(FFMPEG + ["-re", "-i", source, "-c", "copy", "-f", "flv",
                                               junction.rtmp_url("rec", "cam")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: publisher.poll() is None and publisher.kill())
        folder = os.path.join(workdir, "recordings")

        def recorded_ms():
            """How far the file on disk reaches (it is written at least once a second)."""
            names = [n for n in os.listdir(folder) if n.endswith(".flv")] if os.path.isdir(folder) else []
            try:
                tags = read_flv_tags(os.path.join(folder, names[0])) if names else []
            except ValueError:  # not even the FLV header yet
                tags = []
            return max((ts for kind, ts, _body in tags if kind in (8, 9)), default=0)
        self.assertTrue(wait_for(lambda: recorded_ms() >= 4000, 20), "the recording did not reach 4 s")
        junction.kill()  # SIGKILL: no close, no final onMetaData
        publisher.wait(10)
        ids = [n[:-4] for n in os.listdir(os.path.join(workdir, "recordings")) if n.endswith(".flv")]
        self.assertEqual(len(ids), 1, ids)
        path = os.path.join(workdir, "recordings", ids[0] + ".flv")
        got, src = Probe(path), Probe(source)
        # Up to the last second or so of what was sent, packet for packet.
        self.assertGreater(len(got.video), 25 * 3)
        self.assertEqual(got.video, src.video[:len(got.video)])
        self.assertGreater(len(got.audio), 0)
        # And the listing (of a restarted junction) says how far it got.
        junction.start()
        rec = recordings(junction)[ids[0]]
        self.assertEqual(rec["stream"], "rec/cam")
        self.assertFalse(rec["complete"])
        self.assertGreater(rec["duration_seconds"], 3.0)
        junction.stop()


if __name__ == "__main__":
    unittest.main()
