"""XMPP federation with a real Prosody (Debian's `prosody`, started here on its own config, ports and
domain): a Junction user (alice@junction.test) and a Prosody user (bob@prosody.test) subscribe to
each other, see each other's presence and chat both ways over server-to-server streams that
Junction encrypts with STARTTLS and authenticates by dialback (XEP-0220), with Prosody as the
other side's authority. Then what an impostor tries: a stanza before dialback, and a dialback key
Prosody never made for a stream that claims to be prosody.test.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from junction_process import SLOW, JunctionProcess, connect, curl, make_certificate, read_until, read_until_close, wait_for
from test_xmpp import Client, require_slixmpp

HERE = os.path.dirname(os.path.abspath(__file__))


def require_prosody():
    if shutil.which("prosody"):
        return
    why = "prosody is not installed (tools/setup.sh installs it)"
    if os.environ.get("CI"):
        raise RuntimeError(why + " (CI is set: not skipped)")
    raise unittest.SkipTest(why)


def free_port():
    """A port nothing listens on now (Prosody cannot listen on port 0 and say which it got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prosody:
    """Prosody for prosody.test on loopback, plain-password accounts, s2s with dialback over TLS,
    and a route to junction.test's s2s port in place of DNS."""

    def __init__(self, workdir, s2s_port, junction_s2s_port, users):
        self.dir = os.path.join(workdir, "prosody")
        os.makedirs(os.path.join(self.dir, "data", "prosody%2etest", "accounts"))
        for name, password in users.items():
            with open(os.path.join(self.dir, "data", "prosody%2etest", "accounts", name + ".dat"), "w") as f:
                f.write('return { ["password"] = "%s"; };\n' % password)
        self.cert, self.key = make_certificate(self.dir, cn="prosody.test", san="DNS:prosody.test")
        self.c2s_port, self.s2s_port = free_port(), s2s_port
        self.log = os.path.join(self.dir, "prosody.log")
        config = """
run_as_root = true
daemonize = false
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
plugin_paths = {{ "{plugins}" }}
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = "{log}" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
s2s_ports = {{ {s2s} }}
c2s_direct_tls_ports = {{ }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
use_ipv6 = false
authentication = "internal_plain"
storage = "internal"
modules_enabled = {{ "roster", "saslauth", "tls", "dialback", "disco", "ping", "test_s2s_routes" }}
s2s_require_encryption = true
s2s_secure_auth = false
test_s2s_routes = {{ ["junction.test"] = {{ "127.0.0.1", {junction} }} }}
VirtualHost "prosody.test"
ssl = {{ certificate = "{cert}", key = "{key}" }}
""".format(dir=self.dir, plugins=os.path.join(HERE, "prosody"), log=self.log, c2s=self.c2s_port,
           s2s=self.s2s_port, junction=junction_s2s_port, cert=self.cert, key=self.key)
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        with open(self.config, "w") as f:
            f.write(config)
        self.proc = None

    def start(self):
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(["prosody", "--config", self.config, "-F"], stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=subprocess.STDOUT, cwd=self.dir)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("prosody exited: %s" % self.log_text()[-3000:])
            try:
                socket.create_connection(("127.0.0.1", self.c2s_port), 0.5).close()
                socket.create_connection(("127.0.0.1", self.s2s_port), 0.5).close()
                return True
            except OSError:
                return False

        if not wait_for(listening, 20 * SLOW):
            raise AssertionError("prosody did not listen: %s" % self.log_text()[-3000:])
        return self

    def log_text(self):
        text = ""
        for name in ("prosody.log", "stderr.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc:
            self.stderr.close()


class FederationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        require_prosody()
        cls.workdir = tempfile.mkdtemp(prefix="junction-s2s-")
        cert, key = make_certificate(cls.workdir, cn="junction.test", san="DNS:junction.test")
        cls.dead_port = free_port()  # nothing listens there: a server that is down
        prosody_s2s = free_port()
        cls.junction = JunctionProcess(
            xmpp={"domains": ["junction.test"], "tls_certificate": cert, "tls_private_key": key,
                  "s2s_connect_timeout": "10s",
                  "s2s_route": [{"domain": "prosody.test", "address": "127.0.0.1:%d" % prosody_s2s},
                                {"domain": "down.test", "address": "127.0.0.1:%d" % cls.dead_port}]})
        cls.junction.start()
        try:
            cls.junction.add_user("alice@junction.test", "alice-secret")
            cls.prosody = Prosody(cls.workdir, prosody_s2s, cls.junction.port("xmpp-s2s"), {"bob": "bob-secret"})
            cls.prosody.start()
        except BaseException:
            cls.junction.stop()
            cls.junction.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.prosody.stop()
        cls.junction.stop()
        report = cls.junction.sanitizer_report()
        cls.junction.cleanup()
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if report:
            raise AssertionError(report)

    def login(self, jid, password, port):
        c = Client(jid, password, port, tls="starttls")
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        self.assertTrue(c.available.wait(10 * SLOW), "%s's own presence did not come back" % jid)
        # Servers push roster changes to the resources that asked for the roster (RFC 6121 §2.1.6).
        c.call(lambda: c.xmpp.get_roster())
        return c

    def diagnostics(self):
        return "\njunction: %s\nprosody: %s" % (self.junction.stderr_text()[-3000:], self.prosody.log_text()[-4000:])

    def links(self):
        r = curl(self.junction.url("/api/v1/xmpp/s2s"))  # no admin token: loopback may
        self.assertEqual(r.status, 200)
        return json.loads(r.body)["links"]

    def next_message_from(self, client, sender, timeout=20.0):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            try:
                m = client.next_message(max(0.1, deadline - time.monotonic()) / SLOW)
            except Exception:  # noqa: BLE001 - queue.Empty: nothing came
                break
            if str(m["from"]).startswith(sender):
                return m
        self.fail("no message from %s%s" % (sender, self.diagnostics()))

    def test_users_of_junction_and_prosody_subscribe_see_each_other_and_chat(self):
        alice = self.login("alice@junction.test/laptop", "alice-secret", self.junction.port("xmpp"))
        bob = self.login("bob@prosody.test/phone", "bob-secret", self.prosody.c2s_port)
        # alice asks to see bob; slixmpp accepts and asks back (auto_authorize, auto_subscribe).
        alice.do(lambda: alice.xmpp.send_presence_subscription(pto="bob@prosody.test"))
        both = lambda: (alice.subscription_of("bob@prosody.test") == "both" and
                        bob.subscription_of("alice@junction.test") == "both")
        self.assertTrue(wait_for(both, 30 * SLOW), "the subscriptions did not become mutual: alice sees %r, bob %r%s" % (
            alice.subscription_of("bob@prosody.test"), bob.subscription_of("alice@junction.test"), self.diagnostics()))

        # Each sees the other available (presence across the servers, both ways).
        def sees(client, other):
            def check():
                try:
                    return client.xmpp.client_roster[other].resources != {}
                except KeyError:
                    return False
            return check
        self.assertTrue(wait_for(sees(alice, "bob@prosody.test"), 20 * SLOW), "alice never saw bob online" + self.diagnostics())
        self.assertTrue(wait_for(sees(bob, "alice@junction.test"), 20 * SLOW), "bob never saw alice online" + self.diagnostics())

        # Messages both ways, bodies compared, including XML's special characters and non-ASCII.
        for i in range(5):
            text = "to bob #%d <&> \"quoted\" \u00e9t\u00e9 \u2603" % i
            alice.send("bob@prosody.test", text)
            m = self.next_message_from(bob, "alice@junction.test")
            self.assertEqual(m["body"], text)
            self.assertEqual(str(m["from"]), "alice@junction.test/laptop")
            reply = "to alice #%d %s" % (i, "y" * 3000)
            bob.send("alice@junction.test/laptop", reply)
            m = self.next_message_from(alice, "bob@prosody.test")
            self.assertEqual(m["body"], reply)
            self.assertEqual(str(m["from"]), "bob@prosody.test/phone")

        # The admin API shows the link up.
        links = {(l["local"], l["remote"]): l for l in self.links()}
        self.assertTrue(links[("junction.test", "prosody.test")]["ready"], links)

        # Prosody's user pings junction.test itself: Prosody carries it, Junction answers.
        async def ping():
            bob.xmpp.register_plugin("xep_0199")
            return await bob.xmpp["xep_0199"].send_ping("junction.test", timeout=10 * SLOW)
        bob.call(ping, 20)

    def test_a_server_that_is_down_sends_the_message_back_as_an_error(self):
        alice = self.login("alice@junction.test/desk", "alice-secret", self.junction.port("xmpp"))
        alice.send("carol@down.test", "anyone there?")
        m = self.next_message_from(alice, "carol@down.test")
        self.assertEqual(m["type"], "error")
        self.assertEqual(m["error"]["condition"], "remote-server-not-found")
        links = {(l["local"], l["remote"]): l for l in self.links()}
        self.assertFalse(links[("junction.test", "down.test")]["ready"])
        self.assertIn("127.0.0.1:%d" % self.dead_port, links[("junction.test", "down.test")]["last_error"])

    def raw_s2s(self, chunks, until):
        """Sends chunks on a new connection to Junction's s2s port, reading after each until its
        marker is seen; returns everything read."""
        with connect(self.junction.port("xmpp-s2s"), 15 * SLOW) as s:
            seen = b""
            for chunk, marker in zip(chunks, until):
                s.sendall(chunk)
                if marker is None:
                    seen += read_until_close(s, 15 * SLOW)
                    break
                seen += read_until(s, marker)
            return seen.decode("utf-8", "replace")

    def test_a_stanza_before_dialback_and_encryption_is_refused(self):
        header = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' from='prosody.test' to='junction.test' version='1.0'>")
        out = self.raw_s2s([header, b"<message from='bob@prosody.test' to='alice@junction.test'><body>x</body></message>"],
                           [b"</stream:features>", None])
        self.assertIn("<required/>", out)  # STARTTLS, required: a certificate is configured
        self.assertIn("policy-violation", out)
        # A stream to a domain Junction does not serve ends at once.
        out = self.raw_s2s([header.replace(b"to='junction.test'", b"to='elsewhere.test'")], [None])
        self.assertIn("host-unknown", out)

    def test_a_forged_dialback_key_is_denied_by_prosody_and_nothing_gets_through(self):
        import ssl
        alice = self.login("alice@junction.test/forged", "alice-secret", self.junction.port("xmpp"))
        header = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
                  b"xmlns:stream='http://etherx.jabber.org/streams' from='prosody.test' to='junction.test' version='1.0'>")
        with connect(self.junction.port("xmpp-s2s"), 15 * SLOW) as raw:
            raw.sendall(header)
            read_until(raw, b"</stream:features>")
            raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            read_until(raw, b"<proceed")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname="junction.test") as s:
                s.sendall(header)
                features = read_until(s, b"</stream:features>").decode()
                self.assertIn("urn:xmpp:features:dialback", features)
                s.sendall(b"<db:result from='prosody.test' to='junction.test'>" + b"0" * 64 + b"</db:result>")
                verdict = read_until(s, b"/>").decode()
                self.assertIn("type='invalid'", verdict, verdict + self.diagnostics())
                s.sendall(b"<message from='bob@prosody.test' to='alice@junction.test' type='chat'><body>forged</body></message>")
                out = read_until_close(s, 15 * SLOW).decode()
                self.assertIn("not-authorized", out)
        # alice never got the forged message (a real one from bob would come before this marker).
        alice.send("alice@junction.test/forged", "marker")
        m = alice.next_message()
        self.assertEqual(m["body"], "marker")
