"""The operator page at / (conf/www/index.html, junction.js, junction.css) in a real browser.

Run from tests/integration:
    JUNCTION_BIN=../../build/src/junction /usr/bin/python3 -m unittest -v test_web_page

Each test class starts its own junction (temporary config, listeners on 127.0.0.1 port 0,
--shards 2, the repository's conf/www as web root), publishes a stream with ffmpeg and runs
tests/browser/live_page.mjs: Playwright (playwright-core from tests/browser/node_modules, set up
by tools/setup.sh with `npm ci`) driving Debian's /usr/bin/chromium, headless. The script opens
/, waits until the stream's app/name and its /<app>/<name>.flv link are on the page and the
traffic graph has drawn two points per series, and fails on any JavaScript or console error.

A full-page screenshot of each run is kept: in $JUNCTION_ARTEFACTS when set (ctest sets it under
the build directory), else in a temporary folder; its path is printed. Without
/usr/bin/chromium or tests/browser/node_modules the tests are skipped, except under CI (the
environment variable CI set), where that is a failure.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import junction_process as jp
from junction_process import JunctionProcess, curl, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
WEB_ROOT = os.path.join(REPO, "conf", "www")
BROWSER_DIR = jp.BROWSER_DIR
SCRIPT = os.path.join(BROWSER_DIR, "live_page.mjs")
CHROMIUM = jp.CHROMIUM
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"]
# Each wait inside the browser script (page load, the stream, the graph's points); the graph
# needs three scrapes of /metrics, 2 s apart.
BROWSER_WAIT_MS = int(30000 * jp.SLOW)

ARTEFACTS = None


def setUpModule():
    global ARTEFACTS
    binary = jp.junction_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError("junction binary not found or not executable: %s (set JUNCTION_BIN)"
                           % binary)
    missing = [t for t in ("ffmpeg", "node", "curl") if shutil.which(t) is None]
    if missing:
        raise RuntimeError("required tools missing: %s (tools/setup.sh installs them)"
                           % ", ".join(missing))
    jp.require_browser()
    ARTEFACTS = os.environ.get("JUNCTION_ARTEFACTS") or tempfile.mkdtemp(
        prefix="junction-web-page-")
    os.makedirs(ARTEFACTS, exist_ok=True)


class WebPageTestCase(unittest.TestCase):
    """One junction serving conf/www and one ffmpeg publishing `stream` to it, per class."""

    admin_token = ""
    stream = ("live", "cam")

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="junction-it-%s-" % cls.__name__)
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        http = {"web_root": WEB_ROOT}
        if cls.admin_token:
            http["admin_token"] = cls.admin_token
        cls.junction = JunctionProcess(http=http, workdir=cls.workdir)
        cls.addClassCleanup(cls.junction.cleanup)  # kills; fails on a sanitizer report
        cls.junction.start()
        cls.addClassCleanup(cls.junction.stop)
        cls.publisher = cls.publish(cls.junction.rtmp_url(*cls.stream))
        cls.addClassCleanup(cls.stop_publisher)
        live = wait_for(cls.stream_is_live, 20, 0.1)
        if not live:
            raise AssertionError("%s/%s did not go live within 20 s; ffmpeg: %s" % (
                cls.stream + (cls.publisher_output(),)))

    @classmethod
    def publish(cls, url):
        """ffmpeg publishing test video and a tone in real time until it is stopped."""
        cls.publisher_log = os.path.join(cls.workdir, "ffmpeg.log")
        with open(cls.publisher_log, "wb") as log:
            return subprocess.Popen(
                FFMPEG + ["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                          "-f", "lavfi", "-i", "sine", "-c:v", "libx264", "-preset", "veryfast",
                          "-g", "50", "-c:a", "aac", "-f", "flv", url],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    @classmethod
    def stop_publisher(cls):
        if cls.publisher.poll() is None:
            cls.publisher.send_signal(signal.SIGINT)
            try:
                cls.publisher.wait(timeout=5)
            except subprocess.TimeoutExpired:
                cls.publisher.kill()
                cls.publisher.wait(timeout=5)

    @classmethod
    def publisher_output(cls):
        try:
            with open(cls.publisher_log, "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:] or "(no output)"
        except OSError:
            return "(no log)"

    @classmethod
    def admin_args(cls):
        return ["-H", "Authorization: Bearer " + cls.admin_token] if cls.admin_token else []

    @classmethod
    def stream_is_live(cls):
        if cls.publisher.poll() is not None:
            raise AssertionError("ffmpeg exited %s: %s" % (cls.publisher.returncode,
                                                           cls.publisher_output()))
        r = curl(cls.junction.url("/api/v1/streams"), *cls.admin_args())
        if r.status != 200:
            return False
        app, name = cls.stream
        return any(s.get("app") == app and s.get("name") == name and s.get("live")
                   for s in json.loads(r.body.decode()).get("streams", []))

    def screenshot_path(self):
        return os.path.join(ARTEFACTS, "web_page-%s.png" % type(self).__name__)

    def run_page_check(self, token=None):
        """Runs live_page.mjs against this class's server; returns its result (a dict) when
        every check passed, else fails with what the script saw."""
        shot = self.screenshot_path()
        cmd = ["node", SCRIPT, "--url", self.junction.url("/"), "--stream", "%s/%s" % self.stream,
               "--screenshot", shot, "--timeout-ms", str(BROWSER_WAIT_MS), "--chromium", CHROMIUM]
        if token:
            cmd += ["--token", token]
        try:
            done = subprocess.run(cmd, cwd=BROWSER_DIR, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=BROWSER_WAIT_MS / 1000 * 4 + 60)
        except subprocess.TimeoutExpired as e:
            self.fail("live_page.mjs did not finish: %s" % e)
        finally:
            # Printed, not asserted: a failed run's screenshot is the first thing to look at.
            print("\nscreenshot: %s" % shot, file=sys.stderr)
        out = done.stdout.decode("utf-8", "replace").strip()
        err = done.stderr.decode("utf-8", "replace").strip()
        try:
            result = json.loads(out.splitlines()[-1]) if out else None
        except ValueError:
            result = None
        if done.returncode != 0 or not result or not result.get("ok"):
            detail = result if result else {"stdout": out[-3000:]}
            self.fail("the page check failed (exit %d): %s\nchecks passed: %s\nJS/console errors: "
                      "%s\npage text: %s\nstderr: %s\nscreenshot: %s" % (
                          done.returncode, detail.get("failure", "no result"),
                          detail.get("checks"), detail.get("errors"),
                          (detail.get("page_text") or detail.get("stdout") or "")[:2000],
                          err[-2000:], shot))
        self.assertTrue(os.path.isfile(shot), "no screenshot at %s" % shot)
        return result


class LivePageTest(WebPageTestCase):
    """No admin token configured: the page (on loopback) reads the admin API as it is."""

    stream = ("live", "webpage")

    def test_page_lists_the_live_stream_and_draws_the_graph(self):
        result = self.run_page_check()
        self.assertGreaterEqual(min(result["points"].values()), 2, result)
        self.assertEqual(result["allowed"], [], "no refused request expected without a token")

    def test_page_files_are_served_and_load_nothing_from_elsewhere(self):
        for path, kind in (("/", "text/html"), ("/junction.js", "text/javascript"),
                           ("/junction.css", "text/css")):
            r = curl(self.junction.url(path))
            self.assertEqual(r.status, 200, path)
            self.assertTrue(r.header("content-type", "").startswith(kind),
                            "%s: %s" % (path, r.header("content-type")))
            text = r.body.decode()
            # No external resource: every src/href and url() is relative to this server.
            for needle in ('src="http', "src='http", 'href="//', "url(http", "@import"):
                self.assertNotIn(needle, text, path)


class AdminTokenPageTest(WebPageTestCase):
    """http.admin_token set: the admin API answers 401, so the page asks for the token and lists
    the stream once it has been typed in; server info and the graph need no token."""

    admin_token = secrets.token_urlsafe(18)
    stream = ("live", "guarded")

    def test_admin_api_needs_the_token(self):
        self.assertEqual(curl(self.junction.url("/api/v1/streams")).status, 401)
        self.assertEqual(curl(self.junction.url("/api/v1/streams"), *self.admin_args()).status,
                         200)

    def test_page_asks_for_the_token_then_lists_the_stream(self):
        result = self.run_page_check(token=self.admin_token)
        self.assertIn("token form shown", result["checks"])
        self.assertIn("stream not listed without the token", result["checks"])
        self.assertGreaterEqual(min(result["points"].values()), 2, result)


if __name__ == "__main__":
    unittest.main()
