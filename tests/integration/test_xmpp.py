"""XMPP with real clients: slixmpp (Debian's python3-slixmpp) logs in with SCRAM, chats between
two users whose bodies are compared, and a raw socket sends what no client should (malformed XML,
a billion-laughs DTD, a 10 MB stanza, 10,000-deep nesting, an authentication flood) and gets its
stream error while the chat goes on.
"""

import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import xml.etree.ElementTree as ET
import logging
import queue
import shutil
import signal
import socket
import subprocess
import ssl
import tempfile
import threading
import time
import unittest

from junction_process import (JunctionProcess, SLOW, connect, curl, make_certificate, read_until, read_until_close,
                              wait_for)

try:
    import slixmpp
except ImportError:  # tools/setup.sh installs it; CI must not skip
    slixmpp = None

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)


def require_slixmpp():
    if slixmpp is None:
        import os
        why = "python3-slixmpp is not installed (tools/setup.sh installs it)"
        if os.environ.get("CI"):
            raise RuntimeError(why + " (CI is set: not skipped)")
        raise unittest.SkipTest(why)


class Client:
    """A slixmpp client on a thread of its own (its own event loop). Records what it receives."""

    def __init__(self, jid, password, port, mechanism=None, tls=None, plugins=(), keep_running=False, handlers=None):
        """`tls`: None (a plain stream, allowed on loopback), "starttls" or "direct" (`port` is then
        the direct TLS port). `plugins`: more slixmpp plugins ("xep_0198"). `keep_running`: the
        client's loop outlives a lost connection (to reconnect and resume)."""
        self.jid, self.password, self.port, self.mechanism, self.tls = jid, password, port, mechanism, tls
        self.plugins, self.keep_running, self.handlers = plugins, keep_running, handlers or {}
        self.resumed = threading.Event()
        self.messages = queue.Queue()
        self.carbons = queue.Queue()  # ("received" or "sent", the copied message)
        self.presences = queue.Queue()
        self.started = threading.Event()
        self.available = threading.Event()  # the server echoed our own presence: we are available
        self.failed = threading.Event()
        self.ended = threading.Event()
        self.bound_jid = None
        self.loop = None
        self.xmpp = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        xmpp = slixmpp.ClientXMPP(self.jid, self.password)
        xmpp.register_plugin("xep_0203")  # delayed delivery: offline messages say when they came
        xmpp.register_plugin("xep_0280")  # message carbons
        for plugin in self.plugins:
            xmpp.register_plugin(plugin)
        for event, handler in self.handlers.items():
            xmpp.add_event_handler(event, handler)
        if "xep_0077" in self.plugins:
            # slixmpp 1.8 holds every stanza until the session starts, in-band registration's too.
            xmpp._always_send_everything = True
        self.xmpp = xmpp
        if self.mechanism:
            xmpp["feature_mechanisms"].use_mech = self.mechanism
        # The tests' certificates are self-signed.
        xmpp.ssl_context.check_hostname = False
        xmpp.ssl_context.verify_mode = ssl.CERT_NONE
        xmpp.add_event_handler("session_start", self._on_start)
        xmpp.add_event_handler("failed_auth", lambda _e: self.failed.set())
        xmpp.add_event_handler("message", lambda m: self.messages.put(m))
        xmpp.add_event_handler("carbon_received", lambda m: self.carbons.put(("received", m["carbon_received"])))
        xmpp.add_event_handler("carbon_sent", lambda m: self.carbons.put(("sent", m["carbon_sent"])))
        xmpp.add_event_handler("presence_available", self._on_available)
        xmpp.add_event_handler("presence_unavailable", lambda p: self.presences.put(("unavailable", p)))
        xmpp.add_event_handler("presence_unsubscribed", lambda p: self.presences.put(("unsubscribed", p)))
        xmpp.add_event_handler("disconnected", lambda _e: self.ended.set())
        xmpp.add_event_handler("session_resumed", lambda _e: self.resumed.set())
        self._connect()
        try:
            if self.keep_running:
                self.loop.run_until_complete(self._stopping)
            else:
                self.loop.run_until_complete(xmpp.disconnected)
        except Exception:  # noqa: BLE001 - the thread ends with the client either way
            pass
        self.ended.set()
        # What slixmpp left running ends here, before its loop closes.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def _connect(self):
        if self.keep_running and not hasattr(self, "_stopping"):
            self._stopping = self.loop.create_future()
        self.ended.clear()
        self.xmpp.connect(address=("127.0.0.1", self.port), use_ssl=self.tls == "direct",
                          force_starttls=self.tls == "starttls", disable_starttls=self.tls != "starttls")

    def drop(self):
        """Loses the connection: the socket closes, no </stream:stream> is sent."""
        self.loop.call_soon_threadsafe(lambda: self.xmpp.transport and self.xmpp.transport.abort())

    def reconnect(self):
        self.resumed.clear()
        self.loop.call_soon_threadsafe(self._connect)

    def _on_start(self, _event):
        self.bound_jid = str(self.xmpp.boundjid)
        self.xmpp.send_presence()
        self.started.set()

    def _on_available(self, presence):
        if str(presence["from"]) == self.bound_jid:
            self.available.set()
        self.presences.put(("available", presence))

    def send(self, to, body):
        self.loop.call_soon_threadsafe(lambda: self.xmpp.send_message(mto=to, mbody=body, mtype="chat"))

    def call(self, make_coroutine, timeout=10.0):
        """Runs make_coroutine() on the client's loop and returns what it returns."""
        async def run():
            return await make_coroutine()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout * SLOW)

    def do(self, fn):
        """Runs fn() on the client's loop (slixmpp is not thread-safe)."""
        self.loop.call_soon_threadsafe(fn)

    def subscription_of(self, contact):
        roster = self.xmpp.client_roster
        return roster[contact]["subscription"] if contact in roster else None

    def next_message(self, timeout=10.0):
        return self.messages.get(timeout=timeout * SLOW)

    def stop(self):
        if self.loop and not self.ended.is_set():
            self.loop.call_soon_threadsafe(lambda: self.xmpp.disconnect())
        if self.keep_running and self.loop:
            def finish():
                if not self._stopping.done():
                    self._stopping.set_result(True)
            self.loop.call_soon_threadsafe(lambda: self.loop.call_later(1.0, finish))
        self.thread.join(10 * SLOW)


HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")


def raw_exchange(port, chunks, timeout=10.0):
    """Sends `chunks` (bytes) on a fresh connection, then reads until the server closes it.
    Returns everything the server wrote, as text."""
    with connect(port, timeout * SLOW) as s:
        for c in chunks:
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break
        return read_until_close(s, timeout * SLOW).decode("utf-8", "replace")


def read_features(sock):
    """What the server says up to the end of its stream features, as text."""
    return read_until(sock, b"</stream:features>").decode("utf-8", "replace")


def iq_error(client, make_coroutine):
    """The error condition make_coroutine()'s iq got, or None when it succeeded."""
    async def run():
        try:
            await make_coroutine()
        except slixmpp.exceptions.IqError as e:
            return e.iq["error"]["condition"]
        return None
    return client.call(run, 20)


class XmppCase(unittest.TestCase):
    tls_port = None  # a direct TLS listener, where the class has one
    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        cls.junction = JunctionProcess().start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    @classmethod
    def tearDownClass(cls):
        cls.junction.stop()
        report = cls.junction.sanitizer_report()
        cls.junction.cleanup()
        if report:
            raise AssertionError(report)

    def login(self, jid, password, mechanism=None, tls=None):
        c = Client(jid, password, self.tls_port if tls == "direct" else self.port, mechanism, tls)
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        # Messages to a bare JID go to its available resources: wait until the server says so.
        self.assertTrue(c.available.wait(10 * SLOW), "%s's own presence did not come back" % jid)
        return c

    def resumable(self, jid, password):
        """A slixmpp client with stream management (XEP-0198) on, resumable."""
        c = Client(jid, password, self.port, plugins=("xep_0198",), keep_running=True)
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        self.assertTrue(c.available.wait(10 * SLOW), "%s's own presence did not come back" % jid)
        self.assertTrue(wait_for(lambda: c.xmpp["xep_0198"].sm_id is not None, 10 * SLOW),
                        "stream management was not enabled with resumption")
        return c

    def hibernating(self, jid):
        r = curl(self.junction.url("/api/v1/xmpp/sessions"))
        return any(s["jid"] == jid and s["peer"].startswith("(hibernating") for s in json.loads(r.body)["sessions"])

    def chat(self, a, b, text):
        """a sends `text` to b's bare JID; b must receive exactly it, from a's full JID."""
        a.send(b.jid.split("/")[0], text)
        m = b.next_message()
        self.assertEqual(m["body"], text)
        self.assertEqual(str(m["from"]), a.bound_jid)
        self.assertEqual(m["type"], "chat")


