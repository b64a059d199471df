"""AMF3 clients, as Flash Player with NetConnection.objectEncoding = 3 is one: commands as type 17
with their arguments switched to AMF3 (0x11), data messages as type 15 whose values are AMF3
objects with strings, objects and traits sent by reference. The client's encoder and decoder
(amf3.py) are written from Adobe's specification and checked against its examples first.

A publisher's AMF3 metadata and cue points reach AMF0 and AMF3 players as the same values; the
gateway logs in and places a call for a client whose arguments are all AMF3; a malformed AMF3
value ends its own connection and nobody else's."""

import struct
import threading
import unittest

import amf3
from amf3 import Assoc, Date, Typed, avmplus
import rtmp_client as rc
from junction_process import read_until_close, wait_for
from phones import RawPhone
from test_rtmp import RtmpTestCase
import test_gateway as tg


class Amf3CodecTest(unittest.TestCase):
    """The examples of the specification (§1.3.1, §3) byte for byte, and round trips."""

    def test_the_specifications_examples(self):
        self.assertEqual(amf3.u29(0x7F), b"\x7f")
        self.assertEqual(amf3.u29(0x80), b"\x81\x00")
        self.assertEqual(amf3.u29(0x3FFF), b"\xff\x7f")
        self.assertEqual(amf3.u29(0x4000), b"\x81\x80\x00")
        self.assertEqual(amf3.u29(0x1FFFFF), b"\xff\xff\x7f")
        self.assertEqual(amf3.u29(0x200000), b"\x80\xc0\x80\x00")
        self.assertEqual(amf3.u29(0x1FFFFFFF), b"\xff\xff\xff\xff")
        self.assertEqual(amf3.encode(1), b"\x04\x01")
        self.assertEqual(amf3.encode(-1), b"\x04\xff\xff\xff\xff")
        self.assertEqual(amf3.encode(1 << 28), b"\x05" + struct.pack(">d", 1 << 28))  # past 29 bits: a double
        self.assertEqual(amf3.encode("foo"), b"\x06\x07foo")
        self.assertEqual(amf3.encode(["a", "a"]), b"\x09\x05\x01\x06\x03a\x06\x00")  # the second "a" by reference
        self.assertEqual(amf3.encode({"a": 1}), b"\x0a\x0b\x01\x03a\x04\x01\x01")
        for raw, want in ((b"\x04\xff\xff\xff\xff", -1), (b"\x04\xbf\xff\xff\xff", (1 << 28) - 1),
                          (b"\x06\x01", ""), (b"\x02", False), (b"\x00", rc.UNDEFINED)):
            self.assertEqual(amf3.decode(raw), (want, len(raw)))

    def test_round_trips_with_references(self):
        shared = {"k": "v"}
        value = {"width": 320, "negative": -5, "big": 1 << 30, "rate": 29.97, "s": "hello", "again": "hello",
                 "list": [1, "hello", shared, shared], "assoc": Assoc({"a": 1}, dense=[2, 3]),
                 "p": Typed("flash.geom.Point", {"x": 1, "y": 2}), "q": Typed("flash.geom.Point", {"x": 3, "y": 4}),
                 "when": Date(1.5e12), "bytes": b"\x00\x01", "none": None, "yes": True}
        data = amf3.encode(value)
        self.assertEqual(data.count(b"hello"), 1)
        self.assertEqual(data.count(b"flash.geom.Point"), 1)  # the second Point's traits by reference
        self.assertEqual(amf3.decode(data), (value, len(data)))


METADATA = {"width": 320, "height": 240, "framerate": 15.0, "videocodecid": 2, "audiocodecid": 11,
            "encoder": "Flash Media Live Encoder", "stereo": False, "description": "a string", "title": "a string"}


def amf3_data(*values):
    """A type 15 body as Flash writes it: the format byte, AMF0 strings, AMF3 for the rest."""
    return b"\x00" + b"".join(rc.amf0_encode(v) if isinstance(v, str) else avmplus(v).data for v in values)


