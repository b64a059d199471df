"""Junction installed as a service: `cmake --install`, the installed configuration, the systemd
unit, the man page and the Docker image (cmake/install.cmake, conf/junction.service.in,
docs/junction.8, Dockerfile; docs/install.md).

Run from tests/integration:
    JUNCTION_BIN=../../build/src/junction /usr/bin/python3 -m unittest -v test_install

The build folder is the one JUNCTION_BIN is in (<build>/src/junction); it must have been
configured with the install rules. Each test class installs it once into a temporary prefix
(`cmake --install <build> --prefix <tmp>`). `systemd-analyze verify` runs when the command is
there, `docker build` only when `docker info` succeeds; both are skipped otherwise. A server
started here listens on 127.0.0.1 port 0 only.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import tomllib
import unittest
import uuid

import junction_process as jp
from junction_process import curl, wait_for

REPO = os.path.normpath(os.path.join(jp.HERE, "..", ".."))
CONFIG_SOURCE = os.path.join(REPO, "conf", "junction.toml")
WEB_ROOT_SOURCE = os.path.join(REPO, "conf", "www")
# Where cmake/install.cmake puts each file, relative to the prefix (GNUInstallDirs' defaults; a
# prefix that is not /usr, / or /opt/... keeps etc under the prefix).
BINARY = "bin/junction"
WEB_ROOT = "share/junction/www"
CONFIG = "etc/junction/junction.toml"
MAN_PAGE = "share/man/man8/junction.8"
UNIT = "lib/systemd/system/junction.service"


def build_dir():
    # JUNCTION_BIN is <build>/src/junction.
    return os.path.dirname(os.path.dirname(jp.junction_bin()))


def cache_value(name, default):
    """A variable of the build folder's CMakeCache.txt (JUNCTION_STATE_DIR), or default."""
    try:
        with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"^%s:[A-Z]+=(.*)$" % re.escape(name), line.rstrip("\n"))
                if m:
                    return m.group(1)
    except OSError:
        pass
    return default


def run(cmd, timeout=60, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          **kwargs)


def shutdown_timeout_seconds():
    """server.shutdown_timeout of conf/junction.toml, in seconds."""
    with open(CONFIG_SOURCE, "rb") as f:
        return parse_duration(tomllib.load(f)["server"]["shutdown_timeout"])


def parse_duration(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text.strip())
    if not m:
        raise ValueError("not a duration: %r" % text)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def unit_settings(path):
    """{(section, key): [values]} of a systemd unit file (comments and blank lines skipped)."""
    settings = {}
    section = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, _, value = line.partition("=")
            settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def setUpModule():
    binary = jp.junction_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError("junction binary not found or not executable: %s (set JUNCTION_BIN)"
                           % binary)
    if shutil.which("cmake") is None:
        raise RuntimeError("cmake not found (tools/setup.sh installs it)")


class InstalledTestCase(unittest.TestCase):
    """Installs the build folder into cls.prefix (a temporary folder) once per class."""

    @classmethod
    def setUpClass(cls):
        cls.prefix = tempfile.mkdtemp(prefix="junction-install-%s-" % cls.__name__)
        cls.addClassCleanup(shutil.rmtree, cls.prefix, True)
        done = run(["cmake", "--install", build_dir(), "--prefix", cls.prefix], timeout=120)
        cls.install_output = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            raise AssertionError("cmake --install %s failed (%d): %s%s" % (
                build_dir(), done.returncode, cls.install_output,
                done.stderr.decode("utf-8", "replace")))
        if not os.path.exists(cls.path(UNIT)):
            raise AssertionError("cmake --install did not install %s: configure %s again "
                                 "(cmake -S . -B %s) so that it has cmake/install.cmake's rules"
                                 % (UNIT, build_dir(), build_dir()))

    @classmethod
    def path(cls, relative):
        return os.path.join(cls.prefix, relative)


# ---------------------------------------------------------------------------------------------
# 1. The files and the configuration