class ChatTest(XmppCase):
    def test_two_users_log_in_with_scram_and_chat_both_ways(self):
        alice = self.login("alice@localhost/laptop", "alice-secret", "SCRAM-SHA-256")
        bob = self.login("bob@localhost/phone", "bob-secret", "SCRAM-SHA-1")
        self.assertEqual(alice.bound_jid, "alice@localhost/laptop")
        self.assertEqual(bob.bound_jid, "bob@localhost/phone")
        # Bodies with XML's special characters and non-ASCII text arrive as sent.
        self.chat(alice, bob, "Hello Bob <&> \"quoted\" 'single' \u00e9t\u00e9 \u2603")
        self.chat(bob, alice, "Hi Alice, " + "x" * 5000)
        for i in range(20):
            self.chat(alice, bob, "message %d" % i)
        metrics = self.junction.metrics()
        self.assertGreaterEqual(metrics.sum("junction_xmpp_logins_total"), 2)
        self.assertGreaterEqual(metrics.sum("junction_xmpp_sessions"), 2)

    def test_a_wrong_password_fails_and_an_unknown_user_too(self):
        for jid, password in (("alice@localhost/x", "wrong"), ("nobody@localhost/x", "whatever")):
            c = Client(jid, password, self.port)
            self.addCleanup(c.stop)
            self.assertTrue(c.failed.wait(15 * SLOW), "%s was not refused" % jid)
            self.assertFalse(c.started.is_set())
        self.assertTrue(wait_for(lambda: self.junction.metrics().sum("junction_xmpp_auth_failures_total") >= 2, 10),
                        "the failures were not counted")

    def test_the_same_resource_logging_in_again_replaces_the_first(self):
        first = self.login("alice@localhost/desk", "alice-secret")
        second = self.login("alice@localhost/desk", "alice-secret")
        self.assertTrue(first.ended.wait(10 * SLOW), "the first stream was not closed (conflict)")
        bob = self.login("bob@localhost/phone2", "bob-secret")
        bob.send("alice@localhost/desk", "to the new one")
        m = second.next_message()
        self.assertEqual(m["body"], "to the new one")

    def test_the_admin_api_lists_and_closes_sessions(self):
        c = self.login("alice@localhost/admin-test", "alice-secret")
        status, _h, body = curl(self.junction.url("/api/v1/xmpp/sessions"))
        self.assertEqual(status, 200)
        mine = [s for s in json.loads(body)["sessions"] if s["jid"] == "alice@localhost/admin-test"]
        self.assertEqual(len(mine), 1, body)
        self.assertTrue(mine[0]["bound"])
        self.assertFalse(mine[0]["secure"])
        status, _h, body = curl(self.junction.url("/api/v1/connections"))
        self.assertIn(mine[0]["id"], [c["id"] for c in json.loads(body)["connections"] if c["protocol"] == "xmpp"])
        status, _h, _b = curl(self.junction.url("/api/v1/xmpp/sessions/" + mine[0]["id"]), "-X", "DELETE")
        self.assertEqual(status, 200)
        self.assertTrue(c.ended.wait(10 * SLOW), "the session was not closed")
        status, _h, _b = curl(self.junction.url("/api/v1/xmpp/sessions/" + mine[0]["id"]), "-X", "DELETE")
        self.assertEqual(status, 404)
        status, _h, _b = curl(self.junction.url("/api/v1/xmpp/sessions/not-a-number"), "-X", "DELETE")
        self.assertEqual(status, 404)

    def test_a_message_to_a_user_who_does_not_exist_comes_back_as_an_error(self):
        alice = self.login("alice@localhost/lonely", "alice-secret")
        alice.send("carol@localhost", "anyone?")
        m = alice.next_message()
        self.assertEqual(m["type"], "error")
        self.assertEqual(m["error"]["condition"], "service-unavailable")


