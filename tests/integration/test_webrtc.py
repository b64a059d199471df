"""WebRTC's cores against an independent implementation: aiortc (Debian's python3-aiortc) offers
audio, tests/interop/webrtc_answerer (Junction's ICE-lite, DTLS, SRTP and one shard's port)
answers, and the Opus packets aiortc sends must arrive decrypted. Everything on 127.0.0.1:
aioice's host candidates are limited to loopback here.
"""
import asyncio
import json
import os
import subprocess
import unittest

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from junction_process import SLOW

ANSWERER = os.environ.get("JUNCTION_WEBRTC_ANSWERER_BIN", "../../build/tests/interop/webrtc_answerer")
PACKETS = 100  # two seconds of 20 ms Opus frames


def loopback_only(use_ipv4=True, use_ipv6=True):
    return ["127.0.0.1"]


class AiortcPublishesOpusTest(unittest.TestCase):
    def setUp(self):
        self._saved = aioice.ice.get_host_addresses
        aioice.ice.get_host_addresses = loopback_only

    def tearDown(self):
        aioice.ice.get_host_addresses = self._saved

    async def offer_to_answerer(self, tamper=None):
        """Runs one session; returns (aiortc's final connection state, the answerer's lines)."""
        pc = RTCPeerConnection()
        pc.addTrack(AudioStreamTrack())  # 20 ms frames of silence, Opus-encoded
        await pc.setLocalDescription(await pc.createOffer())  # gathers before it returns
        sdp = pc.localDescription.sdp
        if tamper:
            sdp = tamper(sdp)
        proc = await asyncio.create_subprocess_exec(
            os.path.abspath(ANSWERER), "--packets", str(PACKETS), "--seconds", str(int(30 * SLOW)),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        proc.stdin.write(sdp.encode())
        proc.stdin.close()
        first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 10 * SLOW))
        self.assertIn("answer", first, first)
        connected = asyncio.get_running_loop().create_future()

        @pc.on("connectionstatechange")
        def changed():
            if pc.connectionState in ("connected", "failed") and not connected.done():
                connected.set_result(pc.connectionState)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=first["answer"], type="answer"))
        try:
            state = await asyncio.wait_for(connected, 10 * SLOW)
        except asyncio.TimeoutError:
            state = pc.connectionState
        out = await asyncio.wait_for(proc.stdout.read(), 40 * SLOW)
        await proc.wait()
        await pc.close()
        lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        return state, first["answer"], lines

    def test_ice_dtls_and_srtp_connect_and_opus_arrives(self):
        state, answer, lines = asyncio.run(self.offer_to_answerer())
        self.assertEqual(state, "connected", lines)
        self.assertIn("a=ice-lite", answer)
        self.assertIn("a=setup:active", answer)  # aiortc offered actpass: Junction is the DTLS client
        states = [line["state"] for line in lines if "state" in line]
        self.assertEqual(states, ["connected"], lines)
        final = lines[-1]
        self.assertGreaterEqual(final["rtp"], PACKETS, final)
        offered_opus = [int(l.split(":")[1].split()[0]) for l in answer.splitlines() if "opus/48000" in l]
        self.assertEqual(final["payload_types"], offered_opus[:1], final)

    def test_a_certificate_that_is_not_the_offers_fingerprint_fails(self):
        def other_fingerprint(sdp):
            out = []
            for line in sdp.splitlines():
                if line.startswith("a=fingerprint:sha-256 "):
                    line = "a=fingerprint:sha-256 " + ":".join(["AB"] * 32)
                out.append(line)
            return "\r\n".join(out) + "\r\n"

        state, _, lines = asyncio.run(self.offer_to_answerer(other_fingerprint))
        self.assertNotEqual(state, "connected", lines)
        failures = [line for line in lines if line.get("state") == "failed"]
        self.assertTrue(failures, lines)
        self.assertIn("fingerprint", failures[0]["why"])
        self.assertEqual(lines[-1]["rtp"], 0, lines)


if __name__ == "__main__":
    unittest.main()
