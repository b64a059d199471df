"""Every admin route, walked from the server's own route table (GET /api/v1/routes), not from a
list kept here: without the token 401, with a wrong one 401, with the right one 2xx; with no
token configured, served to loopback peers and refused (403) to any other. A route registered
without the admin flag fails the test unless it is one of the few public ones below, and an
admin route this file has no 2xx case for fails it too: a new route gets its case here.

The peer that is not loopback lives in a network namespace the test makes (veth, 10.x
addresses), so nothing outside this machine is contacted."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

import rtmp_client as rc
from junction_process import JunctionProcess, connect, curl, junction_bin, read_response, read_until, simple_get, wait_for
from test_gateway import GatewayClient

# Routes anybody may use: health for load balancers, metrics for Prometheus, the server's
# description, HTTP-FLV plays, WHIP publishes and WHEP plays (which have the application's own
# publish and play tokens), and the WHIP/WHEP sessions those made (each under an unguessable id
# its client was given), XMPP over BOSH (each session authenticates as any XMPP stream does), and
# XMPP's file uploads (a PUT needs a slot's signed URL; a GET an unguessable slot id).
PUBLIC = {"/healthz", "/metrics", "/api/v1/server", "*.flv", "*/whip", "*/whep", "/webrtc/sessions/", "/http-bind",
          "/upload/"}
TOKEN = "adm-" + uuid.uuid4().hex


class Resources:
    """What the 2xx cases act on, made once per server: a held HTTP connection, a published
    stream, a gateway line, a user with a contact, and a finished recording."""

    def __init__(self, test, junction):
        self.test, self.junction = test, junction
        self.user = "ada@127.0.0.1"
        self.doomed_user = "zed@127.0.0.1"
        for user in (self.user, self.doomed_user, "gil@127.0.0.1"):
            subprocess.run([junction_bin(), "--config", junction.config_path, "users", "add", user,
                            "--password", "pw-" + user.split("@")[0]],
                           check=True, timeout=20, stdout=subprocess.DEVNULL)
        # A recording that is over: published to the recording application, then unpublished.
        rec = rc.RtmpClient(junction.port("rtmp"))
        stream = rec.setup("rec")
        status = rec.publish(stream, "cam", "live")
        test.assertEqual(status.status().get("code"), "NetStream.Publish.Start", status)
        rec.send_message(6, 9, stream, b"\x17\x00\x00\x00\x00\x01\x42\x00\x1f\xff\xe1\x00\x04\x67\x42\x00\x1f\x01\x00\x04\x68\xce\x3c\x80")
        rec.send_message(6, 9, stream, b"\x17\x01\x00\x00\x00\x00\x00\x00\x05\x65\x88\x84\x00\x10", timestamp=40)
        rec.close()
        self.recording = wait_for(self.finished_recording, 15)
        test.assertTrue(self.recording, "no finished recording")
        # A live stream, held open.
        self.publisher = rc.RtmpClient(junction.port("rtmp"))
        test.addCleanup(self.publisher.close)
        stream = self.publisher.setup("live")
        test.assertEqual(self.publisher.publish(stream, "admin-cam", "live").status().get("code"),
                         "NetStream.Publish.Start")
        # A gateway line.
        self.line = GatewayClient(junction.port("rtmp"), "gil@127.0.0.1")
        test.addCleanup(self.line.close)
        test.assertEqual(self.line.login("pw-gil").command_name, "_result")
        # An HTTP connection held open, to be closed through the API.
        self.held = connect(junction.port())
        test.addCleanup(self.held.close)
        self.held.sendall(simple_get("/healthz"))
        test.assertEqual(read_response(self.held).status, 200)
        self.held_peer = "127.0.0.1:%d" % self.held.getsockname()[1]
        # An XMPP stream (opened, not logged in), to be closed through the API.
        self.xmpp = connect(junction.port("xmpp"))
        test.addCleanup(self.xmpp.close)
        self.xmpp.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                          b"xmlns:stream='http://etherx.jabber.org/streams' to='127.0.0.1' version='1.0'>")
        test.assertIn(b"</stream:features>", read_until(self.xmpp, b"</stream:features>"))
        self.xmpp_peer = "127.0.0.1:%d" % self.xmpp.getsockname()[1]

    def xmpp_session_id(self):
        r = curl(self.junction.url("/api/v1/xmpp/sessions"), "-H", "Authorization: Bearer " + TOKEN)
        for s in json.loads(r.body)["sessions"]:
            if s["peer"] == self.xmpp_peer:
                return s["id"]
        return None

    def finished_recording(self):
        r = curl(self.junction.url("/api/v1/recordings"), "-H", "Authorization: Bearer " + TOKEN)
        if r.status != 200:
            return None
        done = [x for x in json.loads(r.body)["recordings"] if x.get("stream") == "rec/cam" and x.get("complete")]
        return done[0]["id"] if done else None

    def held_connection_id(self):
        r = curl(self.junction.url("/api/v1/connections"), "-H", "Authorization: Bearer " + TOKEN)
        for c in json.loads(r.body)["connections"]:
            if c["peer"] == self.held_peer:
                return c["id"]
        return None


def cases(res):
    """(method, route) -> (path, curl arguments) that a working route answers 2xx, in the order they
    may run (what removes things comes last)."""
    json_body = lambda body: ("-H", "Content-Type: application/json", "--data-binary", json.dumps(body))
    table = {
        ("GET", "/api/v1/routes"): ("/api/v1/routes", ()),
        ("GET", "/api/v1/connections"): ("/api/v1/connections", ()),
        ("GET", "/api/v1/streams"): ("/api/v1/streams", ()),
        ("GET", "/api/v1/gateway/lines"): ("/api/v1/gateway/lines", ()),
        ("POST", "/api/v1/gateway/lines/"): ("/api/v1/gateway/lines/gil@127.0.0.1/record", json_body({})),
        ("GET", "/api/v1/users"): ("/api/v1/users", ()),
        ("POST", "/api/v1/users"): ("/api/v1/users", json_body({"user": "new@127.0.0.1", "password": "pw"})),
        ("GET", "/api/v1/users/"): ("/api/v1/users/%s/contacts" % res.user, ()),
        ("PUT", "/api/v1/users/"): ("/api/v1/users/%s/contacts/gil@127.0.0.1" % res.user, ()),
        ("GET", "/api/v1/sip/registrations"): ("/api/v1/sip/registrations", ()),
        ("GET", "/api/v1/xmpp/sessions"): ("/api/v1/xmpp/sessions", ()),
        ("GET", "/api/v1/xmpp/s2s"): ("/api/v1/xmpp/s2s", ()),
        ("HEAD", "/api/v1/xmpp/s2s"): ("/api/v1/xmpp/s2s", ()),
        ("HEAD", "/api/v1/xmpp/sessions"): ("/api/v1/xmpp/sessions", ()),
        ("DELETE", "/api/v1/xmpp/sessions/"): ("/api/v1/xmpp/sessions/%s" % res.xmpp_session_id(), ()),
        # The file unchanged: reloaded, nothing changed.
        ("POST", "/api/v1/reload"): ("/api/v1/reload", json_body({})),
        ("GET", "/api/v1/recordings"): ("/api/v1/recordings", ()),
        ("GET", "/api/v1/recordings/"): ("/api/v1/recordings/" + res.recording, ()),
        ("GET", "/recordings/"): ("/recordings/%s.flv" % res.recording, ()),
        ("GET", "/api/v1/streams/"): ("/api/v1/streams/live/admin-cam", ()),
        ("DELETE", "/api/v1/streams/"): ("/api/v1/streams/live/admin-cam", ()),
        ("DELETE", "/api/v1/connections/"): (None, ()),  # the held connection's id, found when run
        ("DELETE", "/api/v1/users/"): ("/api/v1/users/" + res.doomed_user, ()),
        ("DELETE", "/api/v1/recordings/"): ("/api/v1/recordings/" + res.recording, ()),
    }
    ordered = {}
    for (method, route), case in table.items():
        ordered[(method, route)] = case
        if method == "GET":  # HEAD right after its GET, before anything is removed
            ordered[("HEAD", route)] = case
    return ordered


def request(junction, method, path, args, *auth):
    verb = ("-I",) if method == "HEAD" else ("-X", method)
    return curl(junction.url(path), *verb, *args, *auth)


class RouteTable:
    """The server's routes, from GET /api/v1/routes."""

    @staticmethod
    def read(test, junction, *auth):
        r = curl(junction.url("/api/v1/routes"), *auth)
        test.assertEqual(r.status, 200, r.body)
        return json.loads(r.body)["routes"]


class AdminRoutesWithTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-admin-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.junction = JunctionProcess(http={"admin_token": TOKEN}, sip={"digest_algorithms": ["MD5"]},
                                       rtmp_apps=[{"name": "rec", "record": True}, {"name": "*"}],
                                       workdir=cls.workdir).start()
        cls.addClassCleanup(cls.junction.cleanup)

    def test_every_route_is_public_by_name_or_refuses_without_the_token(self):
        routes = RouteTable.read(self, self.junction, "-H", "Authorization: Bearer " + TOKEN)
        paths = {r["path"] for r in routes}
        # The table is the server's: what every module registers is there.
        for expected in ("/api/v1/connections", "/api/v1/streams", "/api/v1/gateway/lines", "/api/v1/users",
                         "/api/v1/recordings", "/recordings/", "/api/v1/sip/registrations", "/api/v1/routes",
                         "/api/v1/xmpp/sessions"):
            self.assertIn(expected, paths)
        for r in routes:
            with self.subTest(route=r["path"]):
                if r["path"] in PUBLIC:
                    self.assertFalse(r["admin"], "%s is meant to be public" % r["path"])
                else:
                    self.assertTrue(r["admin"], "%s is registered without the admin flag: an admin route, "
                                                "or one to name in PUBLIC with the reason" % r["path"])

        res = Resources(self, self.junction)
        table = cases(res)
        refused = 0
        for r in routes:
            if not r["admin"]:
                continue
            for method in r["methods"]:
                key = (method, r["path"])
                self.assertIn(key, table, "admin route %s %s has no case in test_admin.py: add one" % key)
                path, args = table[key]
                path = path or "/api/v1/connections/%s" % (res.held_connection_id() or "1")
                with self.subTest(method=method, path=path):
                    none = request(self.junction, method, path, args)
                    self.assertEqual(none.status, 401, none.body)
                    self.assertTrue(none.header("www-authenticate", "").startswith("Bearer"), none.headers)
                    wrong = request(self.junction, method, path, args, "-H", "Authorization: Bearer not-" + TOKEN)
                    self.assertEqual(wrong.status, 401, wrong.body)
                    refused += 2
        self.assertGreater(refused, 2 * 15)
        # Nothing was changed by the refused requests: every resource is still there for the
        # right token, which now gets 2xx from every case, in order.
        for key, (path, args) in table.items():
            if key[1] not in paths:
                continue
            path = path or "/api/v1/connections/%s" % res.held_connection_id()
            with self.subTest(method=key[0], path=path):
                ok = request(self.junction, key[0], path, args, "-H", "Authorization: Bearer " + TOKEN)
                self.assertTrue(200 <= ok.status < 300, "%s %s: %d %r" % (key[0], path, ok.status, ok.body[:300]))
        self.assertGreater(self.junction.metrics().sum("junction_http_auth_failures_total"), refused - 1)