class BadInputTest(XmppCase):
    def assert_chat_still_works(self):
        alice = self.login("alice@localhost/a%d" % time.monotonic_ns(), "alice-secret")
        bob = self.login("bob@localhost/b%d" % time.monotonic_ns(), "bob-secret")
        self.chat(alice, bob, "still here")

    def test_each_bad_stream_gets_its_stream_error(self):
        cases = [
            ("not-well-formed", [HEADER.encode(), b"<message><body>x</message>"]),
            ("restricted-xml", [b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
                                b"<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]>"
                                b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                                b"&lol1;"]),
            ("restricted-xml", [HEADER.encode(), b"<!-- a comment -->"]),
            ("policy-violation", [HEADER.encode(), b"<message><body>"] + [b"a" * 65536] * 160),
            ("policy-violation", [HEADER.encode(), b"<a>" * 10000]),
            ("host-unknown", [HEADER.replace("to='localhost'", "to='elsewhere.example'").encode()]),
            ("not-authorized", [HEADER.encode(), b"<message to='bob@localhost'><body>sneaky</body></message>"]),
        ]
        for condition, chunks in cases:
            got = raw_exchange(self.port, chunks)
            self.assertIn("<%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" % condition, got, got[-500:])
            self.assertTrue(got.endswith("</stream:stream>"), got[-200:])
        self.assert_chat_still_works()
        self.assertGreaterEqual(self.junction.metrics().sum("junction_xmpp_stream_errors_total"), len(cases))

    def test_an_authentication_flood_is_cut_off(self):
        auth = (b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>"
                b"biwsbj1hbGljZSxyPWFiY2RlZmdoaWprbA==</auth>"
                b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                b"Yz1iaXdzLHI9YWJjZGVmZ2hpamtsLHA9QUFBQQ==</response>")
        got = raw_exchange(self.port, [HEADER.encode()] + [auth] * 10)
        self.assertGreaterEqual(got.count("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"), 1)
        self.assertIn("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", got)
        self.assert_chat_still_works()

    def test_a_slow_drip_stanza_is_closed_by_the_login_timeout(self):
        junction = JunctionProcess(xmpp={"login_timeout": "1s"}).start()
        try:
            port = junction.port("xmpp")
            got = raw_exchange(port, [HEADER.encode(), b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mech"],
                               timeout=15)
            self.assertIn("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", got)
        finally:
            junction.stop()
            junction.cleanup()


class TlsTest(XmppCase):
    """STARTTLS on the client port and direct TLS (XEP-0368) with a certificate configured:
    TLS is required, PLAIN is offered only inside it, and the SCRAM-PLUS mechanisms bind to it."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        cls.workdir = tempfile.mkdtemp(prefix="junction-xmpp-tls-")
        cert, key = make_certificate(cls.workdir, cn="localhost")
        cls.junction = JunctionProcess(xmpp={"listen": ["127.0.0.1:0"], "tls_listen": ["127.0.0.1:0"],
                                             "tls_certificate": cert, "tls_private_key": key}).start()
        cls.port = cls.junction.port("xmpp")
        cls.tls_port = cls.junction.port("xmpps")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_starttls_and_direct_tls_users_chat(self):
        # slixmpp picks its mechanism itself (a -PLUS one after STARTTLS).
        alice = self.login("alice@localhost/starttls", "alice-secret", tls="starttls")
        bob = self.login("bob@localhost/direct", "bob-secret", tls="direct")
        self.chat(alice, bob, "over STARTTLS and direct TLS \u2713")
        self.chat(bob, alice, "and back")

    def test_plain_is_offered_inside_tls_and_works(self):
        alice = self.login("alice@localhost/plain", "alice-secret", "PLAIN", tls="starttls")
        bob = self.login("bob@localhost/plain", "bob-secret", "PLAIN", tls="direct")
        self.chat(alice, bob, "PLAIN inside TLS")
        wrong = Client("alice@localhost/bad", "nope", self.port, "PLAIN", tls="starttls")
        self.addCleanup(wrong.stop)
        self.assertTrue(wrong.failed.wait(15 * SLOW))

    def test_a_client_that_could_bind_but_does_not_is_refused(self):
        # After STARTTLS slixmpp has binding data; forced to a mechanism without -PLUS it says "y"
        # (it could bind, and thinks the server cannot), which the -PLUS offer shows to be a
        # downgrade (RFC 5802 §6).
        c = Client("alice@localhost/downgraded", "alice-secret", self.port, "SCRAM-SHA-256", tls="starttls")
        self.addCleanup(c.stop)
        self.assertTrue(c.failed.wait(15 * SLOW))
        self.assertFalse(c.started.is_set())

    def test_scram_plus_binds_to_the_tls_session(self):
        # slixmpp 1.8 binds with tls-unique (it predates RFC 9266 and XEP-0440).
        alice = self.login("alice@localhost/plus", "alice-secret", "SCRAM-SHA-256-PLUS", tls="starttls")
        bob = self.login("bob@localhost/plus", "bob-secret", "SCRAM-SHA-1-PLUS", tls="direct")
        self.chat(alice, bob, "bound to the channel")

    def test_tls_is_required_before_logging_in(self):
        with connect(self.port, 10 * SLOW) as s:
            s.sendall(HEADER.encode())
            got = read_features(s)
        self.assertIn("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>", got)
        self.assertNotIn("<mechanisms", got)
        got = raw_exchange(self.port, [HEADER.encode(), b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                                        b"mechanism='SCRAM-SHA-256'>biwsbj1hLHI9YWJj</auth>"])
        self.assertIn("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", got)
        # Inside TLS: the mechanisms, PLAIN and the -PLUS ones with the bindings they take (XEP-0440).
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10 * SLOW) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(HEADER.encode())
                text = read_features(s)
        for mechanism in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
            self.assertIn("<mechanism>%s</mechanism>" % mechanism, text)
        self.assertIn("<channel-binding type='tls-exporter'/>", text)
        self.assertIn("<channel-binding type='tls-server-end-point'/>", text)


class CertificateReloadTest(XmppCase):
    """A renewed certificate at the same path is taken on SIGHUP (as every other protocol's):
    new connections, direct TLS and STARTTLS, get it; streams opened before go on."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        cls.workdir = tempfile.mkdtemp(prefix="junction-xmpp-reload-")
        cls.cert_a, cls.key_a = make_certificate(cls.workdir, "a.pem", "a.key", cn="junction-a")
        cls.cert_b, cls.key_b = make_certificate(cls.workdir, "b.pem", "b.key", cn="junction-b")
        cls.cert, cls.key = os.path.join(cls.workdir, "live.pem"), os.path.join(cls.workdir, "live.key")
        shutil.copy(cls.cert_a, cls.cert)
        shutil.copy(cls.key_a, cls.key)
        cls.log_file = os.path.join(cls.workdir, "junction.log")
        cls.junction = JunctionProcess(server={"log_file": cls.log_file},
                                       xmpp={"listen": ["127.0.0.1:0"], "tls_listen": ["127.0.0.1:0"],
                                             "tls_certificate": cls.cert, "tls_private_key": cls.key}).start()
        cls.port = cls.junction.port("xmpp")
        cls.tls_port = cls.junction.port("xmpps")
        for user in ("alice", "bob", "carol"):
            cls.junction.add_user("%s@localhost" % user, "%s-secret" % user)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def presented(self):
        """The certificate a new direct TLS connection gets, as DER."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10 * SLOW) as raw:
            with context.wrap_socket(raw) as s:
                return s.getpeercert(binary_form=True)

    def der(self, path):
        with open(path) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def log(self):
        with open(self.log_file, errors="replace") as f:
            return f.read()

    def test_a_renewed_certificate_is_taken_and_open_streams_stay(self):
        self.assertEqual(self.presented(), self.der(self.cert_a))
        alice = self.login("alice@localhost/before", "alice-secret", tls="direct")
        bob = self.login("bob@localhost/before", "bob-secret", tls="starttls")
        shutil.copy(self.cert_b, self.cert)
        shutil.copy(self.key_b, self.key)
        self.junction.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in self.log(), 10), self.log())
        self.assertEqual(self.presented(), self.der(self.cert_b))
        # A new STARTTLS stream logs in under the new certificate; the old streams still chat.
        carol = self.login("carol@localhost/after", "carol-secret", tls="starttls")
        self.chat(alice, bob, "across the reload")
        self.chat(carol, alice, "from a stream begun after it")
        # Taking the certificate away would allow plain logins: that needs a restart.
        self.junction.sections["xmpp"]["tls_certificate"] = ""
        self.junction.sections["xmpp"]["tls_private_key"] = ""
        self.junction.write_config()
        got = curl(self.junction.url("/api/v1/reload"), "-X", "POST", "-H", "Content-Type: application/json")
        self.assertEqual(got.status, 409, got.body)
        self.assertIn("xmpp.tls_certificate", json.loads(got.body)["message"])
        self.assertEqual(self.presented(), self.der(self.cert_b))


class OfflineTest(XmppCase):
    """Messages for a user with no available resource wait for them (RFC 6121 §8.5.2.2.1), with
    the time they came (XEP-0203), and outlive a restart."""

    def offline_waiting(self):
        return self.junction.metrics().sum("junction_xmpp_offline_messages")

    def send_while_bob_is_away(self, texts):
        alice = self.login("alice@localhost/sender%d" % time.monotonic_ns(), "alice-secret")
        before = self.offline_waiting()
        for text in texts:
            alice.send("bob@localhost", text)
        self.assertTrue(wait_for(lambda: self.offline_waiting() >= before + len(texts), 10),
                        "the messages were not kept")
        alice.stop()
        return alice

    def receive_as_bob(self, count):
        bob = self.login("bob@localhost/back%d" % time.monotonic_ns(), "bob-secret")
        got = [bob.next_message() for _ in range(count)]
        for m in got:
            self.assertEqual(m["type"], "chat")
            self.assertTrue(str(m["from"]).startswith("alice@localhost/sender"))
            self.assertTrue(m["delay"]["stamp"], "no XEP-0203 delay on an offline message")
        return bob, [m["body"] for m in got]

    def test_messages_wait_for_the_user_in_order(self):
        texts = ["first while away", "second é <&>", "third"]
        self.send_while_bob_is_away(texts)
        _bob, bodies = self.receive_as_bob(len(texts))
        self.assertEqual(bodies, texts)
        self.assertTrue(wait_for(lambda: self.offline_waiting() == 0, 10))

    def test_messages_outlive_a_restart(self):
        self.send_while_bob_is_away(["kept across a restart"])
        self.junction.stop()
        self.junction.start()
        type(self).port = self.junction.port("xmpp")
        self.assertTrue(wait_for(lambda: self.offline_waiting() >= 1, 10), "not read back after the restart")
        _bob, bodies = self.receive_as_bob(1)
        self.assertEqual(bodies, ["kept across a restart"])


class RosterTest(XmppCase):
    """The roster and presence subscriptions (RFC 6121) between two slixmpp users, which approve
    and subscribe back on their own (slixmpp's defaults), then presence both ways."""

    def available_from(self, client, jid):
        while True:
            kind, p = client.presences.get(timeout=10 * SLOW)
            if kind == "available" and str(p["from"]) == jid:
                return

    def test_subscriptions_rosters_and_presence(self):
        alice = self.login("alice@localhost/r1", "alice-secret")
        bob = self.login("bob@localhost/r1", "bob-secret")
        alice.call(lambda: alice.xmpp.get_roster())
        bob.call(lambda: bob.xmpp.get_roster())
        alice.call(lambda: alice.xmpp.update_roster("bob@localhost", name="Bob", groups=["Friends"]))
        alice.do(lambda: alice.xmpp.send_presence_subscription(pto="bob@localhost"))
        # bob approves and subscribes back; alice approves: both see each other.
        self.assertTrue(wait_for(lambda: alice.subscription_of("bob@localhost") == "both" and
                                 bob.subscription_of("alice@localhost") == "both", 15),
                        "subscriptions: alice %r, bob %r" % (alice.subscription_of("bob@localhost"),
                                                             bob.subscription_of("alice@localhost")))
        self.available_from(alice, "bob@localhost/r1")
        self.available_from(bob, "alice@localhost/r1")
        # The roster as the server keeps it, read by a new login.
        again = self.login("alice@localhost/r2", "alice-secret")
        roster = again.call(lambda: again.xmpp.get_roster())
        items = {str(i["jid"]): i for i in roster["roster"]}
        self.assertEqual(items["bob@localhost"]["subscription"], "both")
        self.assertEqual(items["bob@localhost"]["name"], "Bob")
        self.assertEqual(list(items["bob@localhost"]["groups"]), ["Friends"])
        # The new resource was probed for: it sees bob.
        self.available_from(again, "bob@localhost/r1")
        # bob leaving is seen by every resource of alice's.
        bob.stop()
        for client in (alice, again):
            while True:
                kind, p = client.presences.get(timeout=10 * SLOW)
                if kind == "unavailable" and str(p["from"]) == "bob@localhost/r1":
                    break
        # Removing the contact ends both subscriptions on both sides.
        alice.call(lambda: alice.xmpp.del_roster_item("bob@localhost"))
        bob2 = self.login("bob@localhost/r3", "bob-secret")
        roster = bob2.call(lambda: bob2.xmpp.get_roster())
        items = {str(i["jid"]): i for i in roster["roster"]}
        # bob's roster keeps alice (he listed her), with neither subscription left.
        self.assertEqual(items["alice@localhost"]["subscription"], "none")

    def test_a_request_to_nobody_is_answered_unsubscribed(self):
        alice = self.login("alice@localhost/n1", "alice-secret")
        alice.do(lambda: alice.xmpp.send_presence_subscription(pto="nobody@localhost"))
        while True:
            kind, p = alice.presences.get(timeout=10 * SLOW)
            if kind == "unsubscribed":
                break
        self.assertEqual(str(p["from"]), "nobody@localhost")

    def test_a_request_waits_for_a_user_who_is_away(self):
        # Users of their own: the other test's subscriptions do not help this one.
        self.junction.add_user("carol@localhost", "carol-secret")
        self.junction.add_user("dave@localhost", "dave-secret")
        carol = self.login("carol@localhost/w1", "carol-secret")
        carol.call(lambda: carol.xmpp.get_roster())
        carol.do(lambda: carol.xmpp.send_presence_subscription(pto="dave@localhost"))
        self.assertTrue(wait_for(lambda: carol.subscription_of("dave@localhost") is not None, 10))
        self.assertEqual(carol.subscription_of("dave@localhost"), "none")  # asked, not answered
        # dave comes later: the request reaches him, he approves, carol sees him.
        self.login("dave@localhost/w1", "dave-secret")
        self.assertTrue(wait_for(lambda: carol.subscription_of("dave@localhost") in ("to", "both"), 15))
        self.available_from(carol, "dave@localhost/w1")


class ThrottleTest(XmppCase):
    """Failed logins lock the source and the account out for a while (xmpp.auth_failures_allowed):
    while locked, even the right password gets temporary-auth-failure, unchecked."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        # One shard: the counts are per shard, and the test's connections must meet.
        cls.junction = JunctionProcess(shards=1, xmpp={"listen": ["127.0.0.1:0"], "auth_failures_allowed": 2,
                                                       "auth_lockout_max": "2s"}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")

    def attempt(self, password):
        c = Client("alice@localhost/t", password, self.port, "SCRAM-SHA-256")
        self.addCleanup(c.stop)
        deadline = time.monotonic() + 15 * SLOW
        while time.monotonic() < deadline and not (c.started.is_set() or c.failed.is_set()):
            time.sleep(0.02)
        c.stop()
        return c.started.is_set()

    def test_guessing_locks_out_then_the_lock_ends(self):
        for _ in range(3):
            self.assertFalse(self.attempt("wrong"))
        self.assertFalse(self.attempt("alice-secret"), "the right password got in while locked out")
        self.assertGreaterEqual(self.junction.metrics().sum("junction_xmpp_auth_throttled_total"), 1)
        # The lock ends (at most auth_lockout_max), and the right password works again.
        self.assertTrue(wait_for(lambda: self.attempt("alice-secret"), 20), "never let in again")


async def websocket_login(uri, user, password, resource, domain="localhost"):
    """An XMPP client over WebSocket (RFC 7395) written here: the framing, SCRAM-SHA-256 with the
    server's signature checked, and binding. Returns the open socket and the bound JID."""
    import websockets
    ws = await websockets.connect(uri, subprotocols=["xmpp"], open_timeout=10 * SLOW)
    assert ws.subprotocol == "xmpp", ws.subprotocol
    open_frame = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='%s' version='1.0'/>" % domain

    async def element():
        frame = await asyncio.wait_for(ws.recv(), 10 * SLOW)
        return ET.fromstring(frame)  # every message is one whole element with its namespaces

    await ws.send(open_frame)
    opened = await element()
    assert opened.tag == "{urn:ietf:params:xml:ns:xmpp-framing}open", opened.tag
    features = await element()
    mechanisms = [m.text for m in features.iter("{urn:ietf:params:xml:ns:xmpp-sasl}mechanism")]
    assert "SCRAM-SHA-256" in mechanisms, mechanisms
    b64 = lambda b: base64.b64encode(b).decode()
    cnonce = b64(os.urandom(18))
    first_bare = "n=%s,r=%s" % (user, cnonce)
    await ws.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>%s</auth>"
                  % b64(("n,," + first_bare).encode()))
    challenge = await element()
    server_first = base64.b64decode(challenge.text).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = "c=biws,r=" + attrs["r"]
    auth_message = ",".join((first_bare, server_first, without_proof)).encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    await ws.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>"
                  % b64((without_proof + ",p=" + b64(proof)).encode()))
    success = await element()
    assert success.tag == "{urn:ietf:params:xml:ns:xmpp-sasl}success", ET.tostring(success)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = "v=" + b64(hmac.new(server_key, auth_message, hashlib.sha256).digest())
    assert base64.b64decode(success.text).decode() == expected, "the server did not prove itself"
    await ws.send(open_frame)
    await element()
    await element()  # the features after login: bind
    await ws.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  "<resource>%s</resource></bind></iq>" % resource)
    bound = await element()
    jid = bound.find("{urn:ietf:params:xml:ns:xmpp-bind}bind/{urn:ietf:params:xml:ns:xmpp-bind}jid").text
    await ws.send("<presence xmlns='jabber:client'/>")
    return ws, element, jid


