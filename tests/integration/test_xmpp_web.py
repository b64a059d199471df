"""XMPP web clients from npm: strophe.js in headless Chromium (Debian's) over BOSH (XEP-0206,
/http-bind) and over WebSocket (RFC 7395, /xmpp-websocket), and @xmpp/client in Node over
WebSocket, each logging in and exchanging messages with a slixmpp user on TCP, bodies compared.
Then what a broken BOSH client sends: not XML, an unknown session, a domain not served, a request
far ahead of the last one.
"""

import json
import os
import subprocess
import unittest

from junction_process import SLOW, curl
from test_xmpp import Client, XmppCase, require_slixmpp

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.normpath(os.path.join(HERE, "..", "browser"))
PAGE = os.path.join(BROWSER_DIR, "xmpp_page.mjs")
NODE_CLIENT = os.path.join(BROWSER_DIR, "xmpp_node.mjs")


def require_node_modules():
    missing = [m for m in ("strophe.js", "@xmpp/client", "playwright-core")
               if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", m))]
    if missing:
        why = "tests/browser needs `npm ci` (tools/setup.sh runs it): missing %s" % ", ".join(missing)
        if os.environ.get("CI"):
            raise RuntimeError(why + " (CI is set: not skipped)")
        raise unittest.SkipTest(why)


def last_json(stdout):
    lines = [l for l in stdout.decode("utf-8", "replace").splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def post(url, body):
    """POSTs `body` (text/xml) and returns (status, text)."""
    r = curl(url, "-X", "POST", "-H", "Content-Type: text/xml; charset=utf-8", "--data-binary", body)
    return r.status, r.body.decode("utf-8", "replace") if isinstance(r.body, bytes) else r.body


class WebClientsTest(XmppCase):
    @classmethod
    def setUpClass(cls):
        require_node_modules()
        super().setUpClass()  # alice and bob
        cls.junction.add_user("carol@localhost", "carol-secret")

    def answering_bob(self):
        """bob on TCP (slixmpp), answering every chat message with "re: " and its body. A resource
        of each test's own: the last test's bob may still be leaving when this one binds."""
        resource = "tcp-" + self._testMethodName[len("test_"):]
        bob = Client("bob@localhost/" + resource, "bob-secret", self.junction.port("xmpp"))
        self.addCleanup(bob.stop)
        self.assertTrue(bob.started.wait(15 * SLOW))
        self.assertTrue(bob.available.wait(10 * SLOW))
        bob.got = []

        def answer(m):
            if m["type"] in ("chat", "normal") and m["body"]:
                bob.got.append((str(m["from"]), m["body"]))
                bob.xmpp.send_message(mto=m["from"], mbody="re: " + m["body"], mtype="chat")
        bob.do(lambda: bob.xmpp.add_event_handler("message", answer))
        return bob

    def run_client(self, command):
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120 * SLOW,
                              cwd=BROWSER_DIR)
        result = last_json(done.stdout)
        self.assertTrue(result.get("ok"), "%s failed: %r\nstderr: %s\njunction: %s" % (
            os.path.basename(command[-1] if command[0] != "node" else command[1]), result,
            done.stderr.decode("utf-8", "replace")[-2000:], self.junction.stderr_text()[-2000:]))
        return result

    def check_exchange(self, bob, result, jid_prefix, body):
        self.assertTrue(result["jid"].startswith(jid_prefix), result)
        self.assertEqual(result["answer"], "re: " + body)
        self.assertEqual(result["from"], bob.bound_jid)
        self.assertIn((result["jid"], body), bob.got)

    def test_strophe_over_bosh_chats_with_a_tcp_user(self):
        bob = self.answering_bob()
        body = "over BOSH <&> \"quoted\" \u00e9t\u00e9 \u2603"
        # The page is of another origin than the BOSH URL (localhost, not 127.0.0.1), as a web
        # client hosted elsewhere is: each POST is preflighted, and allowed by CORS.
        origin = "http://localhost:%d" % self.junction.port("http")
        result = self.run_client(["node", PAGE, "--url", "http://%s/http-bind" % self.junction.address("http"),
                                  "--jid", "alice@localhost", "--password", "alice-secret",
                                  "--to", "bob@localhost", "--body", body, "--origin", origin + "/"])
        self.assertEqual((result["transport"], result["origin"]), ("bosh", origin))
        self.check_exchange(bob, result, "alice@localhost/", body)

    def test_strophe_over_websocket_chats_with_a_tcp_user(self):
        bob = self.answering_bob()
        body = "over WebSocket from a browser <&>"
        result = self.run_client(["node", PAGE, "--url", "ws://%s/xmpp-websocket" % self.junction.address("http"),
                                  "--jid", "carol@localhost", "--password", "carol-secret",
                                  "--to", "bob@localhost", "--body", body])
        self.assertEqual(result["transport"], "websocket")
        self.check_exchange(bob, result, "carol@localhost/", body)

    def test_xmpp_client_from_npm_over_websocket_chats_with_a_tcp_user(self):
        bob = self.answering_bob()
        body = "from Node <&> \u2603"
        result = self.run_client(["node", "--experimental-websocket", NODE_CLIENT,
                                  "--url", "ws://%s/xmpp-websocket" % self.junction.address("http"),
                                  "--domain", "localhost", "--user", "alice", "--password", "alice-secret",
                                  "--to", "bob@localhost", "--body", body])
        self.check_exchange(bob, result, "alice@localhost/node", body)

    def test_bosh_refuses_what_no_client_should_send(self):
        url = "http://%s/http-bind" % self.junction.address("http")
        status, text = post(url, "this is not XML")
        self.assertEqual(status, 400)
        self.assertIn("bad-request", text)
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='5' sid='0.nosuchsession'/>")
        self.assertIn("type='terminate'", text)
        self.assertIn("item-not-found", text)
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='5' to='elsewhere.example' "
                                 "wait='5' hold='1' ver='1.6' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>")
        self.assertIn("host-unknown", text)
        # A real session, then a request whose rid is far ahead: the session ends.
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='100' to='localhost' "
                                 "wait='5' hold='1' ver='1.6' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>")
        self.assertEqual(status, 200)
        self.assertIn("<stream:features", text)
        self.assertIn("SCRAM-SHA-256", text)
        sid = text.split("sid='", 1)[1].split("'", 1)[0]
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='999' sid='%s'/>" % sid)
        self.assertIn("item-not-found", text)
        # XMPP's own bad input inside a body: a stream error, in a terminating body.
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='200' to='localhost' "
                                 "wait='5' hold='1' ver='1.6' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>")
        sid = text.split("sid='", 1)[1].split("'", 1)[0]
        status, text = post(url, "<body xmlns='http://jabber.org/protocol/httpbind' rid='201' sid='%s'>"
                                 "<message xmlns='jabber:client' to='bob@localhost'><body>x</body></message></body>" % sid)
        self.assertIn("type='terminate'", text)
        self.assertIn("not-authorized", text)


if __name__ == "__main__":
    unittest.main()
