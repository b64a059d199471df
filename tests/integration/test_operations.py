"""What an operator meets running junction as a service (issue 16): a second junction on the same
listen addresses is refused, `junction users` says which database it changed and warns when the
running server reads another, and a configuration that names no web root serves the default one
whatever the working directory."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

import rtmp_client as rc
from junction_process import JunctionProcess, curl, junction_bin, make_certificate, wait_for
from phones import RawPhone, free_udp_port
from test_gateway import GatewayClient
from test_rtmp import HealthyPlayer

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


def make_named_certificate(folder, name):
    """A self-signed certificate named `name` (its CN too): (certificate path, key path)."""
    return make_certificate(folder, name + ".pem", name + ".key", cn=name)


def presented_certificate(address, **context_options):
    """The PEM certificate a TLS listener presents now (or the SSLError)."""
    host, port = address.rsplit(":", 1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for k, v in context_options.items():
        setattr(context, k, v)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True))


def publish_test_stream(test, junction, seconds):
    """ffmpeg publishing a test picture (H.264, a keyframe a second) to live/cam for `seconds`,
    once the stream is listed; killed after the test."""
    publisher = subprocess.Popen(FFMPEG + ["-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", str(seconds),
                                           "-c:v", "libx264", "-g", "25", "-f", "flv", junction.rtmp_url("live", "cam")])
    test.addCleanup(publisher.wait)
    test.addCleanup(publisher.kill)
    test.assertTrue(wait_for(lambda: '"cam"' in curl(junction.url("/api/v1/streams")).body.decode(), 10))
    return publisher


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def same_certificate(pem, path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(f.read())


def run(args, env=None, cwd=None, timeout=20):
    done = subprocess.run([junction_bin()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, cwd=cwd, timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


class SecondInstanceTest(unittest.TestCase):
    def fixed_ports(self, **server):
        workdir = tempfile.mkdtemp(prefix="junction-it-second-")
        self.addCleanup(shutil.rmtree, workdir, True)
        junction = JunctionProcess(workdir=workdir, server=server,
                                   http={"listen": ["127.0.0.1:%d" % free_udp_port()]},
                                   rtmp={"listen": ["127.0.0.1:%d" % free_udp_port()]},
                                   sip={"listen": ["127.0.0.1:%d" % free_udp_port()]}).start()
        self.addCleanup(junction.cleanup)
        return junction

    def test_a_second_junction_on_the_same_ports_exits_1(self):
        first = self.fixed_ports()
        code, out, err = run(["--config", first.config_path], cwd=first.workdir)
        self.assertEqual(code, 1, out + err)
        self.assertIn("another junction is already listening on tcp %s" % first.address("http"), err)
        self.assertNotIn("listening:", out)
        # The first one is untouched.
        self.assertEqual(curl(first.url("/healthz")).status, 200)

    def test_share_listeners_lets_a_second_one_start(self):
        first = self.fixed_ports(share_listeners=True)
        second = JunctionProcess(workdir=tempfile.mkdtemp(prefix="junction-it-second-b-"), server={"share_listeners": True},
                                 http={"listen": [first.address("http")]}, rtmp={"listen": [first.address("rtmp")]},
                                 sip={"listen": [first.address("sip")]}).start()
        self.addCleanup(second.cleanup)
        self.assertEqual(second.address("http"), first.address("http"))


class UsersDatabaseTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="junction-it-home-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = dict(os.environ, HOME=self.home)
        self.env.pop("XDG_STATE_HOME", None)
        self.env.pop("STATE_DIRECTORY", None)

    def test_without_a_configuration_the_state_folder_is_used_from_anywhere(self):
        state = os.path.join(self.home, ".local", "state", "junction")
        elsewhere = tempfile.mkdtemp(prefix="junction-it-cwd-")
        self.addCleanup(shutil.rmtree, elsewhere, True)
        code, out, err = run(["users", "add", "ann@127.0.0.1", "--password", "pw"], env=self.env, cwd=elsewhere)
        self.assertEqual(code, 0, err)
        self.assertIn("user store: %s" % os.path.join(state, "users.sqlite"), out)
        self.assertEqual(os.listdir(elsewhere), [], "a database was made in the working directory")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)
        # Another working directory, the same store.
        code, out, err = run(["users", "list"], env=self.env, cwd=self.home)
        self.assertIn("ann@127.0.0.1", out)

    def test_a_change_to_a_database_the_running_server_does_not_read_is_warned(self):
        junction = JunctionProcess().start()
        self.addCleanup(junction.cleanup)
        server_db = os.path.join(junction.workdir, "junction-users.sqlite")
        code, out, err = run(["users", "add", "bo@127.0.0.1", "--password", "pw"], env=self.env, cwd=self.home)
        self.assertEqual(code, 0, err)
        self.assertIn("warning: a running junction reads %s" % server_db, err)
        code, out, err = run(["--config", junction.config_path, "users", "add", "bo@127.0.0.1", "--password", "pw"],
                             env=self.env)
        self.assertEqual(code, 0, err)
        self.assertIn("user store: %s" % server_db, out)
        self.assertNotIn("warning", err)


class StartupTest(unittest.TestCase):
    def test_every_listener_is_listed_once_sip_over_websocket_too(self):
        junction = JunctionProcess().start()
        self.addCleanup(junction.cleanup)
        http = junction.address("http")
        self.assertTrue(wait_for(lambda: ("sip", "ws", "ws://%s/sip" % http) in junction.listeners, 5),
                        junction.listeners)
        self.assertEqual(len(junction.listeners), len(set(junction.listeners)), junction.listeners)
        logged = [l for l in junction.stderr_text().splitlines() if "listening: " in l]
        self.assertEqual(len(logged), len(junction.listeners), logged)
        info = json.loads(curl(junction.url("/api/v1/server")).body)
        self.assertIn({"protocol": "sip", "transport": "ws", "address": "ws://%s/sip" % http}, info["listeners"])
        # Without SIP over WebSocket there is nothing to list.
        plain = JunctionProcess(sip={"websocket": False}).start()
        self.addCleanup(plain.cleanup)
        self.assertFalse([l for l in plain.listeners if l[1] == "ws"])


    def test_a_configuration_without_web_root_serves_the_default_page(self):
        # Started from a folder of its own (JunctionProcess's workdir), not the repository.
        junction = JunctionProcess().start()
        self.addCleanup(junction.cleanup)
        got = curl(junction.url("/"))
        self.assertEqual(got.status, 200, junction.stderr_text()[-1000:])
        self.assertIn(b"<title>", got.body)
        self.assertNotIn("is not a directory", junction.stderr_text())


class TlsSettingsTest(unittest.TestCase):
    """tls_min_version / tls_max_version / tls_ciphers on every TLS listener. rtmpdump (Debian 12's
    librtmp over GnuTLS) fails its handshake against TLS 1.3 and plays with tls_max_version = "1.2"."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.cert, cls.key = make_named_certificate(cls.workdir, "junction-tls")

    def server(self, **tls):
        keys = {"listen": ["127.0.0.1:0"], "tls_listen": ["127.0.0.1:0"], "tls_certificate": self.cert,
                "tls_private_key": self.key}
        keys.update(tls)
        junction = JunctionProcess(rtmp=keys, http={"tls_listen": ["127.0.0.1:0"], "tls_certificate": self.cert,
                                                   "tls_private_key": self.key, "tls_min_version": "1.3"}).start()
        self.addCleanup(junction.cleanup)
        return junction

    def test_versions_are_enforced_and_rtmpdump_plays_with_tls_1_2(self):
        junction = self.server(tls_max_version="1.2")
        rtmps = junction.address("rtmps")
        # The RTMPS listener speaks TLS 1.2 and not 1.3; the HTTPS one 1.3 only.
        self.assertTrue(same_certificate(presented_certificate(rtmps, maximum_version=ssl.TLSVersion.TLSv1_2),
                                         self.cert))
        with self.assertRaises(ssl.SSLError):
            presented_certificate(rtmps, minimum_version=ssl.TLSVersion.TLSv1_3)
        with self.assertRaises(ssl.SSLError):
            presented_certificate(junction.address("https"), maximum_version=ssl.TLSVersion.TLSv1_2)
        self.assertTrue(presented_certificate(junction.address("https"), minimum_version=ssl.TLSVersion.TLSv1_3))
        # rtmpdump plays over RTMPS.
        publish_test_stream(self, junction, seconds=20)
        out = os.path.join(self.workdir, "rtmpdump.flv")
        done = subprocess.run(["rtmpdump", "-r", "rtmps://%s/live/cam" % rtmps, "-o", out, "-B", "2"],
                              capture_output=True, timeout=30)
        self.assertNotIn(b"ERROR", done.stderr, done.stderr.decode()[-1000:])
        self.assertGreater(os.path.getsize(out), 1000)

    def test_bad_settings_are_refused_with_their_key(self):
        for keys, said in (({"tls_min_version": "1.4"}, "rtmp.tls_min_version"),
                           ({"tls_min_version": "1.3", "tls_max_version": "1.2"}, "rtmp.tls_min_version is above"),
                           ({"tls_ciphers": "NO-SUCH-CIPHER"}, "rtmp.tls_ciphers")):
            junction = JunctionProcess(rtmp=dict({"tls_listen": ["127.0.0.1:0"], "tls_certificate": self.cert,
                                                  "tls_private_key": self.key}, **keys))
            self.addCleanup(junction.cleanup)
            with self.assertRaises(RuntimeError):
                junction.start()
            self.assertEqual(junction.proc.returncode, 2, junction.stderr_text())
            self.assertIn(said, junction.stderr_text())