class WebSocketTest(XmppCase):
    """XMPP over WebSocket (RFC 7395) on the HTTP listener, chatting with a slixmpp user on TCP."""

    def test_a_websocket_client_and_a_tcp_client_chat(self):
        bob = self.login("bob@localhost/tcp", "bob-secret")
        uri = "ws://%s/xmpp-websocket" % self.junction.http_address()

        async def run():
            ws, element, jid = await websocket_login(uri, "alice", "alice-secret", "browser")
            self.assertEqual(jid, "alice@localhost/browser")
            # Our own presence comes back first: the server has us as available.
            while True:
                e = await element()
                if e.tag == "{jabber:client}presence" and e.get("from") == jid:
                    break
            await ws.send("<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
                          "<body>from a browser &amp; back \u00e9</body></message>")
            bob.send(jid, "from TCP <to> the browser")
            while True:
                e = await element()
                if e.tag == "{jabber:client}message":
                    break
            self.assertEqual(e.find("{jabber:client}body").text, "from TCP <to> the browser")
            self.assertEqual(e.get("from"), "bob@localhost/tcp")
            await ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
            closed = await element()
            self.assertEqual(closed.tag, "{urn:ietf:params:xml:ns:xmpp-framing}close")
            await ws.close()

        asyncio.run(run())
        m = bob.next_message()
        self.assertEqual(m["body"], "from a browser & back \u00e9")
        self.assertEqual(str(m["from"]), "alice@localhost/browser")

    def test_bad_xml_over_websocket_gets_a_stream_error_and_a_close(self):
        uri = "ws://%s/xmpp-websocket" % self.junction.http_address()

        async def run():
            import websockets
            async with websockets.connect(uri, subprotocols=["xmpp"]) as ws:
                await ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>")
                await ws.recv()
                await ws.recv()
                await ws.send("<message><body>x</message>")
                error = ET.fromstring(await asyncio.wait_for(ws.recv(), 10 * SLOW))
                self.assertEqual(error.tag, "{http://etherx.jabber.org/streams}error")
                self.assertIsNotNone(error.find("{urn:ietf:params:xml:ns:xmpp-streams}not-well-formed"))
                close = ET.fromstring(await asyncio.wait_for(ws.recv(), 10 * SLOW))
                self.assertEqual(close.tag, "{urn:ietf:params:xml:ns:xmpp-framing}close")

        asyncio.run(run())


class CarbonsTest(XmppCase):
    """Message carbons (XEP-0280): an account's resource that turned them on gets a copy of what
    its other resources receive and send."""

    def test_copies_of_received_and_sent_messages(self):
        watcher = self.login("alice@localhost/c1", "alice-secret")
        talker = self.login("alice@localhost/c2", "alice-secret")
        bob = self.login("bob@localhost/c", "bob-secret")
        watcher.call(lambda: watcher.xmpp["xep_0280"].enable())
        bob.send("alice@localhost/c2", "to c2 only")
        self.assertEqual(talker.next_message()["body"], "to c2 only")
        direction, copy = watcher.carbons.get(timeout=10 * SLOW)
        self.assertEqual((direction, copy["body"], str(copy["from"])), ("received", "to c2 only", "bob@localhost/c"))
        talker.send("bob@localhost", "from c2")
        self.assertEqual(bob.next_message()["body"], "from c2")
        direction, copy = watcher.carbons.get(timeout=10 * SLOW)
        self.assertEqual((direction, copy["body"], str(copy["to"])), ("sent", "from c2", "bob@localhost"))
        # Turned off, no more copies: the next message's copy would come before bob's answer.
        watcher.call(lambda: watcher.xmpp["xep_0280"].disable())
        talker.send("bob@localhost", "not copied")
        self.assertEqual(bob.next_message()["body"], "not copied")
        bob.send("alice@localhost/c1", "to c1")
        self.assertEqual(watcher.next_message()["body"], "to c1")
        self.assertTrue(watcher.carbons.empty())