class Amf3PublisherTest(RtmpTestCase):
    rtmp_apps = [{"name": "live"}]

    def amf3_client(self, app):
        c = self.client()
        c.handshake()
        reply = c.connect(app, object_encoding=3, amf3_message=True)
        self.assertEqual(reply.command_name, "_result", reply)
        self.assertEqual(reply.status().get("objectEncoding"), 3)
        return c

    def test_amf3_metadata_and_cue_points_reach_every_player_as_the_same_values(self):
        pub = self.amf3_client("live")
        sid = pub.create_stream()
        # publish(name, "live") with both arguments in AMF3, as Flash Player sends them.
        pub.send_message(8, rc.COMMAND_AMF3, sid, b"\x00" + rc.amf0_encode("publish") + rc.amf0_encode(0) +
                         b"\x05" + avmplus("amf3stream").data + avmplus("live").data)
        status = pub.wait_status(sid, 10)
        self.assertEqual(status.status().get("code"), "NetStream.Publish.Start", status)
        amf0_player, amf0_sid = self.start_players("live", "amf3stream", count=1)[0]
        plays = self.metric("junction_rtmp_plays_total")
        amf3_player = self.amf3_client("live")
        amf3_sid = amf3_player.create_stream()
        self.assertEqual(amf3_player.play(amf3_sid, "amf3stream").status().get("code"), "NetStream.Play.Start")
        self.wait_plays(1, plays)

        pub.send_message(5, rc.DATA_AMF3, sid, amf3_data("@setDataFrame", "onMetaData", METADATA))
        shared = {"name": "chapter", "time": 1.5}
        cue = {"name": "chapter", "time": 1.5, "type": "navigation",
               "parameters": Assoc({"lang": "en", "name": "chapter"}), "same": shared, "again": shared,
               "points": [Typed("flash.geom.Point", {"x": 1, "y": 2}), Typed("flash.geom.Point", {"x": 3, "y": 4})],
               "when": Date(1.5e12), "big": 1 << 30, "negative": -7}
        pub.send_message(5, rc.DATA_AMF3, sid, amf3_data("onCuePoint", cue), timestamp=40)
        self.send_frames(pub, sid, b"amf3", 2)

        for c, psid in ((amf0_player, amf0_sid), (amf3_player, amf3_sid)):
            meta = c.wait_for(lambda m: m.type in (rc.DATA_AMF0, rc.DATA_AMF3) and m.stream_id == psid and
                              m.values()[:1] == ["onMetaData"], 10, "onMetaData")
            got = meta.values()[1]
            self.assertEqual({k: got[k] for k in METADATA}, METADATA)  # numbers as doubles, same values
            point = c.wait_for(lambda m: m.type in (rc.DATA_AMF0, rc.DATA_AMF3) and m.stream_id == psid and
                               m.values()[:1] == ["onCuePoint"], 10, "onCuePoint")
            self.assertEqual(point.timestamp, 40)
            got = point.values()[1]
            # References resolved: the shared object is there twice, the repeated strings whole.
            self.assertEqual((got["name"], got["time"], got["type"]), ("chapter", 1.5, "navigation"))
            self.assertEqual(dict(got["parameters"]), {"lang": "en", "name": "chapter"})
            self.assertEqual(got["same"], {"name": "chapter", "time": 1.5})
            self.assertEqual(got["again"], {"name": "chapter", "time": 1.5})
            self.assertEqual([(p["x"], p["y"]) for p in got["points"]], [(1, 2), (3, 4)])
            self.assertEqual((got["big"], got["negative"]), (1 << 30, -7))
            self.expect_frames([(c, psid)], b"amf3", 2)

    def test_a_malformed_amf3_value_ends_its_own_connection_only(self):
        pub, sid = self.start_publisher("live", "steady")
        [(player, psid)] = self.start_players("live", "steady", count=1)
        bad = self.amf3_client("live")
        before = self.metric("junction_protocol_errors_total")
        # A string by reference to entry 5 of an empty table, then a truncated integer.
        for body in (b"\x00" + rc.amf0_encode("createStream") + rc.amf0_encode(2) + b"\x11\x06\x0a",
                     b"\x00" + rc.amf0_encode("createStream") + rc.amf0_encode(2) + b"\x11\x04\xff\xff"):
            c = self.amf3_client("live")
            c.send_message(3, rc.COMMAND_AMF3, 0, body)
            read_until_close(c.sock, timeout=10)  # raises unless the server closes it
        self.assertTrue(wait_for(lambda: self.metric("junction_protocol_errors_total") >= before + 2, 5))
        # The others go on: the AMF3 client that did nothing wrong, the publisher and its player.
        self.assertGreater(bad.create_stream(), 0)
        self.send_frames(pub, sid, b"after", 2)
        self.expect_frames([(player, psid)], b"after", 2)


class Amf3GatewayTest(unittest.TestCase):
    """A siprtmp client with objectEncoding 3: its login and call arguments are AMF3."""

    add_user = tg.GatewayTest.__dict__["add_user"]

    @classmethod
    def setUpClass(cls):
        tg.start_gateway_server(cls, "amf3-gateway")
        cls.add_user("alice@127.0.0.1", "pw-alice")
        cls.add_user("rob@127.0.0.1", "pw-rob")

    def test_an_amf3_client_logs_in_and_calls_with_amf3_arguments(self):
        phone = RawPhone(self.junction.sip_address(), "rob", "pw-rob", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        c = tg.GatewayClient(self.junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(c.close)
        c.handshake()
        wrong = tg.GatewayClient(self.junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(wrong.close)
        wrong.handshake()
        reply = wrong.connect("sip/alice@127.0.0.1", object_encoding=3, amf3_message=True,
                              args=(avmplus("alice"), avmplus("not her password"), avmplus("Alice")))
        self.assertEqual(reply.command_name, "_error", reply)
        reply = c.connect("sip/alice@127.0.0.1", object_encoding=3, amf3_message=True,
                          args=(avmplus("alice"), avmplus("pw-alice"), avmplus("Alice")))
        self.assertEqual(reply.command_name, "_result", reply)
        self.assertEqual(reply.status().get("objectEncoding"), 3)
        done = {}
        answering = threading.Thread(target=lambda: done.update(offer=phone.answer("m=audio {audio} RTP/AVP 0\r\n")))
        answering.start()
        tid = c.new_tid()
        c.send_command("invite", tid, None, avmplus("rob@127.0.0.1"), avmplus("pcmu"), amf3=True)
        reply = c.wait_for(lambda m: m.command_name in ("_result", "_error") and m.transaction_id == tid, 15)
        self.assertEqual(reply.command_name, "_result", reply)
        self.assertEqual(c.wait_callback("accepted"), ["pcmu", None])
        answering.join(20)
        self.assertIn("From: \"Alice\" <sip:alice@127.0.0.1>", phone.invite[0])
        self.assertEqual(c.call_method("bye").command_name, "_result")
        self.assertTrue(phone.pump_media(10))


if __name__ == "__main__":
    unittest.main()