def make_namespace(test):
    """A network namespace with one veth link to this one: (host address, namespace name), or a
    skip when this machine cannot make one (no root, no CAP_NET_ADMIN)."""
    tag = "%x" % (os.getpid() & 0xffff)
    ns, host_if, ns_if = "jt-" + tag, "jth" + tag, "jtn" + tag
    subnet = 16 + os.getpid() % 200
    host_ip, ns_ip = "10.213.%d.1" % subnet, "10.213.%d.2" % subnet

    def ip(*args, netns=None):
        cmd = (["ip", "netns", "exec", netns, "ip"] if netns else ["ip"]) + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20)

    made = ip("netns", "add", ns)
    if made.returncode != 0:
        test.skipTest("cannot make a network namespace here: " + made.stderr.strip())
    test.addCleanup(lambda: ip("netns", "del", ns))
    test.addCleanup(lambda: ip("link", "del", host_if))
    for step in (ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if),
                 ip("link", "set", ns_if, "netns", ns),
                 ip("addr", "add", host_ip + "/30", "dev", host_if),
                 ip("link", "set", host_if, "up"),
                 ip("addr", "add", ns_ip + "/30", "dev", ns_if, netns=ns),
                 ip("link", "set", ns_if, "up", netns=ns),
                 ip("link", "set", "lo", "up", netns=ns)):
        test.assertEqual(step.returncode, 0, step.stderr)
    return host_ip, ns


class AdminRoutesWithoutTokenTest(unittest.TestCase):
    """No http.admin_token: loopback peers are the operators; a peer on another address gets 403
    from every admin route, whatever it sends."""

    def test_loopback_only(self):
        host_ip, ns = make_namespace(self)
        workdir = tempfile.mkdtemp(prefix="junction-it-admin-open-")
        self.addCleanup(shutil.rmtree, workdir, True)
        junction = JunctionProcess(http={"listen": ["127.0.0.1:0", host_ip + ":0"]},
                                   sip={"digest_algorithms": ["MD5"]}, workdir=workdir).start()
        self.addCleanup(junction.cleanup)
        routes = RouteTable.read(self, junction)
        outside_port = [int(a.rsplit(":", 1)[1]) for p, t, a in junction.listeners
                        if p == "http" and a.startswith(host_ip)][0]
        admin = [(m, r["path"]) for r in routes if r["admin"] for m in r["methods"]]
        self.assertGreater(len(admin), 15)
        for method, route in admin:
            path = route.replace("*", "x") + ("x" if route.endswith("/") else "")
            with self.subTest(method=method, path=path):
                verb = ["-I"] if method == "HEAD" else ["-X", method]
                outside = subprocess.run(
                    ["ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     "--max-time", "10", *verb, "-H", "Content-Type: application/json",
                     "http://%s:%d%s" % (host_ip, outside_port, path)],
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(outside.stdout, "403", outside.stderr)
                inside = curl(junction.url(path), *verb, "-H", "Content-Type: application/json")
                self.assertNotIn(inside.status, (401, 403), inside.body)
        # The public routes answer the outside peer as they answer anyone.
        outside = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                  "--max-time", "10", "http://%s:%d/healthz" % (host_ip, outside_port)],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(outside.stdout, "200")


if __name__ == "__main__":
    unittest.main()