class ArchiveTest(XmppCase):
    """Message archives (XEP-0313): what alice and bob said to each other comes back from alice's
    archive in order, bodies compared, page by page forwards and backwards, by correspondent and
    by time; bob's copies carry the ids his archive gives them (stanza-id, XEP-0359)."""

    def mam(self, client):
        client.call(lambda: asyncio.sleep(0, client.xmpp.register_plugin("xep_0313")))
        return client.xmpp["xep_0313"]

    def retrieve(self, client, **kwargs):
        async def run():
            iq = await client.xmpp["xep_0313"].retrieve(timeout=10 * SLOW, **kwargs)
            return [(r["mam_result"]["id"], r["mam_result"]["forwarded"]["stanza"]) for r in iq["mam"]["results"]], iq
        return client.call(run, 20)

    def test_the_history_comes_back_in_order_page_by_page(self):
        alice = self.login("alice@localhost/archive", "alice-secret")
        bob = self.login("bob@localhost/archive", "bob-secret")
        carol_said = "to carol: nobody is there"  # carol does not exist: not archived as delivered
        self.mam(alice)
        self.mam(bob)
        sent = []
        received_ids = {}
        for i in range(12):
            if i == 6:
                # Everything from here on is after `middle` (the server's clock stamps each message).
                time.sleep(0.01)
                middle = datetime.datetime.now(datetime.timezone.utc)
                time.sleep(0.01)
            a, b = (alice, bob) if i % 2 == 0 else (bob, alice)
            text = "message %d <&> \u00e9 from %s" % (i, a.jid.split("@")[0])
            a.send(b.jid.split("/")[0], text)
            m = b.next_message()
            self.assertEqual(m["body"], text)
            if b is bob:
                sid = m.xml.find("{urn:xmpp:sid:0}stanza-id")
                self.assertIsNotNone(sid, "bob's copy has no stanza-id")
                self.assertEqual(sid.get("by"), "bob@localhost")
                received_ids[text] = sid.get("id")
            sent.append((str(a.bound_jid), text))
        alice.send("carol@localhost", carol_said)

        # All of it, in order, with who sent each.
        results, iq = self.retrieve(alice, with_jid=slixmpp.JID("bob@localhost"), rsm={"max": 50})
        got = [(str(m["from"]), m["body"]) for _id, m in results]
        self.assertEqual(got, sent)
        self.assertEqual(iq["mam_fin"].xml.get("complete"), "true")
        self.assertEqual(int(iq["mam_fin"]["rsm"]["count"]), 12)

        # bob's archive ids are the stanza-ids his copies carried.
        bob_results, _ = self.retrieve(bob, with_jid=slixmpp.JID("alice@localhost"))
        bob_ids = {m["body"]: archive_id for archive_id, m in bob_results}
        for text, sid in received_ids.items():
            self.assertEqual(bob_ids[text], sid)

        # Page by page: five at a time, forwards, then the newest page and the one before it.
        async def pages():
            bodies = []
            async for m in alice.xmpp["xep_0313"].iterate(with_jid=slixmpp.JID("bob@localhost"), rsm={"max": 5}):
                bodies.append(m["mam_result"]["forwarded"]["stanza"]["body"])
            return bodies
        self.assertEqual(alice.call(pages, 30), [t for _f, t in sent])
        # Backwards from the newest page (<before/>, then before the first of each page).
        async def backwards():
            bodies = []
            async for m in alice.xmpp["xep_0313"].iterate(with_jid=slixmpp.JID("bob@localhost"), rsm={"max": 5},
                                                          reverse=True):
                bodies.append(m["mam_result"]["forwarded"]["stanza"]["body"])
            return bodies
        self.assertEqual(alice.call(backwards, 30), [t for _f, t in reversed(sent)])

        # By time: only what came after `middle`.
        later, _ = self.retrieve(alice, with_jid=slixmpp.JID("bob@localhost"), start=middle)
        self.assertEqual([m["body"] for _i, m in later], [t for _f, t in sent[6:]])

        # Everyone alice spoke with: the message to carol is there too (sent is archived).
        everything, _ = self.retrieve(alice, rsm={"max": 50})
        self.assertEqual(everything[-1][1]["body"], carol_said)

        # A page after an id the archive does not have is an error, not an empty page.
        async def unknown():
            try:
                await alice.xmpp["xep_0313"].retrieve(rsm={"after": "no-such-id"}, timeout=10 * SLOW)
            except slixmpp.exceptions.IqError as e:
                return e.iq["error"]["condition"]
            return None
        self.assertEqual(alice.call(unknown), "item-not-found")

        # The account says it keeps an archive (disco#info on the bare JID).
        async def features():
            iq = await alice.xmpp["xep_0030"].get_info(jid="alice@localhost", timeout=10 * SLOW)
            return iq["disco_info"]["features"]
        self.assertIn("urn:xmpp:mam:2", alice.call(features))


class ShutdownTest(XmppCase):
    """A server stopped while a stream hibernates (XEP-0198, waiting to be resumed) and a BOSH
    session is open: what holds the shards' timers goes before the shards' loops do, and the
    server stops cleanly (the sanitized build checks the memory). Its own server: it stops it."""

    def test_a_server_stops_cleanly_with_a_stream_hibernating_and_a_bosh_session_open(self):
        c = self.resumable("bob@localhost/stopping", "bob-secret")
        c.drop()
        self.assertTrue(wait_for(lambda: self.hibernating("bob@localhost/stopping"), 10 * SLOW),
                        "the stream did not hibernate")
        r = curl(self.junction.url("/http-bind"), "-X", "POST", "-H", "Content-Type: text/xml", "--data-binary",
                 "<body xmlns='http://jabber.org/protocol/httpbind' rid='100' to='localhost' wait='5' hold='1' "
                 "ver='1.6' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>")
        self.assertEqual(r.status, 200)
        self.assertIn("sid=", r.body.decode() if isinstance(r.body, bytes) else r.body)
        self.junction.stop()
        self.assertEqual(self.junction.proc.returncode, 0, self.junction.stderr_text()[-2000:])
        self.assertEqual(self.junction.sanitizer_report(), "")
        self.assertIn("stopped", self.junction.stderr_text())