class InstallTest(InstalledTestCase):
    def test_every_file_is_installed(self):
        self.assertTrue(os.access(self.path(BINARY), os.X_OK), BINARY)
        for relative in (CONFIG, MAN_PAGE, UNIT):
            self.assertTrue(os.path.isfile(self.path(relative)), relative)
        # The whole web root, byte for byte.
        for folder, _dirs, files in os.walk(WEB_ROOT_SOURCE):
            for name in files:
                source = os.path.join(folder, name)
                installed = self.path(os.path.join(WEB_ROOT, os.path.relpath(source,
                                                                             WEB_ROOT_SOURCE)))
                self.assertTrue(os.path.isfile(installed), installed)
                with open(source, "rb") as a, open(installed, "rb") as b:
                    self.assertEqual(a.read(), b.read(), installed)
        with open(os.path.join(REPO, "docs", "junction.8"), "rb") as a, \
                open(self.path(MAN_PAGE), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_tests_bench_and_tools_are_not_installed(self):
        installed = []
        for folder, _dirs, files in os.walk(self.prefix):
            installed += [os.path.relpath(os.path.join(folder, f), self.prefix) for f in files]
        self.assertEqual(sorted(f for f in installed if f.startswith("bin/")), [BINARY])
        for f in installed:
            self.assertNotRegex(f, r"(^|/)(tests?|bench|junction-load|junction_kernels)(/|$)")
        self.assertFalse([f for f in installed if f.startswith(("lib/", "include/"))
                          and not f.startswith("lib/systemd/")], installed)

    def test_installed_configuration_has_the_paths_of_an_installation(self):
        with open(self.path(CONFIG), "rb") as f:
            installed = tomllib.load(f)
        with open(CONFIG_SOURCE, "rb") as f:
            source = tomllib.load(f)
        state = cache_value("JUNCTION_STATE_DIR", "/var/lib/junction")
        self.assertEqual(installed["http"]["web_root"], self.path(WEB_ROOT))
        self.assertEqual(installed["users"]["database"], state + "/users.sqlite")
        self.assertEqual(installed["recording"]["directory"], state + "/recordings")
        # Everything else is conf/junction.toml's (which documents every key) as it is.
        for section, keys in source.items():
            for key, value in keys.items():
                if (section, key) in {("http", "web_root"), ("users", "database"),
                                      ("recording", "directory")}:
                    continue
                self.assertEqual(installed[section][key], value, "%s.%s" % (section, key))
        self.assertEqual(sorted(installed), sorted(source))
        # With every comment.
        with open(CONFIG_SOURCE) as f:
            source_comments = [l for l in f if l.startswith("#")]
        with open(self.path(CONFIG)) as f:
            installed_text = f.read()
        for comment in source_comments:
            self.assertIn(comment, installed_text)

    def state_config(self, listen_port_zero=False):
        """The installed configuration with its state paths (and listeners) moved into the
        temporary folder; returns (config path, state folder)."""
        state = os.path.join(self.prefix, "state")
        os.makedirs(state, exist_ok=True)
        with open(self.path(CONFIG)) as f:
            text = f.read()
        text, n = re.subn(r'(?m)^database = "[^"]*"$',
                          'database = "%s/users.sqlite"' % state, text)
        self.assertEqual(n, 1)
        text, n = re.subn(r'(?m)^directory = "[^"]*"$',
                          'directory = "%s/recordings"' % state, text)
        self.assertEqual(n, 1)
        if listen_port_zero:
            # http, rtmp, sip and xmpp: 127.0.0.1 port 0, never the fixed defaults.
            text, n = re.subn(r'(?m)^listen = \[.*\]$', 'listen = ["127.0.0.1:0"]', text)
            self.assertEqual(n, 4)
            text, n = re.subn(r'(?m)^s2s_listen = \[.*\]$', 's2s_listen = ["127.0.0.1:0"]', text)
            self.assertEqual(n, 1)
            text, n = re.subn(r'(?m)^pin_cpus = true$', 'pin_cpus = false', text)
            self.assertEqual(n, 1)
        path = os.path.join(self.prefix, "test-%s.toml" % uuid.uuid4().hex[:8])
        with open(path, "w") as f:
            f.write(text)
        return path, state

    def test_installed_configuration_is_accepted(self):
        config, _state = self.state_config()
        done = run([self.path(BINARY), "--config", config, "--check-config"])
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace"))
        self.assertIn(b"configuration OK", done.stdout)
        # The file itself, as installed, too: its state paths need not exist to be checked.
        done = run([self.path(BINARY), "--config", self.path(CONFIG), "--check-config"])
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace"))

    def test_users_command_writes_the_configured_store(self):
        config, state = self.state_config()
        done = run([self.path(BINARY), "--config", config, "users", "add", "alice@127.0.0.1",
                    "--password-stdin"], input=b"secret\n")
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace"))
        self.assertTrue(os.path.isfile(os.path.join(state, "users.sqlite")))
        done = run([self.path(BINARY), "--config", config, "users", "list"])
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace"))
        self.assertIn(b"alice@127.0.0.1", done.stdout)

    def test_installed_server_serves_the_installed_web_root(self):
        config, _state = self.state_config(listen_port_zero=True)
        stderr_path = os.path.join(self.prefix, "stderr.log")
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen([self.path(BINARY), "--config", config, "--shards", "1"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=stderr, cwd="/")

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            proc.stdout.close()

        self.addCleanup(stop)
        found = {}
        cond = threading.Condition()

        def read():
            for raw in proc.stdout:
                parts = raw.decode("utf-8", "replace").split()
                with cond:
                    if len(parts) == 4 and parts[0] == "listening:":
                        found.setdefault(parts[1], parts[3])
                    cond.notify_all()
            with cond:
                cond.notify_all()

        threading.Thread(target=read, daemon=True).start()
        with cond:
            cond.wait_for(lambda: "http" in found or proc.poll() is not None,
                          timeout=10 * jp.SLOW)
        self.assertIn("http", found, "no http listener; stderr: %s" % read_text(stderr_path))
        status, _headers, body = curl("http://%s/" % found["http"])
        self.assertEqual(status, 200)
        with open(os.path.join(WEB_ROOT_SOURCE, "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=shutdown_timeout_seconds() + 5), 0)
        self.assertNotIn("web_root", read_text(stderr_path))  # no "is not a directory" warning


# ---------------------------------------------------------------------------------------------
# 2. The systemd unit


class SystemdUnitTest(InstalledTestCase):
    def test_unit_names_the_installed_files(self):
        unit = unit_settings(self.path(UNIT))
        self.assertEqual(unit[("Service", "ExecStart")],
                         ["%s --config %s" % (self.path(BINARY), self.path(CONFIG))])
        self.assertEqual(unit[("Service", "StateDirectory")],
                         [os.path.relpath(cache_value("JUNCTION_STATE_DIR", "/var/lib/junction"),
                                          "/var/lib")])
        with open(self.path(UNIT)) as f:
            self.assertNotIn("@", "".join(l for l in f if not l.lstrip().startswith("#")).replace(
                "@system-service", ""))

    def test_unit_settings(self):
        unit = unit_settings(self.path(UNIT))
        want = {
            "Type": "notify",
            "ExecReload": "/bin/kill -HUP $MAINPID",
            "KillSignal": "SIGTERM",
            "Restart": "on-failure",
            "RestartPreventExitStatus": "2",
            "DynamicUser": "yes",
            "StateDirectory": None,  # checked above
            "LogsDirectory": "junction",
            "RuntimeDirectory": "junction",
            "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
            "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ProtectHome": "yes",
            "PrivateTmp": "yes",
            "PrivateDevices": "yes",
            "ProtectKernelTunables": "yes",
            "ProtectKernelModules": "yes",
            "ProtectKernelLogs": "yes",
            "ProtectControlGroups": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
            "RestrictNamespaces": "yes",
            "LockPersonality": "yes",
            "MemoryDenyWriteExecute": "yes",
            "RestrictRealtime": "yes",
            "SystemCallArchitectures": "native",
            "SystemCallFilter": "@system-service",
            "LimitNOFILE": "1048576",
        }
        for key, value in want.items():
            self.assertIn(("Service", key), unit, key)
            if value is not None:
                self.assertEqual(unit[("Service", key)], [value], key)
        self.assertEqual(unit[("Install", "WantedBy")], ["multi-user.target"])
        # Stopping must not be cut short by systemd's SIGKILL while the server drains.
        self.assertGreater(parse_duration(unit[("Service", "TimeoutStopSec")][0]),
                           shutdown_timeout_seconds())

    def test_io_uring_is_allowed_by_the_system_call_filter(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        unit = unit_settings(self.path(UNIT))
        allowed = set()
        for group in " ".join(unit[("Service", "SystemCallFilter")]).split():
            allowed |= expand_syscall_group(group)
        for call in ("io_uring_setup", "io_uring_enter", "io_uring_register",
                     "sched_setaffinity", "setpriority"):
            self.assertIn(call, allowed)

    def test_systemd_analyze_verify(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # Documentation=man:junction(8) is looked up with man(1): in the installed man folder.
        env = dict(os.environ, MANPATH=self.path("share/man") + ":")
        done = run(["systemd-analyze", "verify", self.path(UNIT)], env=env)
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        self.assertEqual(done.returncode, 0, output)
        self.assertNotIn("junction.service", output)


def expand_syscall_group(name, seen=None):
    """The system calls of a systemd filter group (`systemd-analyze syscall-filter`), groups
    within it expanded."""
    seen = seen if seen is not None else set()
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    done = run(["systemd-analyze", "syscall-filter", name])
    calls = set()
    for line in done.stdout.decode().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == name:
            continue
        calls |= expand_syscall_group(line, seen)
    return calls


# ---------------------------------------------------------------------------------------------
# 3. The man page


class ManPageTest(InstalledTestCase):
    def test_renders_without_warnings(self):
        if shutil.which("groff") is None:
            self.fail("groff is not installed (tools/setup.sh installs groff-base)")
        done = run(["groff", "-man", "-Tutf8", "-ww", "-z", self.path(MAN_PAGE)])
        self.assertEqual(done.returncode, 0)
        self.assertEqual(done.stderr.decode("utf-8", "replace"), "")
        if shutil.which("mandoc"):
            done = run(["mandoc", "-Tlint", "-Wwarning", self.path(MAN_PAGE)])
            self.assertEqual(done.returncode, 0, done.stdout.decode() + done.stderr.decode())

    def test_documents_the_command_line(self):
        done = run(["groff", "-man", "-Tutf8", "-P-c", "-P-b", "-P-u", self.path(MAN_PAGE)])
        text = done.stdout.decode("utf-8", "replace")
        text = re.sub(r"\u2010\n\s*", "", text)  # words broken at the end of a line
        for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "USERS COMMANDS",
                        "SIGNALS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES",
                        "SEE ALSO"):
            self.assertRegex(text, r"(?m)^%s$" % heading)
        help_text = run([self.path(BINARY), "--help"]).stdout.decode()
        for option in re.findall(r"(--[a-z][a-z-]+)", help_text):
            self.assertIn(option, text)
        for words in ("users add", "users del", "users list", "users contacts add",
                      "users contacts list", "SIGHUP", "SIGUSR1", "SIGTERM",
                      "/etc/junction/junction.toml", "/var/lib/junction"):
            self.assertIn(words, text)


# ---------------------------------------------------------------------------------------------
# 4. The Docker image


def docker_works():
    if shutil.which("docker") is None:
        return False
    try:
        return run(["docker", "info"], timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class DockerImageTest(unittest.TestCase):
    """Builds the image from the repository (a full Release build: minutes), runs it with its
    HTTP port published on 127.0.0.1, fetches /healthz and /, stops it with SIGTERM."""

    def test_build_and_run(self):
        if not docker_works():
            self.skipTest("no Docker engine (docker info failed)")
        tag = "junction-test:%s" % uuid.uuid4().hex[:12]
        done = run(["docker", "build", "-t", tag, REPO], timeout=3600)
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace")[-4000:])
        self.addCleanup(run, ["docker", "image", "rm", "-f", tag])
        # io_uring is refused by Docker's default seccomp profile since Docker 25 (Dockerfile).
        done = run(["docker", "run", "-d", "--security-opt", "seccomp=unconfined",
                    "-p", "127.0.0.1::8080", tag])
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        container = done.stdout.decode().strip()
        self.addCleanup(run, ["docker", "rm", "-f", container])
        done = run(["docker", "port", container, "8080/tcp"])
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        address = done.stdout.decode().split()[0]

        def healthy():
            try:
                return curl("http://%s/healthz" % address, timeout=2).status == 200
            except jp.CurlError:
                return False

        self.assertTrue(wait_for(healthy, 30), run(["docker", "logs", container]).stderr)
        status, _headers, body = curl("http://%s/" % address)
        self.assertEqual(status, 200)
        with open(os.path.join(WEB_ROOT_SOURCE, "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        user = run(["docker", "exec", container, "id", "-u"]).stdout.decode().strip()
        self.assertNotEqual(user, "0")
        done = run(["docker", "stop", "-t", str(int(shutdown_timeout_seconds()) + 5), container],
                   timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr.decode())
        code = run(["docker", "inspect", "-f", "{{.State.ExitCode}}", container])
        self.assertEqual(code.stdout.decode().strip(), "0")


if __name__ == "__main__":
    unittest.main()
