"""SIP server with real clients: the RFC 4475 torture messages through the live UDP listener,
sipp scenarios (REGISTER, OPTIONS), the registrations API and bad input.

Everything talks to 127.0.0.1/127.0.0.2 only. Every wait is bounded.
"""

import hashlib
import json
import os
import re
import shutil
import ssl
import socket
import subprocess
import tempfile
import time
import unittest

from junction_process import SLOW, JunctionProcess, curl, junction_bin, read_until_close, wait_for
from phones import channel_tones, free_udp_port, free_udp_range, make_phone, run_phone, tone_coverage, tone_strength
import rtmp_client as rc

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "rfc4475")
SIPP = os.path.join(HERE, "sipp")
SIPP_TMP = tempfile.gettempdir()

# The domains the torture messages address, so that the server is their registrar and proxy.
TORTURE_DOMAINS = ["127.0.0.1", "localhost", "example.com", "example.net", "example.org",
                   "chair-dnrc.example.com", "company.com", "registrar.example.com"]

# What Junction answers to each RFC 4475 message, and why (tests/vectors/rfc4475/README.md):
# None = dropped (responses, and a response whose status line is invalid).
TORTURE_ANSWERS = {
    # 3.1.1 valid: processed. Requests for a user of a local domain go to the proxy, which
    # knows no binding for them: 404. REGISTERs reach the registrar: 200.
    # REGISTERs need digest credentials (sip.authenticate): 401. wsinv and mpart01 carry a
    # Route naming another host: forwarding there would make this an open relay (403).
    "wsinv": 403, "intmeth": 404, "esc01": 404, "escnull": 401, "esc02": 501, "lwsdisp": 404,
    "longreq": 404, "dblreq": 401, "semiuri": 404, "mpart01": 403, "transports": 404,
    "unreason": None, "noreason": None,
    # 3.1.2 invalid
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": None, "quotbal": 400,
    "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400, "escruri": 400,
    "baddate": 400, "regbadct": 400, "badaspec": 400, "baddn": 400, "badvers": 505,
    "mismatch01": 400, "mismatch02": 400, "bigcode": None,
    # 3.2
    "badbranch": 404,
    # 3.3 application layer
    "insuf": 400, "unkscm": 416, "novelsc": 416,
    # To: isbn:... names no user of ours: the registrar's 404 (before any authentication).
    "unksm2": 404, "bext01": 420, "invut": 404,
    "regaut01": 401, "multi01": 400, "mcl01": 400, "bcast": None, "zeromf": 483,
    "cparam01": 401, "cparam02": 401, "regescrt": 401, "sdp01": 404,
    # 3.4
    "inv2543": 404,
}


def status_of(datagram):
    first = datagram.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    parts = first.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("SIP/2.0"):
        raise AssertionError("not a SIP response: %r" % first)
    return int(parts[1])


def header(datagram, name):
    for line in datagram.split(b"\r\n"):
        if line.lower().startswith(name.lower().encode() + b":"):
            return line.split(b":", 1)[1].strip().decode("utf-8", "replace")
    return None