class ResumptionTest(XmppCase):
    """Stream management (XEP-0198): slixmpp loses its connection; what is sent to it meanwhile
    waits, and comes when it resumes the stream on a new connection, in order. A client that never
    comes back gets what it missed at its next login (resume_timeout is short here)."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        cls.junction = JunctionProcess(xmpp={"sm_resume_timeout": "3s"}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    def bodies(self, client, count):
        return [client.next_message()["body"] for _ in range(count)]

    def test_a_lost_connection_is_resumed_without_a_lost_message(self):
        alice = self.resumable("alice@localhost/mobile", "alice-secret")
        bob = self.login("bob@localhost/desk", "bob-secret")
        for i in range(3):
            bob.send("alice@localhost/mobile", "before %d" % i)
        self.assertEqual(self.bodies(alice, 3), ["before %d" % i for i in range(3)])
        alice.drop()
        self.assertTrue(wait_for(lambda: self.hibernating("alice@localhost/mobile"), 10 * SLOW),
                        "the server did not keep the stream for resumption")
        away = ["while away %d <&>" % i for i in range(5)]
        for text in away:
            bob.send("alice@localhost/mobile", text)
        alice.reconnect()
        self.assertTrue(alice.resumed.wait(15 * SLOW), "the stream was not resumed")
        got = []
        while len(got) < len(away) or got[-len(away):] != away:
            body = alice.next_message()["body"]
            if body.startswith("before"):
                continue  # sent again: the server had not seen alice's acknowledgement
            got.append(body)
        self.assertEqual(got, away)
        # The resumed stream is the resource's now, both ways; bob never saw alice leave.
        bob.send("alice@localhost/mobile", "after")
        self.assertEqual(alice.next_message()["body"], "after")
        alice.send("bob@localhost", "back")
        self.assertEqual(bob.next_message()["body"], "back")
        self.assertFalse(any(kind == "unavailable" and str(p["from"]) == "alice@localhost/mobile"
                             for kind, p in list(bob.presences.queue)))

    def test_what_a_client_that_never_comes_back_missed_waits_for_its_next_login(self):
        alice = self.resumable("alice@localhost/gone", "alice-secret")
        bob = self.login("bob@localhost/desk2", "bob-secret")
        bob.send("alice@localhost/gone", "seen")
        self.assertEqual(alice.next_message()["body"], "seen")
        alice.drop()
        self.assertTrue(wait_for(lambda: self.hibernating("alice@localhost/gone"), 10 * SLOW))
        bob.send("alice@localhost/gone", "missed 1")
        bob.send("alice@localhost/gone", "missed 2")
        # After sm_resume_timeout the session ends: the resource is gone.
        self.assertTrue(wait_for(lambda: not self.hibernating("alice@localhost/gone"), 20 * SLOW))
        sessions = json.loads(curl(self.junction.url("/api/v1/xmpp/sessions")).body)["sessions"]
        self.assertNotIn("alice@localhost/gone", [s["jid"] for s in sessions])
        again = self.login("alice@localhost/new", "alice-secret")
        self.assertEqual(self.bodies(again, 2), ["missed 1", "missed 2"])


class MucTest(XmppCase):
    """Multi-user chat (XEP-0045) with slixmpp's xep_0045: a room made and configured, its
    subject and history for who comes later, messages to everyone and privately, moderation
    (kick, ban), a members-only room entered by invitation, and an occupant that disconnects
    without leaving seen leaving."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.junction.add_user("carol@localhost", "carol-secret")

    def muc_client(self, jid, password):
        c = Client(jid, password, self.port, plugins=("xep_0045",))
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        self.assertTrue(c.available.wait(10 * SLOW))
        c.room_messages = queue.Queue()
        c.room_presences = queue.Queue()
        c.invites = queue.Queue()
        c.do(lambda: c.xmpp.add_event_handler("groupchat_message", lambda m: c.room_messages.put(m)))
        c.do(lambda: c.xmpp.add_event_handler("groupchat_presence", lambda p: c.room_presences.put(p)))
        c.do(lambda: c.xmpp.add_event_handler("groupchat_invite", lambda m: c.invites.put(m)))
        return c

    def join(self, client, room, nick, **kwargs):
        async def run():
            return await client.xmpp["xep_0045"].join_muc_wait(slixmpp.JID(room), nick, timeout=10 * SLOW, **kwargs)
        return client.call(run, 20)

    def join_error(self, client, room, nick, **kwargs):
        try:
            self.join(client, room, nick, **kwargs)
        except slixmpp.exceptions.PresenceError as e:
            return e.presence["error"]["condition"]
        return None

    def make_room(self, owner, room, nick, **fields):
        pres, _subject, _occupants, _history = self.join(owner, room, nick)
        codes = [int(c) for c in pres["muc"]["status_codes"]]
        self.assertIn(201, codes, "the room was not new")
        async def configure():
            form = await owner.xmpp["xep_0045"].get_room_config(slixmpp.JID(room))
            submit = owner.xmpp["xep_0004"].make_form(ftype="submit")
            for var, value in fields.items():
                submit.add_field(var=var, value=value)
            await owner.xmpp["xep_0045"].set_room_config(slixmpp.JID(room), submit)
            return form
        form = owner.call(configure)
        self.assertIn("muc#roomconfig_membersonly", [f["var"] for f in form["fields"]])

    def next_groupchat(self, client, timeout=10.0):
        while True:
            m = client.room_messages.get(timeout=timeout * SLOW)
            if m["body"]:
                return m

    def test_a_room_with_history_subject_moderation_and_invitations(self):
        room = "lobby@conference.localhost"
        alice = self.muc_client("alice@localhost/muc", "alice-secret")
        bob = self.muc_client("bob@localhost/muc", "bob-secret")
        # The chat service is listed by the server and says what it is.
        async def discover():
            items = await alice.xmpp["xep_0030"].get_items(jid="localhost", timeout=10 * SLOW)
            info = await alice.xmpp["xep_0030"].get_info(jid="conference.localhost", timeout=10 * SLOW)
            return [i[0] for i in items["disco_items"]["items"]], info["disco_info"]["features"]
        items, features = alice.call(discover)
        self.assertIn("conference.localhost", items)
        self.assertIn("http://jabber.org/protocol/muc", features)

        self.make_room(alice, room, "Alice", **{"muc#roomconfig_roomname": "The lobby"})
        alice.do(lambda: alice.xmpp["xep_0045"].set_subject(slixmpp.JID(room), "Today: <&> \u00e9"))
        said = ["first", "second <&>", "third \u2603"]
        for text in said:
            alice.do(lambda t=text: alice.xmpp.send_message(mto=room, mbody=t, mtype="groupchat"))
        for text in said:
            self.assertEqual(self.next_groupchat(alice)["body"], text)

        # bob comes later: alice's presence, the history in order (with delays), the subject.
        _pres, subject, occupants, history = self.join(bob, room, "Bob")
        self.assertEqual(subject["subject"], "Today: <&> \u00e9")
        others = [p for p in occupants if str(p["from"]) != room + "/Bob"]  # slixmpp lists bob too
        self.assertEqual([str(p["from"]) for p in others], [room + "/Alice"])
        self.assertEqual([m["body"] for m in history], said)
        self.assertTrue(all(str(m["from"]) == room + "/Alice" for m in history))
        # Semi-anonymous: bob (not a moderator) does not see alice's real JID; alice does see his.
        item = others[0].xml.find("{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}item")
        self.assertIsNone(item.get("jid"))
        self.assertEqual((item.get("affiliation"), item.get("role")), ("owner", "moderator"))
        def bob_joined():
            while True:
                p = alice.room_presences.get(timeout=10 * SLOW)
                if str(p["from"]) == room + "/Bob":
                    return p
        joined = bob_joined()
        item = joined.xml.find("{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}item")
        self.assertEqual(item.get("jid"), "bob@localhost/muc", str(joined))

        bob.do(lambda: bob.xmpp.send_message(mto=room, mbody="hello all", mtype="groupchat"))
        m = self.next_groupchat(alice)
        self.assertEqual((str(m["from"]), m["body"]), (room + "/Bob", "hello all"))
        # Privately, through the room: bob sees it from alice's nick.
        alice.do(lambda: alice.xmpp.send_message(mto=room + "/Bob", mbody="just you", mtype="chat"))
        m = bob.next_message()
        while m["type"] == "groupchat":  # the room's messages come this way too
            m = bob.next_message()
        self.assertEqual((str(m["from"]), m["body"]), (room + "/Alice", "just you"))

        # Kicked (307): bob is out; what he sends now is refused.
        alice.call(lambda: alice.xmpp["xep_0045"].set_role(slixmpp.JID(room), "Bob", "none", reason="enough"))
        def bob_out(code):
            while True:
                p = bob.room_presences.get(timeout=10 * SLOW)
                if p["type"] == "unavailable" and str(p["from"]) == room + "/Bob":
                    return code in [int(c) for c in p["muc"]["status_codes"]]
        self.assertTrue(bob_out(307))
        # Banned (301): he cannot come back.
        self.join(bob, room, "Bob")
        alice.call(lambda: alice.xmpp["xep_0045"].set_affiliation(slixmpp.JID(room), "outcast", jid=slixmpp.JID("bob@localhost")))
        self.assertTrue(bob_out(301))
        self.assertEqual(self.join_error(bob, room, "Bob"), "forbidden")

        # A members-only room: carol cannot enter; bob, invited by alice (its owner), can.
        club = "club@conference.localhost"
        carol = self.muc_client("carol@localhost/muc", "carol-secret")
        self.make_room(alice, club, "Alice", **{"muc#roomconfig_membersonly": "1"})
        self.assertEqual(self.join_error(carol, club, "Carol"), "registration-required")
        alice.do(lambda: alice.xmpp["xep_0045"].invite(slixmpp.JID(club), slixmpp.JID("bob@localhost"), reason="join us"))
        invite = bob.invites.get(timeout=10 * SLOW)
        self.assertEqual(str(invite["from"]), club)
        self.join(bob, club, "Bob")

        # bob's connection goes without leaving: the room sees him leave (directed presence).
        bob.stop()
        def left():
            while True:
                p = alice.room_presences.get(timeout=15 * SLOW)
                if p["type"] == "unavailable" and str(p["from"]) == club + "/Bob":
                    return True
        self.assertTrue(left())


    def test_a_room_archive_catches_up_who_was_away(self):
        """The room's own archive (XEP-0313 §5): what was said in it comes back in order from the
        room's JID, with the ids the occupants' copies carried as stanza-ids (by the room), but
        for what the sender asked not to be kept; who may read it follows the room's rules, and a
        room that ends takes its archive with it."""
        room = "history@conference.localhost"
        alice = self.muc_client("alice@localhost/mam", "alice-secret")
        bob = self.muc_client("bob@localhost/mam", "bob-secret")
        carol = self.muc_client("carol@localhost/mam", "carol-secret")
        for c in (alice, bob, carol):
            c.call(lambda c=c: asyncio.sleep(0, c.xmpp.register_plugin("xep_0313")))
        self.make_room(alice, room, "Alice")
        self.join(bob, room, "Bob")
        said, ids = [], {}
        for i in range(6):
            speaker, nick = (alice, "Alice") if i % 3 else (bob, "Bob")
            text = "room line %d <&> \u00e9" % i
            m = speaker.xmpp.make_message(mto=room, mbody=text, mtype="groupchat")
            if i == 4:  # not to be kept (XEP-0334)
                m.xml.append(ET.fromstring("<no-store xmlns='urn:xmpp:hints'/>"))
            else:
                said.append((room + "/" + nick, text))
            speaker.do(lambda m=m: m.send())
            got = self.next_groupchat(alice)
            self.assertEqual(got["body"], text)
            sid = got.xml.find("{urn:xmpp:sid:0}stanza-id")
            if i == 4:
                self.assertIsNone(sid, "a message not to be kept has an archive id")
            else:
                self.assertEqual(sid.get("by"), room)
                ids[text] = sid.get("id")

        def retrieve(client, where=room, **kwargs):
            async def run():
                iq = await client.xmpp["xep_0313"].retrieve(jid=slixmpp.JID(where), timeout=10 * SLOW, **kwargs)
                return [(r["mam_result"]["id"], r["mam_result"]["forwarded"]["stanza"]) for r in iq["mam"]["results"]], iq
            return client.call(run, 20)

        # bob leaves; back later, he catches up from the room's archive.
        bob.call(lambda: asyncio.sleep(0, bob.xmpp["xep_0045"].leave_muc(slixmpp.JID(room), "Bob")))
        results, iq = retrieve(bob, rsm={"max": 50})
        self.assertEqual([(str(m["from"]), m["body"]) for _i, m in results], said)
        self.assertEqual([i for i, _m in results], [ids[t] for _f, t in said])
        self.assertEqual(str(iq["from"]), room)
        self.assertEqual(iq["mam_fin"].xml.get("complete"), "true")
        # By occupant: what Bob said.
        results, _ = retrieve(bob, with_jid=slixmpp.JID(room + "/Bob"))
        self.assertEqual([m["body"] for _i, m in results], [t for f, t in said if f.endswith("/Bob")])
        # The newest page of two (<before/>), then the one before it, as a client catching up asks.
        async def newest_pages():
            bodies = []
            async for m in bob.xmpp["xep_0313"].iterate(jid=slixmpp.JID(room), rsm={"max": 2}, reverse=True):
                bodies.append(m["mam_result"]["forwarded"]["stanza"]["body"])
                if len(bodies) == 4:
                    break
            return bodies
        self.assertEqual(bob.call(newest_pages, 30), [t for _f, t in reversed(said)][:4])
        # The room says it keeps an archive.
        async def features():
            return (await alice.xmpp["xep_0030"].get_info(jid=room, timeout=10 * SLOW))["disco_info"]["features"]
        self.assertIn("urn:xmpp:mam:2", alice.call(features))

        # An open room's archive is anyone's but the banned; a members-only room's its members'.
        self.assertEqual(len(retrieve(carol)[0]), len(said))
        club = "secret@conference.localhost"
        self.make_room(alice, club, "Alice", **{"muc#roomconfig_membersonly": "1"})
        alice.do(lambda: alice.xmpp.send_message(mto=club, mbody="members only", mtype="groupchat"))
        self.assertEqual(self.next_groupchat(alice)["body"], "members only")
        async def refused():
            try:
                await carol.xmpp["xep_0313"].retrieve(jid=slixmpp.JID(club), timeout=10 * SLOW)
            except slixmpp.exceptions.IqError as e:
                return e.iq["error"]["condition"]
            return None
        self.assertEqual(carol.call(refused), "forbidden")

        # A temporary room that ends takes its archive: made again, it has none.
        # (After the room's answer to the leave: joining sooner, slixmpp would take that answer for
        # the join's.)
        gone = queue.Queue()
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        alice.do(lambda: alice.xmpp.register_handler(Callback("left", MatchXPath("{jabber:client}presence"), lambda p: (
            gone.put(True) if p["type"] == "unavailable" and str(p["from"]) == club + "/Alice" else None))))
        alice.call(lambda: asyncio.sleep(0, alice.xmpp["xep_0045"].leave_muc(slixmpp.JID(club), "Alice")))
        self.assertTrue(gone.get(timeout=10 * SLOW))
        self.assertIn(201, [int(c) for c in self.join(alice, club, "Alice")[0]["muc"]["status_codes"]])
        results, iq = retrieve(alice, club)
        self.assertEqual((results, iq["mam_fin"]["rsm"]["count"]), ([], "0"))


