"""Debian 12's SIP phones against Junction's default configuration (no SIP keys but the listen
address): Linphone 5.1 (linphonec) answers the SHA-256 challenge, baresip 1.0 gets one MD5
challenge (it gives up on SHA-256 and on a second challenge), and each calls the other with audio
both ways, checked by the tone each side decodes. /metrics tells which algorithm each used."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from junction_process import JunctionProcess, curl, junction_bin, wait_for
from phones import Linphone, decoded_recording, free_udp_range, make_phone, run_phone, tone_coverage, tone_strength

CALL_SECONDS = 5


def auth_successes(junction, algorithm):
    return junction.metrics().sum("junction_sip_auth_successes_total", algorithm=algorithm)


class DefaultDigestPhonesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-phones-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(workdir=cls.workdir).start()
        cls.addClassCleanup(cls.junction.cleanup)
        cls.addClassCleanup(cls.junction.stop)
        cls.tone = os.path.join(cls.workdir, "440.wav")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=16000", "-t", "20", "-ac", "1", cls.tone],
                       check=True, timeout=30)

    def add_user(self, aor, password):
        self.junction.add_user(aor, password)

    def registered(self, aor):
        return self.junction.sip_registered(aor)

    def linphone(self, name, password):
        self.add_user("%s@127.0.0.1" % name, password)
        phone = Linphone(self.workdir, name)
        self.addCleanup(phone.quit)
        phone.send("autoanswer enable")
        phone.send("register sip:%s@127.0.0.1 sip:%s %s" % (name, self.junction.sip_address(), password))
        self.assertTrue(wait_for(lambda: self.registered("sip:%s@127.0.0.1" % name), 15),
                        "Linphone did not register:\n" + phone.output()[-3000:])
        return phone

    def talk(self, linphone, heard):
        """Once Linphone's call is up: it plays the 440 Hz file and records what it hears."""
        self.assertIsNotNone(linphone.wait_for_line(r"Media streams established", 15), linphone.output()[-3000:])
        linphone.send("play " + self.tone)
        linphone.send("record " + heard)

    def check_audio(self, baresip_home, linphone_heard):
        bob_heard = decoded_recording(baresip_home)
        self.assertIsNotNone(bob_heard, os.listdir(baresip_home))
        self.assertGreaterEqual(tone_coverage(bob_heard, 440), 0.9)
        self.assertLess(tone_strength(bob_heard, 1000), 0.1)
        self.assertGreaterEqual(tone_coverage(linphone_heard, 1000), 0.9)
        self.assertLess(tone_strength(linphone_heard, 440), 0.1)

    def test_linphone_calls_baresip(self):
        sha256, md5 = auth_successes(self.junction, "SHA-256"), auth_successes(self.junction, "MD5")
        bob_home = make_phone(self.workdir, self.junction.sip_address(), "bob", "pw-bob", 1000, free_udp_range(),
                              self.add_user)
        bob = run_phone(bob_home, 12 + CALL_SECONDS)
        self.addCleanup(bob.kill)
        self.assertTrue(wait_for(lambda: self.registered("sip:bob@127.0.0.1"), 10),
                        "baresip did not register with the default digest settings")
        alice = self.linphone("alice", "pw-alice")
        alice.send("call sip:bob@127.0.0.1")
        heard = os.path.join(self.workdir, "alice-heard.wav")
        self.talk(alice, heard)
        time.sleep(CALL_SECONDS)  # the call's length, not a wait for a condition
        alice.send("terminate")
        self.assertIsNotNone(alice.wait_for_line(r"Call \d+ with sip:bob@127\.0\.0\.1 ended", 10), alice.output()[-3000:])
        bob_out = bob.communicate(timeout=30)[0].decode("utf-8", "replace")
        self.assertIn("Call established: sip:alice@127.0.0.1", bob_out, bob_out[-3000:])
        self.check_audio(bob_home, heard)
        # Linphone answered SHA-256 (its REGISTER), baresip MD5 (its REGISTER).
        self.assertGreaterEqual(auth_successes(self.junction, "SHA-256") - sha256, 1)
        self.assertGreaterEqual(auth_successes(self.junction, "MD5") - md5, 1)

    def test_baresip_calls_linphone(self):
        carol = self.linphone("carol", "pw-carol")
        dave_home = make_phone(self.workdir, self.junction.sip_address(), "dave", "pw-dave", 1000, free_udp_range(),
                               self.add_user)
        heard = os.path.join(self.workdir, "carol-heard.wav")
        dave = run_phone(dave_home, 3 + CALL_SECONDS, "/dial sip:carol@127.0.0.1")
        self.addCleanup(dave.kill)
        self.talk(carol, heard)
        dave_out = dave.communicate(timeout=40)[0].decode("utf-8", "replace")
        self.assertIn("Call established: sip:carol@127.0.0.1", dave_out, dave_out[-3000:])
        # dave hung up when baresip's time was up; carol saw the BYE.
        self.assertIsNotNone(carol.wait_for_line(r"Call \d+ with sip:dave@127\.0\.0\.1 ended", 10),
                             carol.output()[-3000:])
        self.check_audio(dave_home, heard)


if __name__ == "__main__":
    unittest.main()