class ReloadTest(unittest.TestCase):
    """SIGHUP and POST /api/v1/reload: a publisher, 20 players, an RTMPS player and a gateway call
    all go on through a reload that adds an application and rotates the RTMPS certificate; a
    reload that changes a listener is refused and changes nothing; SIGUSR1 reopens the log."""

    def test_a_reload_keeps_every_connection(self):
        workdir = tempfile.mkdtemp(prefix="junction-it-reload-")
        self.addCleanup(shutil.rmtree, workdir, True)
        cert_a, key_a = make_named_certificate(workdir, "junction-a")
        cert_b, key_b = make_named_certificate(workdir, "junction-b")
        cert, key = os.path.join(workdir, "live.pem"), os.path.join(workdir, "live.key")
        shutil.copy(cert_a, cert)
        shutil.copy(key_a, key)
        log_file = os.path.join(workdir, "junction.log")
        rtmp = {"listen": ["127.0.0.1:0"], "tls_listen": ["127.0.0.1:0"], "tls_certificate": cert,
                "tls_private_key": key, "catch_all": False}
        junction = JunctionProcess(workdir=workdir, rtmp=rtmp, rtmp_apps=[{"name": "live"}, {"name": "sip"}],
                                   server={"log_file": log_file}).start()
        self.addCleanup(junction.cleanup)
        for user in ("alice", "bob"):
            subprocess.run([junction_bin(), "--config", junction.config_path, "users", "add", "%s@127.0.0.1" % user,
                            "--password", "pw-" + user], check=True, timeout=20, stdout=subprocess.DEVNULL)
        # A publisher and 20 players.
        publisher = publish_test_stream(self, junction, seconds=60)
        players = [HealthyPlayer(junction.port("rtmp"), "live", "cam") for _ in range(20)]
        for p in players:
            p.start()
            self.addCleanup(p.stop)
        # An RTMPS connection made before the reload, under certificate A.
        self.assertTrue(same_certificate(presented_certificate(junction.address("rtmps")), cert_a))
        host, port = junction.address("rtmps").rsplit(":", 1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        held_tls = context.wrap_socket(socket.create_connection((host, int(port)), timeout=10))
        self.addCleanup(held_tls.close)
        # A gateway call: alice (RTMP) calls bob (a raw phone), who sends PCMU.
        phone = RawPhone(junction.sip_address(), "bob", "pw-bob", media=("audio",))
        self.addCleanup(phone.close)
        self.assertEqual(phone.register(), 200)
        client = GatewayClient(junction.port("rtmp"), "alice@127.0.0.1")
        self.addCleanup(client.close)
        self.assertEqual(client.login("pw-alice").command_name, "_result")
        client.play_remote()
        answering = threading.Thread(target=lambda: phone.answer("m=audio {audio} RTP/AVP 0\r\n"))
        answering.start()
        self.assertEqual(client.call_method("invite", "bob@127.0.0.1", "ulaw").command_name, "_result")
        client.wait_callback("accepted")
        answering.join(20)
        phone.start_rtp()
        self.addCleanup(phone.stop_rtp)
        client.pump(1)
        self.assertTrue(client.remote_audio, "no audio from the phone before the reload")
        # An application nobody may use yet.
        with rc.RtmpClient(junction.port("rtmp")) as c:
            c.handshake()
            self.assertEqual(c.connect("extra").command_name, "_error")
        before = {id(p): p.media for p in players}
        publisher_id = json.loads(curl(junction.url("/api/v1/streams/live/cam")).body)["publisher"]["connection"]

        # The reload: a new application, a renewed certificate at the same path, over SIGHUP.
        shutil.copy(cert_b, cert)
        shutil.copy(key_b, key)
        junction.sections["rtmp"]["app"].append({"name": "extra"})
        junction.write_config()
        junction.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "configuration reloaded" in read(log_file), 10), read(log_file))
        self.assertIn("rtmp.app", read(log_file))
        # New connections get the new settings.
        self.assertTrue(same_certificate(presented_certificate(junction.address("rtmps")), cert_b))
        with rc.RtmpClient(junction.port("rtmp")) as c:
            c.handshake()
            self.assertEqual(c.connect("extra").command_name, "_result")
        # Every old one goes on: players get new frames, the publisher is the same, the TLS
        # connection is open, the call still carries audio and hangs up cleanly.
        self.assertTrue(wait_for(lambda: all(p.media > before[id(p)] + 25 for p in players), 15),
                        [(before[id(p)], p.media, p.error) for p in players])
        self.assertEqual([p.error for p in players], [None] * 20)
        self.assertIsNone(publisher.poll())
        self.assertEqual(json.loads(curl(junction.url("/api/v1/streams/live/cam")).body)["publisher"]["connection"],
                         publisher_id)
        held_tls.sendall(b"\x03" + b"\x00" * 1536)  # an RTMP C0+C1 over the old TLS session
        self.assertTrue(held_tls.recv(1), "the RTMPS connection made before the reload was closed")
        heard = len(client.remote_audio)
        client.pump(1)
        self.assertGreater(len(client.remote_audio), heard + 25, "the call's audio stopped at the reload")
        self.assertEqual(client.call_method("bye").command_name, "_result")
        self.assertTrue(phone.pump_media(10), "bob got no BYE")

        # A reload that changes a listener is refused over the API, and nothing changes.
        junction.sections["rtmp"]["listen"] = ["127.0.0.1:%d" % free_udp_port()]
        junction.sections["rtmp"]["app"].append({"name": "never"})
        junction.write_config()
        got = curl(junction.url("/api/v1/reload"), "-X", "POST", "-H", "Content-Type: application/json")
        self.assertEqual(got.status, 409, got.body)
        answer = json.loads(got.body)
        self.assertFalse(answer["reloaded"])
        self.assertIn("rtmp.listen cannot change without a restart", answer["message"])
        with rc.RtmpClient(junction.port("rtmp")) as c:
            c.handshake()
            self.assertEqual(c.connect("never").command_name, "_error")
        self.assertIn("reload refused", read(log_file))

        # SIGUSR1 after logrotate moved the file: a new one is written.
        os.rename(log_file, log_file + ".1")
        junction.signal(signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "log files reopened" in read(log_file), 10))
        self.assertEqual(curl(junction.url("/healthz")).status, 200)

    def test_systemd_hears_ready_reloading_and_stopping(self):
        """Type=notify: READY=1 once listening, RELOADING=1 then READY=1 around a reload, and
        STOPPING=1 when the drain begins (sd_notify's datagrams to NOTIFY_SOCKET)."""
        folder = tempfile.mkdtemp(prefix="junction-it-notify-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "notify")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.settimeout(10)
        junction = JunctionProcess(env={"NOTIFY_SOCKET": path}).start()
        self.addCleanup(junction.cleanup)
        self.assertEqual(listener.recv(256), b"READY=1")
        junction.signal(signal.SIGHUP)
        self.assertEqual(listener.recv(256), b"RELOADING=1")
        self.assertEqual(listener.recv(256), b"READY=1")
        junction.signal(signal.SIGTERM)
        self.assertEqual(listener.recv(256), b"STOPPING=1")
        self.assertEqual(junction.wait(10), 0)

    def test_the_reload_route_is_admin_only_and_reloads_domains(self):
        junction = JunctionProcess(http={"admin_token": "t0ken"},
                                   sip={"authenticate": False, "domains": ["127.0.0.1"]}).start()
        self.addCleanup(junction.cleanup)
        host, port = junction.sip_address().rsplit(":", 1)

        def register(domain):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with s:
                s.bind(("127.0.0.1", 0))
                s.settimeout(5)
                me = s.getsockname()[1]
                s.sendto(("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-%d\r\n"
                          "Max-Forwards: 70\r\nFrom: <sip:u@%s>;tag=1\r\nTo: <sip:u@%s>\r\nCall-ID: r%d\r\n"
                          "CSeq: 1 REGISTER\r\nContact: <sip:u@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n"
                          % (domain, me, me, domain, domain, me, me)).encode(), (host, int(port)))
                return int(s.recv(65536).split(b" ", 2)[1])

        def reload(*args):
            return curl(junction.url("/api/v1/reload"), "-X", "POST", *args)

        self.assertNotEqual(register("example.test"), 200)
        self.assertEqual(reload().status, 401)
        junction.sections["sip"]["domains"] = ["127.0.0.1", "example.test"]
        junction.write_config()
        got = reload("-H", "Authorization: Bearer t0ken")
        self.assertEqual(got.status, 200, got.body)
        self.assertTrue(json.loads(got.body)["reloaded"])
        self.assertEqual(json.loads(got.body)["changed"], ["sip.domains"])
        self.assertEqual(register("example.test"), 200)
        # A file that does not parse changes nothing either.
        with open(junction.config_path, "a") as f:
            f.write("[[[ not toml\n")
        got = reload("-H", "Authorization: Bearer t0ken")
        self.assertEqual(got.status, 409, got.body)
        self.assertIn("reload refused", json.loads(got.body)["message"])
        self.assertEqual(register("example.test"), 200)


if __name__ == "__main__":
    unittest.main()