class ProfileTest(XmppCase):
    """vCards (XEP-0054), blocking (XEP-0191) and client state indication (XEP-0352) with
    slixmpp's plugins."""

    def plugged(self, jid, password, *plugins):
        c = Client(jid, password, self.port, plugins=plugins)
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        self.assertTrue(c.available.wait(10 * SLOW))
        return c

    def error_of(self, client, make_coroutine):
        return iq_error(client, make_coroutine)

    def test_a_vcard_is_published_and_read_by_others(self):
        alice = self.plugged("alice@localhost/v", "alice-secret", "xep_0054")
        bob = self.plugged("bob@localhost/v", "bob-secret", "xep_0054")
        self.assertEqual(self.error_of(bob, lambda: bob.xmpp["xep_0054"].get_vcard(
            "alice@localhost", local=False, timeout=10 * SLOW)), "item-not-found")
        async def publish():
            v = alice.xmpp["xep_0054"].make_vcard()
            v["FN"] = "Alice <&> Liddell \u00e9"
            v["NICKNAME"] = "al"
            await alice.xmpp["xep_0054"].publish_vcard(v, timeout=10 * SLOW)
        alice.call(publish)
        async def read(client, whose):
            iq = await client.xmpp["xep_0054"].get_vcard(whose, local=False, timeout=10 * SLOW)
            return iq["vcard_temp"]["FN"], iq["vcard_temp"]["NICKNAME"]
        self.assertEqual(bob.call(lambda: read(bob, "alice@localhost")), ("Alice <&> Liddell \u00e9", ["al"]))
        self.assertEqual(alice.call(lambda: read(alice, "alice@localhost")), ("Alice <&> Liddell \u00e9", ["al"]))
        # Nobody sets another's vCard.
        async def overwrite():
            v = bob.xmpp["xep_0054"].make_vcard()
            v["FN"] = "not alice"
            await bob.xmpp["xep_0054"].publish_vcard(v, jid=slixmpp.JID("alice@localhost"), timeout=10 * SLOW)
        self.assertEqual(self.error_of(bob, overwrite), "forbidden")
        self.assertEqual(bob.call(lambda: read(bob, "alice@localhost"))[0], "Alice <&> Liddell \u00e9")

    def test_blocking_stops_both_ways_until_unblocked(self):
        alice = self.plugged("alice@localhost/b", "alice-secret", "xep_0191")
        bob = self.login("bob@localhost/b", "bob-secret")
        alice.call(lambda: alice.xmpp["xep_0191"].block(["bob@localhost"], timeout=10 * SLOW))
        blocked = alice.call(lambda: alice.xmpp["xep_0191"].get_blocked(timeout=10 * SLOW))
        self.assertEqual([str(j) for j in blocked["blocklist"]["items"]], ["bob@localhost"])
        # bob's message comes back to him as an error; alice never sees it.
        bob.send("alice@localhost", "let me in")
        m = bob.next_message()
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "service-unavailable"))
        # alice's to bob is refused at her own server, <blocked/> said.
        alice.send("bob@localhost", "hello?")
        m = alice.next_message()
        self.assertEqual((m["type"], m["error"]["condition"]), ("error", "not-acceptable"))
        self.assertIsNotNone(m.xml.find(".//{urn:xmpp:blocking:errors}blocked"))
        alice.call(lambda: alice.xmpp["xep_0191"].unblock(["bob@localhost"], timeout=10 * SLOW))
        bob.send("alice@localhost", "now?")
        self.assertEqual(alice.next_message()["body"], "now?")
        alice.send("bob@localhost", "yes")
        self.assertEqual(bob.next_message()["body"], "yes")

    def test_an_inactive_client_gets_presence_late_and_only_the_last(self):
        alice = self.plugged("alice@localhost/csi", "alice-secret", "xep_0199")
        bob = self.login("bob@localhost/csi", "bob-secret")
        alice.do(lambda: alice.xmpp.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>"))
        # A ping's answer says the server has read the <inactive/> (one stream, in order).
        alice.call(lambda: alice.xmpp["xep_0199"].send_ping("localhost", timeout=10 * SLOW))
        while not alice.presences.empty():
            alice.presences.get()
        for status in ("first", "second", "third"):
            bob.do(lambda s=status: bob.xmpp.send_presence(pto="alice@localhost/csi", pstatus=s))
        bob.send("alice@localhost/csi", "wake up")
        self.assertEqual(alice.next_message()["body"], "wake up")
        statuses = [p["status"] for kind, p in list(alice.presences.queue) if str(p["from"]) == "bob@localhost/csi"]
        self.assertEqual(statuses, ["third"])


class ComplianceTest(XmppCase):
    """What XEP-0479 (Compliance Suites 2023, server) asks the server to advertise, asserted from
    service discovery: each feature here is exercised by the test named beside it in the table in
    docs/xmpp.md ("Compliance")."""

    SERVER = {
        "http://jabber.org/protocol/disco#info": "XEP-0030 (Core)",
        "http://jabber.org/protocol/disco#items": "XEP-0030 (Core)",
        "urn:xmpp:ping": "XEP-0199",
        "urn:xmpp:carbons:2": "XEP-0280 (IM)",
        "urn:xmpp:blocking": "XEP-0191 (IM)",
        "vcard-temp": "XEP-0054 (IM)",
        "urn:xmpp:csi:0": "XEP-0352 (Mobile)",
        "urn:xmpp:sm:3": "XEP-0198 (Mobile)",
    }
    ACCOUNT = {"urn:xmpp:mam:2": "XEP-0313 (IM)", "urn:xmpp:sid:0": "XEP-0359 (IM)",
               "http://jabber.org/protocol/pubsub#publish": "XEP-0163 (Core)",
               "http://jabber.org/protocol/pubsub#publish-options": "XEP-0223, XEP-0402 (IM)",
               "http://jabber.org/protocol/pubsub#config-node-max": "XEP-0402 (IM)",
               "http://jabber.org/protocol/pubsub#last-published": "XEP-0163 (Core)"}
    MUC = {"http://jabber.org/protocol/muc": "XEP-0045 (IM)"}
    UPLOAD = {"urn:xmpp:http:upload:0": "XEP-0363 (IM, Mobile)"}

    def test_advertised_features(self):
        alice = self.login("alice@localhost/compliance", "alice-secret")
        async def features(jid):
            iq = await alice.xmpp["xep_0030"].get_info(jid=jid, timeout=10 * SLOW)
            return set(iq["disco_info"]["features"])
        for where, wanted in (("localhost", self.SERVER), ("alice@localhost", self.ACCOUNT),
                              ("conference.localhost", self.MUC), ("upload.localhost", self.UPLOAD)):
            have = alice.call(lambda w=where: features(w))
            missing = {f: xep for f, xep in wanted.items() if f not in have}
            self.assertEqual(missing, {}, "%s does not advertise these" % where)
        # The account is a personal eventing service (XEP-0163 §6) and the domain lists the
        # upload service (XEP-0363 §2).
        async def account_identities():
            iq = await alice.xmpp["xep_0030"].get_info(jid="alice@localhost", timeout=10 * SLOW)
            return {(i[0], i[1]) for i in iq["disco_info"]["identities"]}
        self.assertIn(("pubsub", "pep"), alice.call(account_identities))
        async def domain_items():
            iq = await alice.xmpp["xep_0030"].get_items(jid="localhost", timeout=10 * SLOW)
            return {i[0] for i in iq["disco_items"]["items"]}
        self.assertEqual(alice.call(domain_items), {"conference.localhost", "upload.localhost"})

    def test_entity_capabilities_stand_for_what_the_server_says(self):
        """XEP-0115: the stream features carry the server's caps; the version is the hash of its
        disco#info, and asking for node#ver gets the same answer."""
        with connect(self.port, 10 * SLOW) as s:
            s.sendall(HEADER.encode())
            features = read_features(s)
        c = ET.fromstring(features[features.index("<c "):features.index("/>", features.index("<c ")) + 2])
        self.assertEqual(c.get("hash"), "sha-1")
        alice = self.login("alice@localhost/caps", "alice-secret")
        async def info(node=None):
            iq = await alice.xmpp["xep_0030"].get_info(jid="localhost", node=node, timeout=10 * SLOW)
            return iq["disco_info"]
        plain = alice.call(info)
        identities = sorted("%s/%s/%s/%s<" % (i[0], i[1], i[2] or "", i[3] or "") for i in plain["identities"])
        text = "".join(identities) + "".join(f + "<" for f in sorted(plain["features"]))
        self.assertEqual(c.get("ver"), base64.b64encode(hashlib.sha1(text.encode()).digest()).decode())
        by_node = alice.call(lambda: info("%s#%s" % (c.get("node"), c.get("ver"))))
        self.assertEqual(sorted(by_node["features"]), sorted(plain["features"]))


class RegistrationTest(XmppCase):
    """In-band registration (XEP-0077) with slixmpp's xep_0077, on by configuration, at most two
    accounts an hour from one address here; a password changed and an account removed in band."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        cls.junction = JunctionProcess(xmpp={"registration": True, "registration_per_hour": 2}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    def register(self, user, password):
        """Connects as user@localhost, registering first; returns (client, the registration's outcome)."""
        outcome = queue.Queue()
        holder = {}

        async def on_register(_form):
            c = holder["client"]
            iq = c.xmpp.Iq()
            iq["type"] = "set"
            iq["register"]["username"] = user
            iq["register"]["password"] = password
            try:
                await iq.send(timeout=10 * SLOW)
                outcome.put("ok")
            except slixmpp.exceptions.IqError as e:
                outcome.put(e.iq["error"]["condition"])
                c.xmpp.disconnect()
        c = Client(user + "@localhost/new", password, self.port, plugins=("xep_0077",),
                   handlers={"register": on_register})
        holder["client"] = c
        self.addCleanup(c.stop)
        return c, outcome.get(timeout=15 * SLOW)

    def test_accounts_are_made_changed_and_removed_in_band(self):
        c, outcome = self.register("newbie", "first-secret")
        self.assertEqual(outcome, "ok")
        self.assertTrue(c.started.wait(15 * SLOW), "the new account did not log in")
        # It is a real account: the store lists it, bob can chat with it.
        listed = subprocess.run([os.environ.get("JUNCTION_BIN", "junction"), "--config", self.junction.config_path,
                                 "users", "list"], stdout=subprocess.PIPE, timeout=20).stdout.decode()
        self.assertIn("newbie", listed)
        self.assertTrue(c.available.wait(10 * SLOW))
        bob = self.login("bob@localhost/r", "bob-secret")
        bob.send("newbie@localhost/new", "welcome")
        self.assertEqual(c.next_message()["body"], "welcome")
        # A taken name is a conflict.
        _c2, outcome = self.register("alice", "not-hers")
        self.assertEqual(outcome, "conflict")
        # A third account from this address within the hour is refused.
        _c3, outcome = self.register("third", "pw")
        self.assertEqual(outcome, "resource-constraint")
        # The new password, then logging in with it.
        c.call(lambda: c.xmpp["xep_0077"].change_password("second-secret", timeout=10 * SLOW))
        again = self.login("newbie@localhost/again", "second-secret")
        # Removed: the stream ends, and the account is gone.
        again.call(lambda: asyncio.sleep(0, again.xmpp.register_plugin("xep_0077")))
        async def remove():
            try:
                await again.xmpp["xep_0077"].cancel_registration(timeout=10 * SLOW)
            except Exception:  # noqa: BLE001 - the stream may end before the answer is read
                pass
        again.call(remove)
        self.assertTrue(again.ended.wait(15 * SLOW))
        gone = Client("newbie@localhost/x", "second-secret", self.port)
        self.addCleanup(gone.stop)
        self.assertTrue(gone.failed.wait(15 * SLOW), "the removed account still logs in")

    def test_registration_is_off_by_default(self):
        other = JunctionProcess().start()
        self.addCleanup(other.cleanup)
        self.addCleanup(other.stop)
        with connect(other.port("xmpp"), 10 * SLOW) as s:
            s.sendall(HEADER.encode())
            features = read_features(s)
            self.assertNotIn("iq-register", features)
            s.sendall(b"<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>x</username>"
                      b"<password>y</password></query></iq>")
            self.assertIn("not-allowed", read_until(s, b"</iq>").decode())


if __name__ == "__main__":
    unittest.main()