def udp_port_taken(host, port):
    """True when something has bound host:port for UDP (binding it here fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


class SipTestCase(unittest.TestCase):
    sip_config = {}
    http_config = {}   # keys added to the HTTP section (an HTTPS listener for wss, say)
    extra_config = {}  # other sections of the configuration

    @classmethod
    def prepare(cls, workdir):
        """Hook: create files in workdir before the server starts."""

    @classmethod
    def setUpClass(cls):
        keys = {"domains": TORTURE_DOMAINS}
        keys.update(cls.sip_config)
        workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % cls.__name__)
        cls.prepare(workdir)
        cls.junction = JunctionProcess(sip=keys, http=cls.http_config, workdir=workdir, extra=cls.extra_config).start()
        cls.addClassCleanup(shutil.rmtree, workdir, True)
        host, port = cls.junction.sip_address().rsplit(":", 1)
        cls.sip = (host, int(port))

    @classmethod
    def tearDownClass(cls):
        cls.junction.stop()
        cls.junction.cleanup()

    @staticmethod
    def sipp_report(code, output, work):
        """(exit code, the end of sipp's output and of its error file)."""
        errors = ""
        if os.path.exists(os.path.join(work, "errors.log")):
            with open(os.path.join(work, "errors.log"), errors="replace") as f:
                errors = f.read()[-3000:]
        return code, output.decode("utf-8", "replace")[-3000:] + errors

    def sipp(self, scenario, service, extra=(), timeout=20, remote=None):
        """Runs one sipp scenario once against junction (its UDP listener unless `remote` says
        otherwise); returns (exit code, output)."""
        with tempfile.TemporaryDirectory(prefix="sipp-") as work:
            cmd = ["sipp", remote or "%s:%d" % self.sip, "-sf", os.path.join(SIPP, scenario), "-s", service,
                   "-i", "127.0.0.1", "-p", str(free_udp_port()), "-m", "1", "-l", "1",
                   "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin",
                   "-trace_err", "-error_file", os.path.join(work, "errors.log")]
            cmd += list(extra)
            done = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout + 10)
            return self.sipp_report(done.returncode, done.stdout, work)

    def callee(self, scenario, port, host="127.0.0.1"):
        """Starts a sipp callee (a scenario file in sipp/) on host:port; see finish()."""
        work = tempfile.mkdtemp(prefix="sipp-uas-", dir=self.junction.workdir)
        proc = subprocess.Popen(["sipp", "-sf", os.path.join(SIPP, scenario), "-i", host,
                                 "-p", str(port), "-m", "1", "-timeout", "30s", "-timeout_error",
                                 "-nostdin", "-trace_err", "-error_file", os.path.join(work, "errors.log")],
                                cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        # Ready once its port is taken (or it has already failed, which finish() reports).
        wait_for(lambda: udp_port_taken(host, port) or proc.poll() is not None, 10)
        return proc, work

    def finish(self, proc, work):
        try:
            out, _ = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        return self.sipp_report(proc.returncode, out, work)

    def call_through_junction(self, callee_scenario, user, call):
        """A sipp callee registered as `user` (open registrar) answers what `call()` (a sipp caller,
        returning (exit code, output)) sends through junction; both must succeed."""
        port = free_udp_port()
        uas, work = self.callee(callee_scenario, port)
        self.assertEqual(raw_register(self.sip, user, port), 200)
        code, out = call()
        self.assertEqual(code, 0, out)
        code, out = self.finish(uas, work)
        self.assertEqual(code, 0, out)

    @classmethod
    def add_user(cls, address, password):
        """`junction users add` on this class's junction; fails the set-up if it fails."""
        done = subprocess.run([junction_bin(), "--config", cls.junction.config_path, "users", "add", address,
                               "--password", password], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        assert done.returncode == 0, done.stdout

    def users(self, *args, stdin=None):
        """`junction users ...` on this junction's configuration; returns (exit code, output)."""
        done = subprocess.run([junction_bin(), "--config", self.junction.config_path, "users"] + list(args),
                              input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return done.returncode, done.stdout.decode("utf-8", "replace")

    def registrations(self):
        status, _headers, body = curl(self.junction.url("/api/v1/sip/registrations"))
        self.assertEqual(status, 200)
        return {r["aor"]: r["contacts"] for r in json.loads(body)["registrations"]}


class TortureTest(SipTestCase):
    """RFC 4475's messages, byte for byte, to the live UDP listener. Answers go where the top Via
    says: 127.0.0.2 (the source address, as `received`), port 5060 or the Via's port."""

    def setUp(self):
        self.sockets = []
        for port in (5060, 5050):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.2", port))
            s.settimeout(0.05)
            self.sockets.append(s)

    def tearDown(self):
        for s in self.sockets:
            s.close()

    def exchange(self, data, wait=1.5):
        """Sends from 127.0.0.2:5060; returns the first datagram back (either socket) or None."""
        self.sockets[0].sendto(data, self.sip)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for s in self.sockets:
                try:
                    reply, _ = s.recvfrom(65536)
                    return reply
                except socket.timeout:
                    pass
        return None

    def test_every_torture_message_gets_the_expected_answer(self):
        files = sorted(f[:-4] for f in os.listdir(VECTORS) if f.endswith(".dat"))
        self.assertEqual(set(files), set(TORTURE_ANSWERS), "a vector without an expectation")
        refused_before = self.junction.metrics().sum("junction_sip_bad_messages_total")
        wrong = []
        for name in files:
            with open(os.path.join(VECTORS, name + ".dat"), "rb") as f:
                data = f.read()
            expected = TORTURE_ANSWERS[name]
            reply = self.exchange(data, wait=0.5 if expected is None else 3.0)
            got = None if reply is None else status_of(reply)
            if got != expected:
                wrong.append("%s: expected %s, got %s" % (name, expected, got))
            elif reply is not None:
                # A response always echoes the request's Call-ID (dblreq: the first message's).
                call_id = header(data.split(b"\r\n\r\n", 1)[0], "Call-ID") or header(data, "i")
                self.assertEqual(header(reply, "Call-ID"), call_id, name)
        self.assertEqual(wrong, [])
        # The server is still fine afterwards, and counted what it refused.
        options = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-after\r\n"
                   b"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: after\r\n"
                   b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(status_of(self.exchange(options)), 200)
        refused = sum(1 for v in TORTURE_ANSWERS.values() if v in (400, 505)) + 2  # + scalarlg, bigcode
        refused_after = self.junction.metrics().sum("junction_sip_bad_messages_total")
        self.assertEqual(refused_after - refused_before, refused)

    def test_details_of_particular_answers(self):
        def answer(name):
            with open(os.path.join(VECTORS, name + ".dat"), "rb") as f:
                return self.exchange(f.read(), wait=3.0)
        bext = answer("bext01")
        self.assertIn("noProxiesSupportThis", header(bext, "Unsupported"))
        vers = answer("badvers")
        self.assertTrue(vers.startswith(b"SIP/2.0 505 "), vers[:40])
        # RFC 3581 / RFC 3261 §18.2.1: the top Via comes back with the address it came from.
        wsinv = answer("wsinv")
        self.assertIn("received=127.0.0.2", header(wsinv, "Via"))


class OpenRegistrarTest(SipTestCase):
    """sip.authenticate = false: anyone may register an address of a local domain."""
    sip_config = {"authenticate": False}

    def test_register_query_and_unregister(self):
        code, out = self.sipp("register.xml", "alice")
        self.assertEqual(code, 0, out)
        regs = self.registrations()
        self.assertIn("sip:alice@127.0.0.1", regs, regs)
        contact = regs["sip:alice@127.0.0.1"][0]
        self.assertTrue(contact["contact"].startswith("sip:alice@127.0.0.1:"), contact)
        self.assertTrue(0 < contact["expires"] <= 300, contact)
        self.assertTrue(contact["source"].startswith("udp 127.0.0.1:"), contact)
        self.assertGreaterEqual(self.junction.metrics().sum("junction_sip_bindings"), 1)

        code, out = self.sipp("unregister.xml", "alice")
        self.assertEqual(code, 0, out)
        self.assertNotIn("sip:alice@127.0.0.1", self.registrations())

    def test_many_users_register_across_shards(self):
        # AORs are homed on shards by hash: six users land on both shards. sipp's -s takes one
        # user, so they register in turn.
        for i in range(6):
            code, out = self.sipp("register.xml", "user%d" % i)
            self.assertEqual(code, 0, out)
        regs = self.registrations()
        for i in range(6):
            self.assertIn("sip:user%d@127.0.0.1" % i, regs)
        # Each shard keeps the AORs homed on it, whichever shard the REGISTER arrived on.
        per_shard = self.junction.metrics().by_shard("junction_sip_bindings")
        self.assertEqual(len([v for v in per_shard.values() if v > 0]), 2, per_shard)

    def test_options_to_the_server(self):
        code, out = self.sipp("options.xml", "x")
        self.assertEqual(code, 0, out)


class DigestRegisterTest(SipTestCase):
    """The default: REGISTER needs digest credentials of a user in the user store. sipp answers
    only MD5 challenges, and only the first one it gets."""
    sip_config = {"digest_algorithms": ["MD5"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for name in ("carol", "dave"):
            done = subprocess.run([junction_bin(), "--config", cls.junction.config_path, "users", "add",
                                   name + "@127.0.0.1", "--password-stdin"], input=b"pw-" + name.encode() + b"\n",
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
            assert done.returncode == 0, done.stdout

    def test_sipp_registers_with_the_right_password(self):
        code, out = self.sipp("register_auth.xml", "carol", extra=["-au", "carol", "-ap", "pw-carol"])
        self.assertEqual(code, 0, out)
        self.assertIn("sip:carol@127.0.0.1", self.registrations())

    def test_a_wrong_password_is_challenged_again_and_counted(self):
        before = self.junction.metrics().sum("junction_sip_auth_failures_total")
        code, out = self.sipp("register_wrong_password.xml", "dave", extra=["-au", "dave", "-ap", "nope"])
        self.assertEqual(code, 0, out)
        self.assertNotIn("sip:dave@127.0.0.1", self.registrations())
        self.assertEqual(self.junction.metrics().sum("junction_sip_auth_failures_total") - before, 1)

    def test_one_user_cannot_register_another(self):
        code, out = self.sipp("register_wrong_password.xml", "dave", extra=["-au", "carol", "-ap", "pw-carol"])
        self.assertNotEqual(code, 0, out)  # 403, not the 401 the scenario waits for
        self.assertIn("403", out)
        self.assertNotIn("sip:dave@127.0.0.1", self.registrations())

    def test_users_command_line_and_api(self):
        code, out = self.users("list")
        self.assertEqual(code, 0, out)
        self.assertIn("carol@127.0.0.1", out)
        self.assertEqual(self.users("add", "bad name@127.0.0.1", "--password", "x")[0], 2)
        self.assertEqual(self.users("del", "nobody@127.0.0.1")[0], 1)

        status, _h, body = curl(self.junction.url("/api/v1/users"), "-X", "POST", "-H", "Content-Type: application/json",
                                "--data-binary", json.dumps({"user": "erin@LOCALHOST", "password": "pw"}))
        self.assertEqual(status, 201, body)
        status, _h, body = curl(self.junction.url("/api/v1/users"))
        self.assertEqual(status, 200)
        self.assertIn("erin@localhost", [u["user"] for u in json.loads(body)["users"]])
        status, _h, body = curl(self.junction.url("/api/v1/users"), "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{}")
        self.assertEqual(status, 400)
        status, _h, _b = curl(self.junction.url("/api/v1/users/erin@localhost"), "-X", "DELETE")
        self.assertEqual(status, 200)
        status, _h, _b = curl(self.junction.url("/api/v1/users/erin@localhost"), "-X", "DELETE")
        self.assertEqual(status, 404)
        # The database holds derived secrets only.
        with open(os.path.join(self.junction.workdir, "junction-users.sqlite"), "rb") as f:
            self.assertNotIn(b"pw-carol", f.read())


class PasswordGuessingTest(SipTestCase):
    """Guessing is slowed (issue 13): past sip.auth_failures_allowed wrong answers from one source,
    its requests get 403 with Retry-After, even with the right password, until the lockout ends;
    another source is not affected, and failures are counted."""
    sip_config = {"digest_algorithms": ["MD5"], "auth_failures_allowed": 3}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_user("gus@127.0.0.1", "pw-gus")

    def register(self, sock, password, n):
        """One REGISTER for gus, answering a fresh challenge with `password`; the final answer."""
        port = sock.getsockname()[1]
        def send(extra, cseq):
            sock.sendto(("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-g%d-%d\r\n"
                         "Max-Forwards: 70\r\nFrom: <sip:gus@127.0.0.1>;tag=g\r\nTo: <sip:gus@127.0.0.1>\r\n"
                         "Call-ID: guess-%d-%d\r\nCSeq: %d REGISTER\r\nContact: <sip:gus@127.0.0.1:%d>\r\n%s"
                         "Content-Length: 0\r\n\r\n" % (sock.getsockname()[0], port, n, cseq, port, n, cseq,
                                                            port, extra)).encode(), self.sip)
            return sock.recvfrom(65536)[0]
        challenged = send("", 1)
        if status_of(challenged) != 401:
            return challenged
        nonce = header(challenged, "WWW-Authenticate").split('nonce="')[1].split('"')[0]
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
        response = md5("%s:%s:%s" % (md5("gus:127.0.0.1:" + password), nonce, md5("REGISTER:sip:127.0.0.1")))
        return send('Authorization: Digest username="gus", realm="127.0.0.1", nonce="%s", uri="sip:127.0.0.1", '
                    'response="%s", algorithm=MD5\r\n' % (nonce, response), 2)

    def test_repeated_failures_lock_the_source_out(self):
        guesser = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        guesser.bind(("127.0.0.1", 0))
        guesser.settimeout(5)
        self.addCleanup(guesser.close)
        before = self.junction.metrics().sum("junction_sip_auth_throttled_total")
        for n in range(3):
            self.assertEqual(status_of(self.register(guesser, "wrong-%d" % n, n)), 401)
        # The fourth failure locks the source out; from then on 403 with Retry-After, even for
        # the right password.
        self.assertEqual(status_of(self.register(guesser, "wrong-3", 3)), 401)
        locked = self.register(guesser, "pw-gus", 4)
        self.assertEqual(status_of(locked), 403, locked)
        self.assertGreaterEqual(int(header(locked, "Retry-After")), 1)
        self.assertGreaterEqual(self.junction.metrics().sum("junction_sip_auth_throttled_total") - before, 1)
        # Another address (the user's own phone) still registers.
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.2", 0))
        phone.settimeout(5)
        self.addCleanup(phone.close)
        self.assertEqual(status_of(self.register(phone, "pw-gus", 5)), 200)
        # Once the lockout is over, the right password works from the guesser's address too.
        self.assertTrue(wait_for(lambda: status_of(self.register(guesser, "pw-gus", 6)) == 200, 10, 0.5))


def raw_register(sip, user, contact_port, expires=300):
    """Registers user@127.0.0.1 at 127.0.0.1:contact_port (an open registrar); returns the status."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    port = s.getsockname()[1]
    msg = ("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-reg-%s-%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@127.0.0.1>;tag=r1\r\nTo: <sip:%s@127.0.0.1>\r\n"
           "Call-ID: reg-%s-%d\r\nCSeq: 1 REGISTER\r\n"
           "Contact: <sip:%s@127.0.0.1:%d>;expires=%d\r\nContent-Length: 0\r\n\r\n"
           % (port, user, contact_port, user, user, user, contact_port, user, contact_port, expires))
    s.sendto(msg.encode(), sip)
    reply, _ = s.recvfrom(65536)
    s.close()
    return status_of(reply)


class ProxyCallTest(SipTestCase):
    """Calls from a sipp caller through Junction to a sipp callee registered at it."""
    sip_config = {"authenticate": False}

    def caller_expecting(self, status, user):
        with open(os.path.join(SIPP, "uac_fail.xml")) as f:
            text = f.read().replace("EXPECTED_STATUS", str(status))
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir=SIPP_TMP, delete=False) as f:
            f.write(text)
        try:
            return self.sipp(f.name, user)
        finally:
            os.unlink(f.name)

    def test_call_with_reinvite_and_bye(self):
        self.call_through_junction("uas_call.xml", "bob", lambda: self.sipp("uac_call.xml", "bob"))

    def test_cancel_before_answer(self):
        self.call_through_junction("uas_cancel.xml", "carol", lambda: self.sipp("uac_cancel.xml", "carol"))

    def test_busy_callee(self):
        self.call_through_junction("uas_busy.xml", "dave", lambda: self.caller_expecting(486, "dave"))

    def test_unregistered_callee_is_not_found(self):
        code, out = self.caller_expecting(404, "nobody")
        self.assertEqual(code, 0, out)


class OutboundCallTest(SipTestCase):
    """sip.outbound = "authenticated": a local user calls a host of another domain through
    Junction after answering its 407; strangers and unauthenticated callers are refused."""
    sip_config = {"outbound": "authenticated", "digest_algorithms": ["MD5"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_user("carol8@127.0.0.1", "pw-carol8")

    def test_a_local_user_calls_out_after_the_challenge(self):
        # 127.0.0.2 is none of junction's domains: a host "elsewhere", on loopback.
        port = free_udp_port("127.0.0.2")
        uas, work = self.callee("uas_call.xml", port, host="127.0.0.2")
        code, out = self.sipp("uac_outbound.xml", "service", ["-au", "carol8", "-ap", "pw-carol8",
                                                             "-set", "caller", "carol8",
                                                             "-set", "callee_host", "127.0.0.2",
                                                             "-set", "callee_port", str(port),
                                                             # sipp digests remote_ip:port unless told
                                                             "-auth_uri", "service@127.0.0.2:%d" % port])
        self.assertEqual(code, 0, out)
        code, out = self.finish(uas, work)
        self.assertEqual(code, 0, out)

    def test_only_junctions_own_credentials_are_taken_out(self):
        """A caller answers junction's 407 and also carries credentials for a proxy further on:
        junction removes its own and forwards the other (RFC 3261 §22.3)."""
        callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        callee.bind(("127.0.0.2", 0))
        callee.settimeout(5)
        self.addCleanup(callee.close)
        target = "sip:svc@127.0.0.2:%d" % callee.getsockname()[1]
        ua = PresenceUA(self.sip, "carol8")
        self.addCleanup(ua.close)
        theirs = ('Digest username="carol", realm="far.example", nonce="n1", uri="%s", '
                  'response="00000000000000000000000000000000"' % target)
        challenged = ua.request("INVITE", target, target, "Proxy-Authorization: %s\r\n" % theirs,
                                call_id="creds-1@127.0.0.1")
        self.assertEqual(status_of(challenged), 407)
        challenge = header(challenged, "Proxy-Authenticate")
        nonce = challenge.split('nonce="')[1].split('"')[0]
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
        ha1 = md5("carol8:127.0.0.1:pw-carol8")
        ha2 = md5("INVITE:%s" % target)
        response = md5("%s:%s:00000001:c0ffee:auth:%s" % (ha1, nonce, ha2))
        ours = ('Digest username="carol8", realm="127.0.0.1", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"' % (nonce, target, response))
        ua.branch += 1
        invite = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-creds-2\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:carol8@127.0.0.1>;tag=c8\r\nTo: <%s>\r\n"
                  "Call-ID: creds-1@127.0.0.1\r\nCSeq: 2 INVITE\r\nContact: <sip:carol8@127.0.0.1:%d>\r\n"
                  "Proxy-Authorization: %s\r\nProxy-Authorization: %s\r\nContent-Length: 0\r\n\r\n"
                  % (target, ua.port, target, ua.port, ours, theirs))
        ua.sock.sendto(invite.encode(), self.sip)
        forwarded, source = callee.recvfrom(65536)
        self.assertTrue(forwarded.startswith(b"INVITE "), forwarded[:80])
        text = forwarded.decode()
        self.assertIn('realm="far.example"', text)     # the next proxy's, passed on
        self.assertNotIn('realm="127.0.0.1"', text)    # junction's own, taken out
        callee.sendto(answer(forwarded, 486, "Busy Here").encode(), source)
        deadline = time.monotonic() + 5
        final = None
        while final is None:
            data = ua._receive(deadline)
            self.assertIsNotNone(data, "no final answer came back")
            if data.startswith(b"SIP/2.0") and status_of(data) >= 200:
                final = data
        self.assertEqual(status_of(final), 486)

    def test_callers_who_cannot_prove_a_local_identity_are_refused(self):
        ua = PresenceUA(self.sip, "mallory")
        self.addCleanup(ua.close)
        # A local name without credentials: challenged by the proxy.
        challenged = ua.request("INVITE", "sip:someone@127.0.0.2:5999", "sip:someone@127.0.0.2")
        self.assertEqual(status_of(challenged), 407)
        self.assertTrue(header(challenged, "Proxy-Authenticate").startswith("Digest "))
        # A caller of a domain that is not ours: no relay for it at all.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        self.addCleanup(s.close)
        port = s.getsockname()[1]
        s.sendto(("INVITE sip:someone@127.0.0.2:5999 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-eve\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:eve@example.invalid>;tag=e\r\nTo: <sip:someone@127.0.0.2>\r\n"
                  "Call-ID: eve-1\r\nCSeq: 1 INVITE\r\nContact: <sip:eve@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n"
                  % (port, port)).encode(), self.sip)
        self.assertEqual(status_of(s.recvfrom(65536)[0]), 403)


def listening_victim(test):
    """A UDP socket on 127.0.0.2 standing for a host of another domain: what reaches it was
    relayed."""
    victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    victim.bind(("127.0.0.2", 0))
    test.addCleanup(victim.close)
    return victim


def nothing_arrives(sock, seconds=0.5):
    """True when `sock` receives nothing for `seconds` (checked after the server has already
    answered the request, so a relayed copy would have been sent before)."""
    sock.settimeout(seconds)
    try:
        sock.recvfrom(65536)
    except socket.timeout:
        return True
    return False


class RouteCase(SipTestCase):
    """Requests that name junction in their first Route, from a stranger's socket."""

    def stranger(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        self.addCleanup(s.close)
        return s

    def routed(self, sock, method, target, route, to_tag="", extra=""):
        port = sock.getsockname()[1]
        cseq_method = method
        body = ""
        if method == "SUBSCRIBE":
            extra += "Event: presence\r\nExpires: 60\r\n"
        if method == "MESSAGE":
            body = "buy now"
            extra += "Content-Type: text/plain\r\n"
        text = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-relay-%s-%d\r\n"
                "Route: %s\r\nMax-Forwards: 70\r\nFrom: <sip:eve@evil.example>;tag=e1\r\nTo: <%s>%s\r\n"
                "Call-ID: relay-%s-%d@evil.example\r\nCSeq: 1 %s\r\nContact: <sip:eve@127.0.0.1:%d>\r\n%s"
                "Content-Length: %d\r\n\r\n%s"
                % (method, target, port, method, port, route, target, ";tag=" + to_tag if to_tag else "",
                   method, port, cseq_method, port, extra, len(body), body))
        sock.sendto(text.encode(), self.sip)
        while True:
            data, _ = sock.recvfrom(65536)
            if data.startswith(b"SIP/2.0 1"):
                continue
            return data

    def strangers_are_refused_for_every_method(self):
        """A stranger's INVITE, MESSAGE, OPTIONS and SUBSCRIBE for another host, routed through
        junction: 403 each, nothing relayed. Returns (victim socket, its URI, junction's Route)."""
        victim = listening_victim(self)
        target = "sip:someone@127.0.0.2:%d" % victim.getsockname()[1]
        ours = "<sip:%s:%d;lr>" % self.sip
        for method in ("INVITE", "MESSAGE", "OPTIONS", "SUBSCRIBE"):
            with self.subTest(method=method):
                answer = self.routed(self.stranger(), method, target, ours)
                self.assertEqual(status_of(answer), 403, answer[:200])
                self.assertTrue(nothing_arrives(victim), "%s was relayed" % method)
        return victim, target, ours


class OpenRelayTest(RouteCase):
    """A Route naming junction must not make it relay for anyone (issue 13): after taking out its
    own Route entry the request meets the same policy as one that came without it, and only a
    dialog junction itself record-routed (its Route carries junction's mark) goes on elsewhere."""
    sip_config = {"outbound": "refuse"}

    def test_no_method_is_relayed_through_a_route_naming_junction(self):
        self.strangers_are_refused_for_every_method()

    def test_a_forged_or_missing_dialog_mark_is_refused(self):
        victim = listening_victim(self)
        target = "sip:someone@127.0.0.2:%d" % victim.getsockname()[1]
        forged = "<sip:%s:%d;lr;jr=0123456789abcdef0123456789abcdef>" % self.sip
        for route, tag in ((forged, "t1"), ("<sip:%s:%d;lr>" % self.sip, "t1"), (forged, "")):
            with self.subTest(route=route, tag=tag):
                answer = self.routed(self.stranger(), "INVITE", target, route, to_tag=tag)
                self.assertEqual(status_of(answer), 403, answer[:200])
                self.assertTrue(nothing_arrives(victim))
        # A second Route after junction's, towards the victim: refused all the same.
        answer = self.routed(self.stranger(), "MESSAGE", "sip:someone@127.0.0.1",
                             "<sip:%s:%d;lr>, <sip:127.0.0.2:%d;lr>" % (self.sip + (victim.getsockname()[1],)))
        self.assertEqual(status_of(answer), 403, answer[:200])
        self.assertTrue(nothing_arrives(victim))

    def test_an_unsolicited_response_is_not_passed_on(self):
        victim = listening_victim(self)
        s = self.stranger()
        for top in ("SIP/2.0/UDP %s:%d;branch=z9hG4bK-j0-1" % self.sip,
                    "SIP/2.0/UDP %s:%d;branch=z9hG4bK-j1-7" % self.sip,
                    "SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK-j0-2"):
            response = ("SIP/2.0 200 OK\r\nVia: %s\r\nVia: SIP/2.0/UDP 127.0.0.2:%d;branch=z9hG4bK-v\r\n"
                        "From: <sip:a@127.0.0.2>;tag=a\r\nTo: <sip:b@127.0.0.2>;tag=b\r\nCall-ID: unsolicited\r\n"
                        "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % (top, victim.getsockname()[1]))
            s.sendto(response.encode(), self.sip)
        # The server still answers (it handled those first), and nothing reached the victim.
        s.sendto(("OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-after\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=x\r\nTo: <sip:%s:%d>\r\nCall-ID: after\r\n"
                  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                  % (self.sip + (s.getsockname()[1],) + self.sip)).encode(), self.sip)
        self.assertEqual(status_of(s.recvfrom(65536)[0]), 200)
        self.assertTrue(nothing_arrives(victim))


class OutboundRouteTest(RouteCase):
    """With sip.outbound = "authenticated", a Route naming junction leads to the same challenge as
    a request without one: strangers get 403, local names 407, and nothing is relayed."""
    sip_config = {"outbound": "authenticated"}

    def test_no_method_is_relayed_through_a_route_naming_junction(self):
        victim, target, ours = self.strangers_are_refused_for_every_method()
        ua = PresenceUA(self.sip, "mallory")
        self.addCleanup(ua.close)
        challenged = ua.request("INVITE", target, target, "Route: %s\r\n" % ours)
        self.assertEqual(status_of(challenged), 407)
        self.assertTrue(nothing_arrives(victim))


class StreamPeer:
    """A SIP user agent on one TCP connection to junction: enough to register, and to answer
    what arrives on the same connection."""

    def __init__(self, address, timeout=5.0):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.port = self.sock.getsockname()[1]
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def recv_message(self):
        """The next whole message (Content-Length framing), or b"" when the server closed."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                length = int(header(self.buf[:end + 2], "Content-Length") or header(self.buf[:end + 2], "l") or 0)
                total = end + 4 + length
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buf += chunk

    def close(self):
        self.sock.close()


def answer(request, status, reason, to_tag="callee"):
    """A response to `request` (bytes) with its Vias, From, To (tagged), Call-ID and CSeq."""
    lines = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [l.decode() for l in lines if l.split(b":", 1)[0].strip().lower() in
            (b"via", b"v", b"from", b"f", b"call-id", b"i", b"cseq")]
    to = header(request, "To") or header(request, "t")
    return "SIP/2.0 %d %s\r\n%s\r\nTo: %s;tag=%s\r\nContent-Length: 0\r\n\r\n" % (
        status, reason, "\r\n".join(keep), to, to_tag)


class StreamTransportTest(SipTestCase):
    """SIP over TCP (RFC 3261 §18.3) and WebSocket (RFC 7118): flows, keepalives, framing."""
    sip_config = {"authenticate": False, "tcp_message_timeout": "1s"}

    def tcp_address(self):
        for proto, transport, addr in self.junction.listeners:
            if proto == "sip" and transport == "tcp":
                return addr
        raise AssertionError("no SIP TCP listener: %r" % self.junction.listeners)

    def test_a_user_registered_over_tcp_is_called_on_its_connection(self):
        peer = StreamPeer(self.tcp_address())
        try:
            peer.send("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
                      "Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-tcpreg\r\nMax-Forwards: 70\r\n"
                      "From: <sip:erin@127.0.0.1>;tag=e1\r\nTo: <sip:erin@127.0.0.1>\r\nCall-ID: tcp-reg\r\n"
                      "CSeq: 1 REGISTER\r\nContact: <sip:erin@127.0.0.1:%d;transport=tcp>\r\n"
                      "Content-Length: 0\r\n\r\n" % (peer.port, peer.port))
            self.assertEqual(status_of(peer.recv_message()), 200)
            contact = self.registrations()["sip:erin@127.0.0.1"][0]
            self.assertEqual(contact["source"], "tcp 127.0.0.1:%d" % peer.port)

            with tempfile.NamedTemporaryFile("w", suffix=".xml", dir=SIPP_TMP, delete=False) as f:
                with open(os.path.join(SIPP, "uac_fail.xml")) as t:
                    f.write(t.read().replace("EXPECTED_STATUS", "486"))
            caller = subprocess.Popen(["sipp", "%s:%d" % self.sip, "-sf", f.name, "-s", "erin", "-i", "127.0.0.1",
                                       "-p", str(free_udp_port()), "-m", "1", "-timeout", "20s", "-timeout_error",
                                       "-nostdin"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, cwd=SIPP_TMP)
            invite = peer.recv_message()
            self.assertTrue(invite.startswith(b"INVITE sip:erin@127.0.0.1:%d;transport=tcp " % peer.port), invite[:80])
            self.assertTrue(header(invite, "Via").startswith("SIP/2.0/TCP "), header(invite, "Via"))
            peer.send(answer(invite, 486, "Busy Here"))
            ack = peer.recv_message()  # hop by hop, on the same connection
            self.assertTrue(ack.startswith(b"ACK "), ack[:80])
            out, _ = caller.communicate(timeout=30)
            os.unlink(f.name)
            self.assertEqual(caller.returncode, 0, out.decode("utf-8", "replace")[-2000:])
        finally:
            peer.close()
        # The flow closed: its binding goes with it (RFC 5626 §7).
        deadline = time.monotonic() + 5
        while "sip:erin@127.0.0.1" in self.registrations() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotIn("sip:erin@127.0.0.1", self.registrations())

    def test_connections_the_peer_closes_are_closed_here_too(self):
        """No flow is left in CLOSE-WAIT (issue 13): whether the peer closes or only half-closes,
        junction closes its side, and a lone CRLF keepalive is not taken for half a message."""
        host, port = self.tcp_address().rsplit(":", 1)
        peers = []
        for i in range(20):
            peer = StreamPeer(self.tcp_address())
            peer.send("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-cw%d\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:%s>\r\nCall-ID: cw-%d\r\n"
                      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (host, peer.port, i, host, i))
            self.assertEqual(status_of(peer.recv_message()), 200)
            peers.append(peer)
        for i, peer in enumerate(peers):
            if i % 2:
                peer.close()
            else:
                peer.sock.shutdown(socket.SHUT_WR)

        def close_wait():
            out = subprocess.run(["ss", "-tan", "state", "close-wait", "sport", "=", ":" + port],
                                 stdout=subprocess.PIPE, text=True, timeout=10).stdout
            return len(out.strip().splitlines()[1:])
        self.assertTrue(wait_for(lambda: close_wait() == 0, 5, 0.1), "%d in CLOSE-WAIT" % close_wait())
        for peer in peers[::2]:
            self.assertEqual(read_until_close(peer.sock, timeout=5), b"")
            peer.close()

    def test_crlf_keepalive_gets_a_pong(self):
        peer = StreamPeer(self.tcp_address())
        try:
            peer.send(b"\r\n\r\n")
            self.assertEqual(peer.sock.recv(16), b"\r\n")
        finally:
            peer.close()

    def test_an_unframeable_stream_is_closed_and_others_are_served(self):
        before = self.junction.metrics().sum("junction_sip_bad_messages_total")
        bad = StreamPeer(self.tcp_address())
        good = StreamPeer(self.tcp_address())
        try:
            bad.send("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-x\r\n\r\n")
            self.assertEqual(bad.recv_message(), b"")  # no Content-Length on a stream: closed
            good.send("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-y\r\n"
                      "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: tcp-opt\r\n"
                      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % good.port)
            self.assertEqual(status_of(good.recv_message()), 200)
        finally:
            bad.close()
            good.close()
        self.assertEqual(self.junction.metrics().sum("junction_sip_bad_messages_total") - before, 1)

    def test_half_a_message_then_silence_is_closed_and_others_are_served(self):
        before = self.junction.metrics().sum("junction_timeouts_total", protocol="sip")
        stalled = StreamPeer(self.tcp_address(), timeout=6)
        good = StreamPeer(self.tcp_address())
        try:
            started = time.monotonic()
            # A header section cut short, then a byte now and then: it never completes.
            stalled.send("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-h\r\nFrom: ")
            stalled.sock.settimeout(0.3)
            closed = False
            while not closed and time.monotonic() - started < 6:
                try:
                    closed = stalled.sock.recv(100) == b""
                except socket.timeout:
                    stalled.send("x")
            self.assertTrue(closed, "a dripping half message was not closed")
            self.assertLess(time.monotonic() - started, 4)  # sip.tcp_message_timeout is 1 s here
            good.send("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-z\r\n"
                      "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: tcp-opt-2\r\n"
                      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % good.port)
            self.assertEqual(status_of(good.recv_message()), 200)
        finally:
            stalled.close()
            good.close()
        self.assertEqual(self.junction.metrics().sum("junction_timeouts_total", protocol="sip") - before, 1)

    def test_sipp_over_tcp_calls_a_callee_on_udp(self):
        host, tcp_port = self.tcp_address().rsplit(":", 1)
        self.call_through_junction("uas_call.xml", "gina", lambda: self.sipp(
            "uac_call.xml", "gina", extra=["-t", "t1"], remote="%s:%s" % (host, tcp_port)))

    def test_register_and_message_over_websocket(self):
        import asyncio
        import websockets

        http = self.junction.address("http")
        sip = self.sip

        def send_message_over_udp():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
            port = s.getsockname()[1]
            body = "hello over websocket"
            s.sendto(("MESSAGE sip:frank@127.0.0.1 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-msg1\r\nMax-Forwards: 70\r\n"
                      "From: <sip:sender@127.0.0.1>;tag=s1\r\nTo: <sip:frank@127.0.0.1>\r\n"
                      "Call-ID: ws-msg\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
                      "Content-Length: %d\r\n\r\n%s" % (port, len(body), body)).encode(), sip)
            while True:
                reply, _ = s.recvfrom(65536)
                if status_of(reply) >= 200:
                    s.close()
                    return status_of(reply)

        async def scenario():
            async with websockets.connect("ws://%s/sip" % http, subprotocols=["sip"]) as ws:
                self.assertEqual(ws.subprotocol, "sip")
                await ws.send("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-wsreg\r\nMax-Forwards: 70\r\n"
                              "From: <sip:frank@127.0.0.1>;tag=w1\r\nTo: <sip:frank@127.0.0.1>\r\n"
                              "Call-ID: ws-reg\r\nCSeq: 1 REGISTER\r\n"
                              "Contact: <sip:frank@df7jal23ls0d.invalid;transport=ws>\r\n\r\n")
                reply = await asyncio.wait_for(ws.recv(), 5)
                self.assertEqual(status_of(reply.encode()), 200)
                loop = asyncio.get_running_loop()
                sender = loop.run_in_executor(None, send_message_over_udp)
                incoming = (await asyncio.wait_for(ws.recv(), 5)).encode()
                self.assertTrue(incoming.startswith(b"MESSAGE sip:frank@df7jal23ls0d.invalid;transport=ws "),
                                incoming[:80])
                self.assertTrue(incoming.endswith(b"hello over websocket"))
                self.assertTrue(header(incoming, "Via").startswith("SIP/2.0/WS "))
                await ws.send(answer(incoming, 200, "OK"))
                return await asyncio.wait_for(sender, 10)

        self.assertEqual(asyncio.run(scenario()), 200)


class FirstMessageTimeoutTest(SipTestCase):
    """A TCP connection that sends no whole SIP message soon after it opens (one held only to use up
    the server's connections) is closed after sip.tcp_first_message_timeout, not the 600 s idle
    timeout; one that has sent a message keeps its flow (issue 13)."""
    sip_config = {"authenticate": False, "tcp_first_message_timeout": "1s"}
    tcp_address = StreamTransportTest.tcp_address

    def test_silent_connections_are_closed_and_flows_in_use_are_not(self):
        before = self.junction.metrics().sum("junction_timeouts_total", protocol="sip")
        silent, pinging, good = (StreamPeer(self.tcp_address(), timeout=10) for _ in range(3))
        self.addCleanup(lambda: [p.close() for p in (silent, pinging, good)])
        good.send("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-f1\r\n"
                  "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: first-1\r\n"
                  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % good.port)
        self.assertEqual(status_of(good.recv_message()), 200)
        pinging.send("\r\n\r\n")  # a keepalive is no message
        self.assertEqual(read_until_close(silent.sock, timeout=10), b"")
        self.assertEqual(read_until_close(pinging.sock, timeout=10), b"\r\n")  # its pong, then the close
        good.send("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-f2\r\n"
                  "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: first-2\r\n"
                  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % good.port)
        self.assertEqual(status_of(good.recv_message()), 200)
        self.assertEqual(self.junction.metrics().sum("junction_timeouts_total", protocol="sip") - before, 2)


class TlsPeer:
    """One end of a SIP connection over TLS: writes requests, reads whole messages."""

    def __init__(self, tls):
        self.tls = tls
        self.port = tls.getsockname()[1]
        self.buffer = b""

    def send(self, text):
        self.tls.sendall(text.encode())

    def read(self, timeout=10):
        """The next whole message (framed by Content-Length), as text."""
        deadline = time.monotonic() + timeout
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                length = re.search(rb"(?im)^(?:Content-Length|l)\s*:\s*(\d+)", self.buffer[:head_end])
                total = head_end + 4 + (int(length.group(1)) if length else 0)
                if len(self.buffer) >= total:
                    message, self.buffer = self.buffer[:total], self.buffer[total:]
                    return message.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no whole SIP message within %ds (have %r)" % (timeout, self.buffer[:300]))
            self.tls.settimeout(left)
            try:
                chunk = self.tls.recv(65536)
            except (socket.timeout, TimeoutError):
                chunk = None
                if time.monotonic() < deadline:
                    continue
                raise AssertionError("no whole SIP message within %ds (have %r)" % (timeout, self.buffer[:300]))
            if not chunk:
                raise AssertionError("the TLS connection closed (have %r)" % self.buffer[:300])
            self.buffer += chunk

    def read_request(self, method):
        while True:
            message = self.read()
            if message.startswith(method + " "):
                return message

    def read_response(self, status):
        while True:
            message = self.read()
            if message.startswith("SIP/2.0 %d" % status):
                return message

    def reply(self, request, status, reason, extra="", body=""):
        keep = [l for l in request.split("\r\n")[1:]
                if re.match(r"(?i)^(via|from|to|call-id|cseq|record-route)\s*:", l)]
        keep = [l + (";tag=bobtag" if re.match(r"(?i)^to\s*:", l) and "tag=" not in l else "") for l in keep]
        text = "SIP/2.0 %d %s\r\n%s\r\n%s" % (status, reason, "\r\n".join(keep), extra)
        if body:
            text += "Content-Type: application/sdp\r\n"
        self.send(text + "Content-Length: %d\r\n\r\n%s" % (len(body), body))


class TlsTransportTest(SipTestCase):
    """SIP over TLS (sips listener) and secure WebSocket (wss on the HTTPS listener): Debian's sipp
    has neither, so Python's ssl module and websockets are the clients."""
    sip_config = {"authenticate": False, "tls_listen": ["127.0.0.1:0"], "tls_certificate": "cert.pem",
                  "tls_private_key": "key.pem", "tcp_first_message_timeout": "2s"}
    http_config = {"tls_listen": ["127.0.0.1:0"], "tls_certificate": "cert.pem", "tls_private_key": "key.pem"}

    @classmethod
    def prepare(cls, workdir):
        done = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", os.path.join(workdir, "key.pem"), "-out", os.path.join(workdir, "cert.pem")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if done.returncode != 0:
            raise RuntimeError("openssl failed: %s" % done.stderr.decode())

    def test_register_over_tls(self):
        host, port = self.junction.address("sips").rsplit(":", 1)
        context = ssl.create_default_context(cafile=os.path.join(self.junction.workdir, "cert.pem"))
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
                local = tls.getsockname()[1]
                tls.sendall(("REGISTER sips:127.0.0.1 SIP/2.0\r\n"
                             "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tlsreg\r\nMax-Forwards: 70\r\n"
                             "From: <sips:hank@127.0.0.1>;tag=h1\r\nTo: <sips:hank@127.0.0.1>\r\n"
                             "Call-ID: tls-reg\r\nCSeq: 1 REGISTER\r\n"
                             "Contact: <sips:hank@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n"
                             % (local, local)).encode())
                reply = b""
                while b"\r\n\r\n" not in reply:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                self.assertEqual(status_of(reply), 200, reply[:200])
                # While the connection lives, the binding is reached over it.
                contact = self.registrations()["sip:hank@127.0.0.1"][0]
                self.assertEqual(contact["source"], "tls 127.0.0.1:%d" % local)

    def tls_ua(self):
        host, port = self.junction.address("sips").rsplit(":", 1)
        context = ssl.create_default_context(cafile=os.path.join(self.junction.workdir, "cert.pem"))
        raw = socket.create_connection((host, int(port)), timeout=5)
        tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.addCleanup(tls.close)
        return TlsPeer(tls)

    # Found by this test (issue 15): junction record-routed TLS dialogs with its UDP address and
    # sent in-dialog requests for a contact reachable only over a flow by UDP. Now a dialog with
    # a side on a flow gets a Record-Route facing each side (RFC 5658), the one facing a flow
    # with its token (route_mark.hpp).
    def test_a_call_over_tls_both_ways(self):
        # Two user agents on TLS connections: bob registers, alice calls him. Every request and
        # answer crosses junction on the two flows (RFC 5626: the binding is reached over the
        # connection it came on); the call is answered, acknowledged and hung up.
        bob, alice = self.tls_ua(), self.tls_ua()
        bob.send("REGISTER sips:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-bobreg\r\n"
                 "Max-Forwards: 70\r\nFrom: <sips:bobt@127.0.0.1>;tag=b1\r\nTo: <sips:bobt@127.0.0.1>\r\n"
                 "Call-ID: tls-bob\r\nCSeq: 1 REGISTER\r\nContact: <sips:bobt@127.0.0.1:%d;transport=tls>\r\n"
                 "Content-Length: 0\r\n\r\n" % (bob.port, bob.port))
        self.assertEqual(status_of(bob.read().encode()), 200)
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
        alice.send("INVITE sips:bobt@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-inv1\r\n"
                   "Max-Forwards: 70\r\nFrom: <sips:alice@127.0.0.1>;tag=a1\r\nTo: <sips:bobt@127.0.0.1>\r\n"
                   "Call-ID: tls-call\r\nCSeq: 1 INVITE\r\nContact: <sips:alice@127.0.0.1:%d;transport=tls>\r\n"
                   "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
                   % (alice.port, alice.port, len(sdp), sdp))
        invite = bob.read_request("INVITE")
        self.assertIn("Via: SIP/2.0/TLS", invite)  # junction's own Via on the TLS flow
        self.assertIn("m=audio", invite)
        bob.reply(invite, 200, "OK", "Contact: <sips:bobt@127.0.0.1:%d;transport=tls>\r\n" % bob.port, sdp)
        ok = alice.read_response(200)
        self.assertIn("tls-call", ok)
        to_tag = re.search(r"(?im)^To:.*;tag=([^;\r\n]+)", ok).group(1)
        routes = [m.group(1) for m in re.finditer(r"(?im)^Record-Route:\s*(.*?)\r$", ok)]
        sips_port = self.junction.address("sips").rsplit(":", 1)[1]
        self.assertTrue(routes and all(":%s;" % sips_port in r and "transport=tls" in r for r in routes), routes)
        route = "".join("Route: %s\r\n" % r for r in reversed(routes))
        alice.send("ACK sips:bobt@127.0.0.1:%d;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-ack1\r\n"
                   "Max-Forwards: 70\r\n%sFrom: <sips:alice@127.0.0.1>;tag=a1\r\nTo: <sips:bobt@127.0.0.1>;tag=%s\r\n"
                   "Call-ID: tls-call\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n" % (bob.port, alice.port, route, to_tag))
        bob.read_request("ACK")
        alice.send("BYE sips:bobt@127.0.0.1:%d;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-bye1\r\n"
                   "Max-Forwards: 70\r\n%sFrom: <sips:alice@127.0.0.1>;tag=a1\r\nTo: <sips:bobt@127.0.0.1>;tag=%s\r\n"
                   "Call-ID: tls-call\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n" % (bob.port, alice.port, route, to_tag))
        bye = bob.read_request("BYE")
        bob.reply(bye, 200, "OK")
        self.assertIn("CSeq: 2 BYE", alice.read_response(200))

    def test_a_call_over_wss_with_a_udp_phone(self):
        # wendy registers over wss (RFC 7118 on the HTTPS listener, certificate checked); a UA on
        # UDP calls her: the INVITE and the ACK reach her over her connection, her answer and her
        # BYE reach the caller over UDP along the record-route. A WebSocket user is taken for a
        # browser: the caller's plain offer reaches her as a WebRTC one (docs/webrtc.md); her
        # answer here is plain (she is no browser), so the bridge lets go and the caller gets the
        # answer as she wrote it.
        import asyncio
        import websockets

        context = ssl.create_default_context(cafile=os.path.join(self.junction.workdir, "cert.pem"))
        caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        caller.bind(("127.0.0.1", 0))
        caller.settimeout(5)
        self.addCleanup(caller.close)
        port = caller.getsockname()[1]
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
        contact = "sip:wendy@df7jal23ls0d.invalid;transport=ws"

        def udp_read(want):
            while True:
                data, _ = caller.recvfrom(65536)
                if want(data):
                    return data

        def udp_call():
            caller.sendto(("INVITE sip:wendy@127.0.0.1 SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-wssinv\r\nMax-Forwards: 70\r\n"
                           "From: <sip:ursula@127.0.0.1>;tag=u1\r\nTo: <sip:wendy@127.0.0.1>\r\n"
                           "Call-ID: wss-call\r\nCSeq: 1 INVITE\r\nContact: <sip:ursula@127.0.0.1:%d>\r\n"
                           "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
                           % (port, port, len(sdp), sdp)).encode(), self.sip)
            return udp_read(lambda d: d.startswith(b"SIP/2.0 200"))

        def udp_ack(ok):
            routes = [m.group(1).decode() for m in re.finditer(rb"(?im)^Record-Route:\s*(.*?)\r$", ok)]
            route = "".join("Route: %s\r\n" % r for r in reversed(routes))
            to = header(ok, "To")
            first = re.search(r"<([^>]+)>", routes[-1]).group(1) if routes else None
            host, hop_port = re.search(r"sip:([^:;>]+):(\d+)", first).groups()
            caller.sendto(("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-wssack\r\n"
                           "Max-Forwards: 70\r\n%sFrom: <sip:ursula@127.0.0.1>;tag=u1\r\nTo: %s\r\n"
                           "Call-ID: wss-call\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
                           % (re.search(r"<([^>]+)>", header(ok, "Contact")).group(1), port, route, to)).encode(),
                          (host, int(hop_port)))

        def udp_take_bye():
            bye = udp_read(lambda d: d.startswith(b"BYE "))
            caller.sendto(answer(bye, 200, "OK", to_tag="u1").replace("To: <sip:ursula@127.0.0.1>;tag=u1;tag=u1",
                                                                        "To: <sip:ursula@127.0.0.1>;tag=u1").encode(),
                          (self.sip[0], self.sip[1]))
            return bye

        async def scenario():
            loop = asyncio.get_running_loop()
            async with websockets.connect("wss://%s/sip" % self.junction.address("https"), subprotocols=["sip"],
                                          ssl=context) as ws:
                await ws.send("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-wssreg\r\nMax-Forwards: 70\r\n"
                              "From: <sip:wendy@127.0.0.1>;tag=w1\r\nTo: <sip:wendy@127.0.0.1>\r\n"
                              "Call-ID: wss-reg\r\nCSeq: 1 REGISTER\r\nContact: <%s>\r\n\r\n" % contact)
                self.assertEqual(status_of((await asyncio.wait_for(ws.recv(), 5)).encode()), 200)
                calling = loop.run_in_executor(None, udp_call)
                invite = (await asyncio.wait_for(ws.recv(), 5)).encode()
                self.assertTrue(invite.startswith(("INVITE %s " % contact).encode()), invite[:100])
                self.assertTrue(header(invite, "Via").startswith("SIP/2.0/WSS "), header(invite, "Via"))
                self.assertIn(b"UDP/TLS/RTP/SAVPF", invite)
                self.assertIn(b"a=ice-lite", invite)
                routes = [m.group(1).decode() for m in re.finditer(rb"(?im)^Record-Route:\s*(.*?)\r$", invite)]
                self.assertTrue(routes, invite)
                head = invite.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
                keep = [l.decode() for l in head if l.split(b":", 1)[0].strip().lower() in
                        (b"via", b"from", b"call-id", b"cseq", b"record-route")]
                await ws.send("SIP/2.0 200 OK\r\n%s\r\nTo: <sip:wendy@127.0.0.1>;tag=w2\r\nContact: <%s>\r\n"
                              "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
                              % ("\r\n".join(keep), contact, len(sdp), sdp))
                ok = await asyncio.wait_for(calling, 10)
                self.assertIn(b"Call-ID: wss-call", ok)
                self.assertIn(b"m=audio 40000 RTP/AVP 0", ok)
                await loop.run_in_executor(None, udp_ack, ok)
                ack = (await asyncio.wait_for(ws.recv(), 5)).encode()
                self.assertTrue(ack.startswith(b"ACK "), ack[:100])
                # wendy hangs up: her BYE follows the record-route as she got it.
                taking = loop.run_in_executor(None, udp_take_bye)
                await ws.send("BYE sip:ursula@127.0.0.1:%d SIP/2.0\r\n"
                              "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-wssbye\r\nMax-Forwards: 70\r\n"
                              "%sFrom: <sip:wendy@127.0.0.1>;tag=w2\r\nTo: <sip:ursula@127.0.0.1>;tag=u1\r\n"
                              "Call-ID: wss-call\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
                              % (port, "".join("Route: %s\r\n" % r for r in routes)))
                bye = await asyncio.wait_for(taking, 10)
                self.assertIn(b"Call-ID: wss-call", bye)
                done = (await asyncio.wait_for(ws.recv(), 5)).encode()
                self.assertEqual(status_of(done), 200)
                self.assertIn(b"CSeq: 1 BYE", done)

        asyncio.run(scenario())

    def test_a_stalled_tls_handshake_is_closed(self):
        """Issue 13: a peer that opens a connection and stalls in (or never starts) the TLS
        handshake is closed after sip.tcp_first_message_timeout, and counted."""
        host, port = self.junction.address("sips").rsplit(":", 1)
        before = self.junction.metrics().sum("junction_timeouts_total", protocol="sips")
        silent = socket.create_connection((host, int(port)), timeout=10)
        half = socket.create_connection((host, int(port)), timeout=10)
        self.addCleanup(silent.close)
        self.addCleanup(half.close)
        half.sendall(b"\x16\x03\x01\x00\xc8\x01")  # the start of a ClientHello, never finished
        self.assertEqual(read_until_close(silent, timeout=10), b"")
        self.assertEqual(read_until_close(half, timeout=10), b"")
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_timeouts_total", protocol="sips")
                                 - before >= 2, 5, 0.1))


class BaresipCallTest(SipTestCase):
    """Two baresip phones register with digest authentication and one calls the other through
    Junction: the call is answered, RTP flows both ways (each side's recording holds the other
    side's tone: 440 Hz one way, 1000 Hz the other), and the caller hangs up with BYE."""
    # The default digest settings: baresip (User-Agent "baresip v1.0.0") gets one MD5 challenge.
    sip_config = {}

    def phone(self, name, password, frequency, rtp_ports, modules=(), account_params="", contacts=()):
        def add_user(aor, pw):
            self.assertEqual(self.users("add", aor, "--password", pw)[0], 0)
        return make_phone(self.junction.workdir, self.junction.sip_address(), name, password, frequency,
                          rtp_ports, add_user, modules, account_params, contacts)

    run_phone = staticmethod(run_phone)

    def test_two_phones_call_each_other_with_audio(self):
        bob_home = self.phone("bob", "pw-bob", 1000, free_udp_range())
        alice_home = self.phone("alice", "pw-alice", 440, free_udp_range())
        # bob outlives alice's call however slowly he registers (a sanitized server on busy cores).
        bob = self.run_phone(bob_home, int(14 * SLOW))
        self.assertTrue(wait_for(lambda: "sip:bob@127.0.0.1" in self.registrations(), 10),
                        "bob did not register")
        alice = self.run_phone(alice_home, 8, "/dial sip:bob@127.0.0.1")
        alice_out = alice.communicate(timeout=30 * SLOW)[0].decode("utf-8", "replace")
        bob_out = bob.communicate(timeout=30 * SLOW)[0].decode("utf-8", "replace")
        self.outputs = (alice_out, bob_out)  # for subclasses' own checks
        self.assertIn("Call established: sip:bob@127.0.0.1", alice_out, alice_out[-3000:])
        self.assertIn("Call established: sip:alice@127.0.0.1", bob_out, bob_out[-3000:])
        # alice quit first: her BYE reached bob through the Record-Route (baresip says the
        # session was reset by the peer when a BYE ends it).
        self.assertRegex(bob_out, r"sip:alice@127\.0\.0\.1: (session closed|Call with)", bob_out[-3000:])

        def recording(home):
            files = [f for f in os.listdir(home) if f.endswith("-dec.wav")]
            self.assertEqual(len(files), 1, os.listdir(home))
            return os.path.join(home, files[0])
        # What each phone received and decoded is the other's tone, not its own.
        bob_heard, alice_heard = recording(bob_home), recording(alice_home)
        self.assertGreaterEqual(tone_coverage(bob_heard, 440), 0.9)
        self.assertLess(tone_strength(bob_heard, 1000), 0.1)
        self.assertGreaterEqual(tone_coverage(alice_heard, 1000), 0.9)
        self.assertLess(tone_strength(alice_heard, 440), 0.1)

    def test_a_phone_sees_the_other_come_online_and_go_offline(self):
        """baresip's presence module: bob publishes (PUBLISH with digest auth) while it runs;
        alice subscribes to bob (SUBSCRIBE with digest auth, allowed by bob's contact list) and
        reports each status change junction notifies."""
        presence = ("contact.so", "presence.so")
        bob_home = self.phone("bob7", "pw-bob7", 1000, free_udp_range(), presence, ";pubint=60")
        alice_home = self.phone("alice7", "pw-alice7", 440, free_udp_range(), presence, "",
                                ['"Bob" <sip:bob7@127.0.0.1>;presence=p2p'])
        self.assertEqual(self.users("contacts", "add", "bob7@127.0.0.1", "alice7@127.0.0.1")[0], 0)
        watching = metric(self.junction, "junction_sip_presence_subscriptions")
        alice = self.run_phone(alice_home, 12)
        # alice watches bob before he appears: her subscription is in place first.
        self.assertTrue(wait_for(lambda: metric(self.junction, "junction_sip_presence_subscriptions") > watching, 10),
                        "alice's SUBSCRIBE was not kept")
        bob = self.run_phone(bob_home, 5)
        published = 0
        deadline = time.monotonic() + 4
        while not published and time.monotonic() < deadline:
            published = metric(self.junction, "junction_sip_presence_publications")
            time.sleep(0.1)
        self.assertEqual(published, 1, "bob's PUBLISH was not kept")
        bob_out = bob.communicate(timeout=30)[0].decode("utf-8", "replace")
        alice_out = alice.communicate(timeout=30)[0].decode("utf-8", "replace")
        plain = re.sub(r"\x1b\[[0-9;]*m", "", alice_out)  # baresip colours the states
        # Online while bob ran, Offline once he unpublished and unregistered.
        states = re.findall(r"<sip:bob7@127\.0\.0\.1> changed status from \w+ to (\w+)", plain)
        self.assertIn("Online", states, alice_out[-3000:] + bob_out[-2000:])
        self.assertEqual(states[-1], "Offline", alice_out[-3000:])
        self.assertLess(states.index("Online"), len(states) - 1)


class AnchoredCallTest(BaresipCallTest):
    """sip.anchor_media: the same two phones, but their SDP names Junction and their RTP goes
    through its relay: each still hears the other, the relay counted the packets, and the call
    (alice's calls are recorded) is on disk with alice's tone on the left and bob's on the right."""
    sip_config = {"digest_algorithms": ["MD5"], "anchor_media": True}
    extra_config = {"recording": {"calls": "users", "users": ["alice@127.0.0.1"]}}

    # Presence does not touch media: BaresipCallTest runs that test, this class does not inherit it
    # (unittest collects only callable test attributes).
    test_a_phone_sees_the_other_come_online_and_go_offline = None

    def test_two_phones_call_each_other_with_audio(self):
        super().test_two_phones_call_each_other_with_audio()
        relayed = self.junction.metrics().sum("junction_sip_media_relayed_packets_total")
        self.assertGreater(relayed, 300, "the media did not go through the relay")
        # The BYE ended the relay, and with it the recording.
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_sip_media_relays") == 0, 5))
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_recordings_active") == 0, 5))
        _s, _h, body = curl(self.junction.url("/api/v1/recordings"))
        calls = [r for r in json.loads(body)["recordings"] if r["kind"] == "call"]
        self.assertEqual(len(calls), 1, body)
        call = calls[0]
        self.assertEqual((call["from"], call["to"]), ("sip:alice@127.0.0.1", "sip:bob@127.0.0.1"))
        self.assertTrue(call["complete"], call)
        # alice talked for about 8 s (her baresip's run).
        self.assertGreater(call["duration_seconds"], 4, call)
        path = os.path.join(self.junction.workdir, "recording.flv")
        status, _h, data = curl(self.junction.url("/recordings/%s.flv" % call["id"]))
        self.assertEqual(status, 200)
        with open(path, "wb") as f:
            f.write(data)
        left, right = channel_tones(path, self.junction.workdir)
        self.assertGreaterEqual(left(440, coverage=True), 0.9, "the caller's tone is not on the left")
        self.assertGreaterEqual(right(1000, coverage=True), 0.9, "the callee's tone is not on the right")
        self.assertLess(left(1000), 0.1)
        self.assertLess(right(440), 0.1)


class SrtpAnchoredCallTest(BaresipCallTest):
    """SRTP (SDES, RFC 4568) through the anchored relay: both phones insist on SRTP
    (mediaenc=srtp-mand: no call without it), their SDP names Junction's relay, and each still
    hears the other's tone: the relay carried the protected packets both ways untouched."""
    sip_config = {"digest_algorithms": ["MD5"], "anchor_media": True}
    test_a_phone_sees_the_other_come_online_and_go_offline = None

    def phone(self, name, password, frequency, rtp_ports, modules=(), account_params="", contacts=()):
        def add_user(aor, pw):
            self.assertEqual(self.users("add", aor, "--password", pw)[0], 0)
        return make_phone(self.junction.workdir, self.junction.sip_address(), name, password, frequency, rtp_ports,
                          add_user, modules, account_params + ";mediaenc=srtp-mand", contacts,
                          audio_modules=("srtp.so",))

    def test_two_phones_call_each_other_with_audio(self):
        super().test_two_phones_call_each_other_with_audio()
        for out in self.outputs:
            self.assertIn("srtp", out.lower(), out[-3000:])  # baresip says which media encryption it set up
        self.assertGreater(self.junction.metrics().sum("junction_sip_media_relayed_packets_total"), 300,
                           "the media did not go through the relay")
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_sip_media_relays") == 0, 5))


class RawDialogUA:
    """A raw UDP user agent for one call through junction: its SIP socket and one RTP socket.
    Speaks just enough SIP for INVITE, re-INVITE, ACK and BYE, and reads the SDP it gets."""

    def __init__(self, sip, user, tag):
        self.sip, self.user, self.tag = sip, user, tag
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.settimeout(3)
        self.rtp_port = self.rtp.getsockname()[1]
        self.cseq = 0

    def close(self):
        self.sock.close()
        self.rtp.close()

    def sdp(self, direction, version):
        return ("v=0\r\no=- 7 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=%s\r\n" % (version, self.rtp_port, direction))

    def receive(self, what):
        """The next datagram starting with `what` (a method, or "SIP/2.0" for a final answer)."""
        while True:
            data, source = self.sock.recvfrom(65536)
            if data.startswith(b"SIP/2.0 1"):
                continue
            if data.startswith(what.encode()):
                return data, source

    def request(self, method, uri, to, call_id, body="", routes=(), cseq=None, where=None):
        self.cseq = cseq or self.cseq + 1
        text = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%s-%d-%s\r\n"
                "Max-Forwards: 70\r\n%sFrom: <sip:%s@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n"
                "CSeq: %d %s\r\nContact: <sip:%s@127.0.0.1:%d>\r\n%sContent-Length: %d\r\n\r\n%s"
                % (method, uri, self.port, self.tag, self.cseq, method.lower(), "".join("Route: %s\r\n" % r for r in routes),
                   self.user, self.tag, to, call_id, self.cseq, method, self.user, self.port,
                   "Content-Type: application/sdp\r\n" if body else "", len(body), body))
        self.sock.sendto(text.encode(), where or self.sip)

    def reply(self, request, source, body):
        lines = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
        keep = [l.decode() for l in lines if l.split(b":", 1)[0].strip().lower() in
                (b"via", b"from", b"call-id", b"cseq", b"record-route")]
        to = header(request, "To")
        if "tag=" not in to:
            to += ";tag=" + self.tag
        self.sock.sendto(("SIP/2.0 200 OK\r\n%s\r\nTo: %s\r\nContact: <sip:%s@127.0.0.1:%d>\r\n"
                          "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
                          % ("\r\n".join(keep), to, self.user, self.port, len(body), body)).encode(), source)


def sdp_port_and_direction(datagram):
    body = datagram.split(b"\r\n\r\n", 1)[1].decode()
    port = int(re.search(r"^m=audio (\d+)", body, re.M).group(1))
    direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)", body, re.M)
    return port, direction.group(1) if direction else "sendrecv"


class AnchoredReinviteTest(SipTestCase):
    """An anchored call stays anchored through re-INVITEs from either side (hold and resume): each
    side keeps being told the relay's port, the direction passes through, RTP still flows
    through the relay, and a refused re-INVITE leaves the relay up."""
    sip_config = {"authenticate": False, "anchor_media": True}

    def test_hold_and_resume_from_both_sides_keep_the_media_on_the_relay(self):
        caller, callee = RawDialogUA(self.sip, "ann", "ann1"), RawDialogUA(self.sip, "ben", "ben1")
        self.addCleanup(caller.close)
        self.addCleanup(callee.close)
        self.assertEqual(raw_register(self.sip, "ben", callee.port), 200)
        call_id = "anchored-reinvite-1"
        caller.request("INVITE", "sip:ben@127.0.0.1", "<sip:ben@127.0.0.1>", call_id, caller.sdp("sendrecv", 1))
        invite, proxy = callee.receive("INVITE")
        to_caller_port, _ = sdp_port_and_direction(invite)  # where the callee is told to send
        self.assertNotEqual(to_caller_port, caller.rtp_port, "the offer was not anchored")
        callee.reply(invite, proxy, callee.sdp("sendrecv", 1))
        ok, _ = caller.receive("SIP/2.0 200")
        to_callee_port, _ = sdp_port_and_direction(ok)  # where the caller is told to send
        self.assertNotEqual(to_callee_port, callee.rtp_port, "the answer was not anchored")
        routes = [header(ok, "Record-Route")]
        self.assertIn("jrelay=", routes[0])
        callee_target = re.search(r"<([^>]+)>", header(ok, "Contact")).group(1)
        caller_target = re.search(r"<([^>]+)>", header(invite, "Contact")).group(1)
        to_callee = header(ok, "To")
        caller.request("ACK", callee_target, to_callee, call_id, routes=routes, cseq=1)

        def relayed_both_ways():
            caller.rtp.sendto(b"\x80\x00\x00\x01" + b"\x00" * 8 + b"from-ann", ("127.0.0.1", to_callee_port))
            self.assertTrue(callee.rtp.recvfrom(2048)[0].endswith(b"from-ann"))
            callee.rtp.sendto(b"\x80\x00\x00\x01" + b"\x00" * 8 + b"from-ben", ("127.0.0.1", to_caller_port))
            self.assertTrue(caller.rtp.recvfrom(2048)[0].endswith(b"from-ben"))
        relayed_both_ways()

        # The caller holds: the callee is offered sendonly at the same relay port, and the answer
        # (recvonly) reaches the caller at the same relay port too.
        caller.request("INVITE", callee_target, to_callee, call_id, caller.sdp("sendonly", 2), routes=routes)
        reinvite, proxy = callee.receive("INVITE")
        self.assertEqual(sdp_port_and_direction(reinvite), (to_caller_port, "sendonly"))
        callee.reply(reinvite, proxy, callee.sdp("recvonly", 2))
        ok2, _ = caller.receive("SIP/2.0 200")
        self.assertEqual(sdp_port_and_direction(ok2), (to_callee_port, "recvonly"))
        caller.request("ACK", callee_target, to_callee, call_id, routes=routes, cseq=caller.cseq)

        # The callee resumes it from its side (its own requests: From is ben, and they may reach
        # another shard than the relay's).
        from_ann = "<sip:ann@127.0.0.1>;tag=ann1"
        callee.request("INVITE", caller_target, from_ann, call_id, callee.sdp("sendrecv", 3), routes=routes, cseq=1)
        reinvite, proxy = caller.receive("INVITE")
        self.assertEqual(sdp_port_and_direction(reinvite), (to_callee_port, "sendrecv"))
        caller.reply(reinvite, proxy, caller.sdp("sendrecv", 3))
        ok3, _ = callee.receive("SIP/2.0 200")
        self.assertEqual(sdp_port_and_direction(ok3), (to_caller_port, "sendrecv"))
        callee.request("ACK", caller_target, from_ann, call_id, routes=routes, cseq=1)
        relayed_both_ways()
        self.assertEqual(self.junction.metrics().sum("junction_sip_media_relays"), 1)

        caller.request("BYE", callee_target, to_callee, call_id, routes=routes)
        bye, proxy = callee.receive("BYE")
        callee.reply(bye, proxy, "")
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_sip_media_relays") == 0, 5))


class OfflineMessageTest(SipTestCase):
    """RFC 3428 MESSAGE for a known user who is not registered: stored (202), delivered when the
    user registers, once, and kept across a restart."""
    sip_config = {"authenticate": False}

    def test_stored_then_delivered_on_registration(self):
        self.stored_then_delivered("ivy", restart=False)

    def test_kept_messages_survive_a_restart(self):
        self.stored_then_delivered("ivy2", restart=True)

    def stored_then_delivered(self, ivy, restart):
        self.assertEqual(self.users("add", "%s@127.0.0.1" % ivy, "--password", "pw")[0], 0)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        sender.settimeout(3)
        port = sender.getsockname()[1]

        def message(to, body, n):
            sender.sendto(("MESSAGE sip:%s@127.0.0.1 SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-off%d\r\nMax-Forwards: 70\r\n"
                           "From: <sip:jack@127.0.0.1>;tag=j%d\r\nTo: <sip:%s@127.0.0.1>\r\n"
                           "Call-ID: offline-%d\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
                           "Content-Length: %d\r\n\r\n%s" % (to, port, n, n, to, n, len(body), body)).encode(),
                          self.sip)
            return status_of(sender.recvfrom(65536)[0])

        self.assertEqual(message(ivy, "while you were out", 1), 202)
        self.assertEqual(message(ivy, "and again", 2), 202)
        self.assertEqual(message("nobody", "to no one", 3), 404)  # not a user of the store
        if restart:
            # The mailbox is written through to the user store: a new process finds it there.
            self.assertEqual(self.junction.stop(), 0)
            self.junction.start()
            host, port = self.junction.sip_address().rsplit(":", 1)
            type(self).sip = (host, int(port))

        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(3)
        phone_port = phone.getsockname()[1]

        def register(n):
            phone.sendto(("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%s%d\r\nMax-Forwards: 70\r\n"
                          "From: <sip:%s@127.0.0.1>;tag=i1\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: %s-reg\r\n"
                          "CSeq: %d REGISTER\r\nContact: <sip:%s@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n"
                          % (phone_port, ivy, n, ivy, ivy, ivy, n, ivy, phone_port)).encode(), self.sip)

        register(1)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            data, _ = phone.recvfrom(65536)
            if data.startswith(b"SIP/2.0"):
                self.assertEqual(status_of(data), 200)
                continue
            self.assertTrue(data.startswith(b"MESSAGE sip:%s@127.0.0.1:%d " % (ivy.encode(), phone_port)), data[:80])
            self.assertIn("sip:jack@127.0.0.1", header(data, "From"))
            self.assertIsNotNone(header(data, "Date"))
            got.append(data.split(b"\r\n\r\n", 1)[1].decode())
            phone.sendto(answer(data, 200, "OK").encode(), self.sip)
        self.assertEqual(sorted(got), ["and again", "while you were out"])

        # Delivered once: the next registration brings nothing more.
        register(2)
        phone.settimeout(1)
        extra = []
        try:
            while True:
                data, _ = phone.recvfrom(65536)
                if not data.startswith(b"SIP/2.0"):
                    extra.append(data[:60])
        except socket.timeout:
            pass
        self.assertEqual(extra, [])
        phone.close()
        sender.close()


class PresenceUA:
    """A minimal SIP user agent over UDP for presence: sends requests, collects their responses,
    and answers every NOTIFY it gets (200, or `notify_status`), keeping them in order."""

    def __init__(self, sip, user):
        self.sip, self.user = sip, user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.notifies = []
        self.notify_status = 200
        self.branch = 0

    def close(self):
        self.sock.close()

    def _receive(self, deadline):
        """One message before `deadline`, NOTIFYs answered and queued; None on timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.sock.settimeout(remaining)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        if data.startswith(b"NOTIFY "):
            head = data.split(b"\r\n\r\n", 1)[0].decode()
            keep = [l for l in head.split("\r\n")[1:] if l.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
            to = [i for i, l in enumerate(keep) if l.lower().startswith("to:")][0]
            if ";tag=" not in keep[to]:
                keep[to] += ";tag=ua"
            reason = "OK" if self.notify_status == 200 else "Call/Transaction Does Not Exist"
            answer = "SIP/2.0 %d %s\r\n%s\r\nContent-Length: 0\r\n\r\n" % (self.notify_status, reason, "\r\n".join(keep))
            self.sock.sendto(answer.encode(), self.sip)
            self.notifies.append(data)
        return data

    def request(self, method, uri, to, extra="", body=b"", call_id=None, cseq=1, to_tag=None, timeout=3):
        """Sends a request as <sip:user@127.0.0.1>; returns its final response."""
        self.branch += 1
        call_id = call_id or "%s-%s-%d@127.0.0.1" % (method.lower(), self.user, self.branch)
        msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%s-%d\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:%s@127.0.0.1>;tag=%s-tag\r\nTo: <%s>%s\r\n"
               "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:%s@127.0.0.1:%d>\r\n%s"
               "Content-Length: %d\r\n\r\n"
               % (method, uri, self.port, self.user, self.branch, self.user, self.user, to,
                  ";tag=" + to_tag if to_tag else "", call_id, cseq, method, self.user, self.port,
                  extra, len(body))).encode() + body
        self.sock.sendto(msg, self.sip)
        deadline = time.monotonic() + timeout
        while True:
            data = self._receive(deadline)
            if data is None:
                raise AssertionError("no answer to %s" % method)
            if data.startswith(b"SIP/2.0") and header(data, "CSeq") == "%d %s" % (cseq, method) and status_of(data) >= 200:
                return data

    def subscribe(self, presentity, expires=600, call_id=None, cseq=1, to_tag=None, uri=None):
        return self.request("SUBSCRIBE", uri or "sip:%s" % presentity, "sip:%s" % presentity,
                            "Event: presence\r\nAccept: application/pidf+xml\r\nExpires: %d\r\n" % expires,
                            call_id=call_id, cseq=cseq, to_tag=to_tag)

    def publish(self, body, expires=600, etag=None, content_type="application/pidf+xml", event="presence"):
        extra = "Event: %s\r\nExpires: %d\r\n" % (event, expires)
        if etag:
            extra += "SIP-If-Match: %s\r\n" % etag
        if body:
            extra += "Content-Type: %s\r\n" % content_type
        target = "sip:%s@127.0.0.1" % self.user
        return self.request("PUBLISH", target, target, extra, body)

    def next_notify(self, timeout=8):
        deadline = time.monotonic() + timeout
        while not self.notifies:
            if self._receive(deadline) is None:
                raise AssertionError("no NOTIFY came within %ss" % timeout)
        return self.notifies.pop(0)

    def no_notify(self, seconds):
        deadline = time.monotonic() + seconds
        while self._receive(deadline) is not None:
            pass
        return not self.notifies


def metric(junction, name):
    """The sum of a /metrics series over its labels (shards)."""
    _status, _headers, body = curl(junction.url("/metrics"))
    return sum(float(l.split()[-1]) for l in body.decode().splitlines()
               if l.startswith(name + "{") or l.startswith(name + " "))


def pidf(entity, basic, note):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" '
            'entity="%s"><tuple id="t1"><status><basic>%s</basic></status><note>%s</note></tuple>'
            '</presence>\n' % (entity, basic, note)).encode()


def body_of(message):
    return message.split(b"\r\n\r\n", 1)[1]


class SlowStoreTest(SipTestCase):
    """No disk on a shard (issue 14): the user store is read by a worker, so a store that takes
    seconds to answer holds up the REGISTERs that need it and nothing else. With one shard, an
    RTMP player keeps getting what its publisher sends while a REGISTER waits for the store."""
    sip_config = {"digest_algorithms": ["MD5"]}
    delay_ms = 3000

    @classmethod
    def setUpClass(cls):
        keys = {"domains": TORTURE_DOMAINS}
        keys.update(cls.sip_config)
        workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % cls.__name__)
        cls.junction = JunctionProcess(sip=keys, workdir=workdir, shards=1,
                                       env={"JUNCTION_TEST_STORE_DELAY_MS": str(cls.delay_ms)}).start()
        cls.addClassCleanup(shutil.rmtree, workdir, True)
        host, port = cls.junction.sip_address().rsplit(":", 1)
        cls.sip = (host, int(port))
        cls.add_user("sam@127.0.0.1", "pw-sam")

    def test_rtmp_players_are_served_while_a_register_waits_for_the_store(self):
        rtmp_port = self.junction.port("rtmp")
        publisher = rc.RtmpClient(rtmp_port)
        player = rc.RtmpClient(rtmp_port)
        self.addCleanup(publisher.close)
        self.addCleanup(player.close)
        psid = publisher.setup("live")
        self.assertEqual(publisher.publish(psid, "slow-store").status().get("code"), "NetStream.Publish.Start")
        sid = player.setup("live")
        self.assertEqual(player.play(sid, "slow-store").status().get("code"), "NetStream.Play.Start")
        publisher.send_message(6, rc.VIDEO, psid, b"\x12before", timestamp=0)
        player.wait_for(lambda m: m.type == rc.VIDEO and b"before" in m.payload, 10, "the first frame")

        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        self.addCleanup(phone.close)
        port = phone.getsockname()[1]
        def register(extra, cseq):
            phone.sendto(("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-slow%d\r\n"
                          "Max-Forwards: 70\r\nFrom: <sip:sam@127.0.0.1>;tag=s\r\nTo: <sip:sam@127.0.0.1>\r\n"
                          "Call-ID: slow-store\r\nCSeq: %d REGISTER\r\nContact: <sip:sam@127.0.0.1:%d>\r\n%s"
                          "Content-Length: 0\r\n\r\n" % (port, cseq, cseq, port, extra)).encode(), self.sip)
        phone.settimeout(10)
        register("", 1)
        challenge = phone.recvfrom(65536)[0]
        self.assertEqual(status_of(challenge), 401, challenge)  # a challenge needs no store
        nonce = header(challenge, "WWW-Authenticate").split('nonce="')[1].split('"')[0]
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
        response = md5("%s:%s:%s" % (md5("sam:127.0.0.1:pw-sam"), nonce, md5("REGISTER:sip:127.0.0.1")))
        register('Authorization: Digest username="sam", realm="127.0.0.1", nonce="%s", uri="sip:127.0.0.1", '
                 'response="%s", algorithm=MD5\r\n' % (nonce, response), 2)
        # The store now takes seconds to answer; the shard goes on relaying media meanwhile.
        for i in range(5):
            publisher.send_message(6, rc.VIDEO, psid, b"\x12during-%d" % i, timestamp=40 * (i + 1))
        for i in range(5):
            player.wait_for(lambda m: m.type == rc.VIDEO and (b"during-%d" % i) in m.payload, 10, "frame %d" % i)
        phone.setblocking(False)
        try:
            early = phone.recvfrom(65536)[0]
        except BlockingIOError:
            early = None
        self.assertIsNone(early, "the REGISTER was answered before the media went through: %r" % early)
        phone.setblocking(True)
        phone.settimeout(self.delay_ms / 1000 + 10)
        self.assertEqual(status_of(phone.recvfrom(65536)[0]), 200)


class PresenceTest(SipTestCase):
    """SIMPLE presence (RFC 3856, 6665, 3903) with raw UDP user agents, so that every byte of what
    was published and what watchers were sent can be compared. Open registrar; watchers are
    authorized by the presentity's contact list in the user store."""
    sip_config = {"authenticate": False}

    def ua(self, user):
        agent = PresenceUA(self.sip, user)
        self.addCleanup(agent.close)
        return agent

    def add_users(self, *names):
        for n in names:
            self.assertEqual(self.users("add", "%s@127.0.0.1" % n, "--password", "pw")[0], 0)

    def metric(self, name):
        return metric(self.junction, name)

    def test_watcher_sees_registration_then_published_state_byte_for_byte(self):
        self.add_users("alice1", "bob1")
        self.assertEqual(self.users("contacts", "add", "alice1@127.0.0.1", "bob1@127.0.0.1")[0], 0)
        bob, alice = self.ua("bob1"), self.ua("alice1")
        ok = bob.subscribe("alice1@127.0.0.1")
        self.assertEqual(status_of(ok), 200, ok)
        self.assertEqual(header(ok, "Expires"), "600")
        first = bob.next_notify()
        self.assertEqual(header(first, "Subscription-State"), "active;expires=600")
        self.assertEqual(header(first, "Event"), "presence")
        self.assertIn(b"<basic>closed</basic>", body_of(first))  # not registered, nothing published

        self.assertEqual(raw_register(self.sip, "alice1", alice.port), 200)
        self.assertIn(b"<basic>open</basic>", body_of(bob.next_notify()))

        document = pidf("sip:alice1@127.0.0.1", "open", "In a meeting &amp; busy")
        published = alice.publish(document)
        self.assertEqual(status_of(published), 200, published)
        etag = header(published, "SIP-ETag")
        self.assertTrue(etag)
        self.assertEqual(body_of(bob.next_notify()), document)  # exactly what alice sent

        # A refresh changes nothing a watcher sees; a modification does.
        refreshed = alice.publish(b"", etag=etag)
        self.assertEqual(status_of(refreshed), 200)
        self.assertNotEqual(header(refreshed, "SIP-ETag"), etag)
        self.assertTrue(bob.no_notify(0.7))
        self.assertEqual(status_of(alice.publish(b"", etag=etag)), 412)  # the old tag is spent
        away = pidf("sip:alice1@127.0.0.1", "closed", "Gone home")
        modified = alice.publish(away, etag=header(refreshed, "SIP-ETag"))
        self.assertEqual(body_of(bob.next_notify()), away)
        # Removing the publication leaves the registration: open again.
        removed = alice.publish(b"", expires=0, etag=header(modified, "SIP-ETag"))
        self.assertEqual(status_of(removed), 200)
        self.assertIn(b"<basic>open</basic>", body_of(bob.next_notify()))

        # Unsubscribing (Expires 0 inside the dialog, sent to the Contact junction gave) ends it
        # with a final NOTIFY.
        contact = header(ok, "Contact").strip("<>")
        bye = bob.subscribe("alice1@127.0.0.1", expires=0, call_id=header(ok, "Call-ID"), cseq=2,
                            to_tag=header(ok, "To").split("tag=")[1], uri=contact)
        self.assertEqual(status_of(bye), 200, bye)
        last = bob.next_notify()
        self.assertEqual(header(last, "Subscription-State"), "terminated;reason=timeout")
        self.assertEqual(int(header(last, "CSeq").split()[0]), 6)  # one dialog, CSeq counting up

    def test_a_watcher_not_on_the_list_waits_until_added(self):
        self.add_users("alice2", "carol2")
        carol = self.ua("carol2")
        ok = carol.subscribe("alice2@127.0.0.1")
        self.assertEqual(status_of(ok), 200, ok)
        pending = carol.next_notify()
        self.assertEqual(header(pending, "Subscription-State"), "pending;expires=600")
        self.assertEqual(body_of(pending), b"")  # no state for a watcher nobody allowed
        # Alice's own presence is hers to watch.
        self.assertEqual(status_of(self.ua("alice2").subscribe("alice2@127.0.0.1")), 200)
        self.assertEqual(self.users("contacts", "add", "alice2@127.0.0.1", "carol2@127.0.0.1")[0], 0)
        code, out = self.users("contacts", "list", "alice2@127.0.0.1")
        self.assertEqual((code, out.strip()), (0, "carol2@127.0.0.1"))
        active = carol.next_notify(timeout=12)  # the pending ones are asked about again every 5 s
        self.assertTrue(header(active, "Subscription-State").startswith("active;"), active)
        self.assertIn(b"<basic>closed</basic>", body_of(active))

    def test_contact_lists_over_the_api(self):
        self.add_users("dave3")
        url = self.junction.url("/api/v1/users/dave3@127.0.0.1/contacts")
        status, _h, _b = curl(url + "/erin3@example.com", "-X", "PUT")
        self.assertEqual(status, 201)
        status, _h, body = curl(url)
        self.assertEqual((status, json.loads(body)), (200, {"contacts": ["erin3@example.com"]}))
        self.assertEqual(curl(url + "/erin3@example.com", "-X", "DELETE").status, 200)
        self.assertEqual(curl(url + "/erin3@example.com", "-X", "DELETE").status, 404)
        self.assertEqual(curl(self.junction.url("/api/v1/users/nobody@127.0.0.1/contacts")).status, 404)
        self.assertEqual(curl(url + "/not-an-address", "-X", "PUT").status, 400)

    def test_a_watcher_that_answers_481_is_forgotten(self):
        self.add_users("frank4", "gina4")
        self.users("contacts", "add", "frank4@127.0.0.1", "gina4@127.0.0.1")
        gina = self.ua("gina4")
        before = self.metric("junction_sip_presence_subscriptions")
        self.assertEqual(status_of(gina.subscribe("frank4@127.0.0.1")), 200)
        gina.next_notify()
        self.assertEqual(self.metric("junction_sip_presence_subscriptions"), before + 1)
        gina.notify_status = 481
        frank = self.ua("frank4")
        self.assertEqual(raw_register(self.sip, "frank4", frank.port), 200)
        gina.next_notify()
        deadline = time.monotonic() + 5
        while self.metric("junction_sip_presence_subscriptions") != before and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.metric("junction_sip_presence_subscriptions"), before)
        self.assertTrue(gina.no_notify(0.5))

    def test_bad_publications_and_subscriptions_get_clear_errors(self):
        self.add_users("hank5")
        hank = self.ua("hank5")
        bad = hank.publish(b"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='x'><tuple>")
        self.assertEqual(status_of(bad), 400)
        self.assertIn(b"Bad PIDF", bad.split(b"\r\n")[0])
        dtd = hank.publish(b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY a 'aaaa'>]>"
                           b"<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='&a;'/>")
        self.assertEqual(status_of(dtd), 400)
        wrong_type = hank.publish(b"hello", content_type="text/plain")
        self.assertEqual(status_of(wrong_type), 415)
        self.assertEqual(header(wrong_type, "Accept"), "application/pidf+xml")
        self.assertEqual(status_of(hank.publish(b"", etag="no-such-tag")), 412)
        other = hank.publish(pidf("sip:hank5@127.0.0.1", "open", "x"), event="dialog")
        self.assertEqual(status_of(other), 489)
        self.assertEqual(header(other, "Allow-Events"), "presence")
        self.assertEqual(status_of(hank.subscribe("nobody@example.invalid")), 403)  # no relay
        self.assertEqual(status_of(hank.subscribe("nobody@127.0.0.1")), 404)  # no such user
        self.assertEqual(status_of(hank.subscribe("hank5@127.0.0.1", expires=5)), 423)
        # And the server is still answering.
        self.assertEqual(status_of(hank.publish(pidf("sip:hank5@127.0.0.1", "open", "fine"))), 200)


class BadInputTest(SipTestCase):
    sip_config = {"udp_rate_limit": 50, "max_message_size": 4096}

    def test_a_flooding_source_is_limited_and_others_are_not(self):
        # While one address floods (far over udp_rate_limit), a client on another address
        # sends OPTIONS as a UA does (retransmitting on T1 = 500 ms): every one is answered.
        limited0 = self.junction.metrics().sum("junction_sip_rate_limited_total")
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.bind(("127.0.0.3", 0))
        self.addCleanup(flood.close)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        self.addCleanup(client.close)
        port = client.getsockname()[1]
        answered = 0
        for i in range(20):
            for j in range(60):
                flood.sendto(b"GARBAGE %d-%d\r\n\r\n" % (i, j), self.sip)
            request = ("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-fl%d\r\n"
                       "Max-Forwards: 70\r\nFrom: <sip:ok@127.0.0.1>;tag=f%d\r\nTo: <sip:127.0.0.1>\r\n"
                       "Call-ID: flood-ok-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (port, i, i, i))
            for wait in (0.5, 1.0, 2.0, 4.0):  # Timer E doubling, as a UA retransmits
                client.sendto(request.encode(), self.sip)
                client.settimeout(wait)
                try:
                    reply, _ = client.recvfrom(65536)
                except socket.timeout:
                    continue
                self.assertTrue(reply.startswith(b"SIP/2.0 200"), reply[:200])
                answered += 1
                break
        self.assertEqual(answered, 20, "the legitimate client went unanswered while another address flooded")
        # The flood itself was limited: 1,200 datagrams against 50 a second.
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_sip_rate_limited_total")
                                 - limited0 > 600, 5), self.junction.metrics().sum("junction_sip_rate_limited_total"))

    def test_oversized_and_binary_datagrams_are_dropped(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.4", 0))
        s.settimeout(0.5)
        before = self.junction.metrics().sum("junction_sip_bad_messages_total")
        # Over sip.max_message_size: not even read, so not answered.
        s.sendto(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + b"X: " + b"a" * 5000 + b"\r\n\r\n", self.sip)
        s.sendto(os.urandom(1200), self.sip)
        with self.assertRaises(socket.timeout):
            s.recvfrom(65536)
        s.close()
        # Counted once the server has read them, which a loaded machine may take longer than the
        # half second above to do: waited for, then exactly two.
        wait_for(lambda: self.junction.metrics().sum("junction_sip_bad_messages_total") - before >= 2, 10)
        self.assertEqual(self.junction.metrics().sum("junction_sip_bad_messages_total") - before, 2)
        code, out = self.sipp("options.xml", "x")
        self.assertEqual(code, 0, out)

    def test_a_header_line_over_the_limit_gets_a_400(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.5", 0))
        s.settimeout(3)
        port = s.getsockname()[1]
        s.sendto(("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5:%d;rport;branch=z9hG4bK-long\r\n"
                  "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: long\r\n"
                  "CSeq: 1 OPTIONS\r\nX-Long: %s\r\nContent-Length: 0\r\n\r\n" % (port, "a" * 3500)).encode(),
                 self.sip)
        reply, _ = s.recvfrom(65536)
        s.close()
        self.assertTrue(reply.startswith(b"SIP/2.0 400 Header Field Too Long\r\n"), reply[:80])

if __name__ == "__main__":
    unittest.main()
