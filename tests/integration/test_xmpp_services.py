"""XMPP services on the account and beside it, with slixmpp's own plugins: personal eventing
(XEP-0163) carrying avatars (XEP-0084) to contacts by their entity capabilities (XEP-0115),
bookmarks (XEP-0402) kept private and across a restart, and HTTP file upload (XEP-0363) through
Junction's HTTP server, the file read back and compared.
"""

import hashlib
import io
import json
import os
import queue
import subprocess
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

import junction_process as jp
from junction_process import JunctionProcess, SLOW, wait_for
from test_xmpp import Client, XmppCase, iq_error, require_slixmpp

try:
    import slixmpp
    from slixmpp.plugins.xep_0004 import Form
except ImportError:
    slixmpp = None

PEP = ("xep_0115", "xep_0060", "xep_0163", "xep_0084")
BOOKMARKS = "urn:xmpp:bookmarks:1"


class ServicesCase(XmppCase):
    def plugged(self, jid, password, *plugins, handlers=None):
        c = Client(jid, password, self.port, plugins=plugins, handlers=handlers)
        self.addCleanup(c.stop)
        self.assertTrue(c.started.wait(15 * SLOW), "%s did not log in" % jid)
        self.assertTrue(c.available.wait(10 * SLOW))
        return c


class PepTest(ServicesCase):
    """Avatars over personal eventing between two users who see each other's presence, and a
    stranger who may not read them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.junction.add_user("carol@localhost", "carol-secret")

    def befriend(self, a, b):
        a.call(lambda: a.xmpp.get_roster())
        b.call(lambda: b.xmpp.get_roster())
        a.do(lambda: a.xmpp.send_presence_subscription(pto=b.jid.split("/")[0]))
        self.assertTrue(wait_for(lambda: a.subscription_of(b.jid.split("/")[0]) == "both" and
                                 b.subscription_of(a.jid.split("/")[0]) == "both", 15),
                        "no mutual subscription")

    def metadata_events(self):
        events = queue.Queue()
        def on_metadata(msg):
            item = msg["pubsub_event"]["items"]["item"]
            events.put((str(msg["from"]), item["id"], msg["type"]))
        return events, {"avatar_metadata_publish": on_metadata}

    def wait_event(self, events, sender, item_id):
        while True:
            got = events.get(timeout=15 * SLOW)
            if got[0] == sender and got[1] == item_id:
                return got

    def publish_avatar(self, client, data):
        avatar_id = hashlib.sha1(data).hexdigest()
        async def publish():
            await client.xmpp["xep_0084"].publish_avatar(data, timeout=10 * SLOW)
            await client.xmpp["xep_0084"].publish_avatar_metadata(
                [{"id": avatar_id, "type": "image/png", "bytes": str(len(data)), "width": "64", "height": "64"}],
                timeout=10 * SLOW)
        client.call(publish, 20)
        return avatar_id

    def test_an_avatar_reaches_contacts_by_their_interests_and_only_them(self):
        events, handlers = self.metadata_events()
        alice = self.plugged("alice@localhost/pep", "alice-secret", *PEP)
        bob = self.plugged("bob@localhost/pep", "bob-secret", *PEP, handlers=handlers)
        self.befriend(alice, bob)
        data = os.urandom(3000)
        avatar_id = self.publish_avatar(alice, data)
        # bob's client said +notify for the metadata node in its caps: the event comes to it.
        _from, _id, kind = self.wait_event(events, "alice@localhost", avatar_id)
        self.assertEqual(kind, "headline")
        async def fetch(client, whose):
            iq = await client.xmpp["xep_0084"].retrieve_avatar(whose, avatar_id, timeout=10 * SLOW)
            return iq["pubsub"]["items"]["item"]["avatar_data"]["value"]
        self.assertEqual(bob.call(lambda: fetch(bob, "alice@localhost")), data)
        # A second resource of bob's that logs in later gets the last item on its presence.
        later_events, later_handlers = self.metadata_events()
        self.plugged("bob@localhost/later", "bob-secret", *PEP, handlers=later_handlers)
        self.wait_event(later_events, "alice@localhost", avatar_id)
        # A new avatar goes to both of bob's resources.
        newer = self.publish_avatar(alice, os.urandom(2000))
        self.wait_event(events, "alice@localhost", newer)
        self.wait_event(later_events, "alice@localhost", newer)
        # carol sees no presence of alice's: the presence access model keeps her out.
        carol = self.plugged("carol@localhost/pep", "carol-secret", *PEP)
        self.assertEqual(iq_error(carol, lambda: carol.xmpp["xep_0084"].retrieve_avatar(
            "alice@localhost", newer, timeout=10 * SLOW)), "not-authorized")
        # The account's disco says what it is; its nodes are listed to bob.
        async def info():
            iq = await bob.xmpp["xep_0030"].get_info(jid="alice@localhost", timeout=10 * SLOW)
            return iq["disco_info"]["identities"], set(iq["disco_info"]["features"])
        identities, features = bob.call(info)
        self.assertIn(("pubsub", "pep", None, None), identities)
        self.assertIn("http://jabber.org/protocol/pubsub#publish", features)
        async def nodes():
            iq = await bob.xmpp["xep_0030"].get_items(jid="alice@localhost", timeout=10 * SLOW)
            return {i[1] for i in iq["disco_items"]["items"]}
        self.assertEqual(bob.call(nodes), {"urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata"})

    def test_only_the_owner_publishes(self):
        bob = self.plugged("bob@localhost/owner", "bob-secret", *PEP)
        async def publish_as_bob():
            item = slixmpp.xmlstream.ET.fromstring("<tune xmlns='http://jabber.org/protocol/tune'/>")
            await bob.xmpp["xep_0060"].publish("alice@localhost", "http://jabber.org/protocol/tune",
                                               payload=item, timeout=10 * SLOW)
        self.assertEqual(iq_error(bob, publish_as_bob), "forbidden")


class BookmarksTest(ServicesCase):
    """Bookmarks (XEP-0402): a whitelist node of many items that only the account reads, told to
    its other resources, kept across a restart."""

    def options(self, access="whitelist"):
        form = Form()
        form["type"] = "submit"
        form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
        form.add_field(var="pubsub#persist_items", value="true")
        form.add_field(var="pubsub#max_items", value="max")
        form.add_field(var="pubsub#send_last_published_item", value="never")
        form.add_field(var="pubsub#access_model", value=access)
        return form

    def bookmark(self, client, room, name, access="whitelist"):
        payload = slixmpp.xmlstream.ET.fromstring(
            "<conference xmlns='%s' name=%s autojoin='true'><nick>alice</nick></conference>" % (BOOKMARKS, quoteattr(name)))
        return client.xmpp["xep_0060"].publish(None, BOOKMARKS, id=room, payload=payload,
                                               options=self.options(access), timeout=10 * SLOW)

    def stored(self, client, whose="alice@localhost"):
        async def get():
            iq = await client.xmpp["xep_0060"].get_items(whose, BOOKMARKS, timeout=10 * SLOW)
            out = {}
            for item in iq["pubsub"]["items"]:
                conf = item.xml.find("{%s}conference" % BOOKMARKS)
                out[item["id"]] = conf.get("name")
            return out
        return client.call(get)

    def test_bookmarks_are_private_told_to_other_resources_and_kept(self):
        told = queue.Queue()
        def on_event(msg):
            items = msg["pubsub_event"]["items"]
            node = items["node"]
            for item in list(items.iterables):  # (iterating the stanza itself shares its index)
                told.put((node, item.name, item["id"]))
        other = self.plugged("alice@localhost/phone", "alice-secret", "xep_0115", "xep_0060", "xep_0163",
                             handlers={"pubsub_publish": on_event, "pubsub_retract": on_event})
        # The phone says it wants bookmarks (new caps in its presence); the server asks what the
        # new version means. Until it knows, a publish is not told to the phone (bookmarks send no
        # last item): the first bookmark is published again until the phone hears of it.
        other.do(lambda: other.xmpp["xep_0163"].add_interest(BOOKMARKS))
        other.do(lambda: other.xmpp.send_presence())
        alice = self.plugged("alice@localhost/desk", "alice-secret", "xep_0060")

        def told_of(item_id, seconds):
            try:
                while True:
                    node, kind, got = told.get(timeout=seconds)
                    if node == BOOKMARKS and kind == "item" and got == item_id:
                        return True
            except queue.Empty:
                return False
        for _attempt in range(20):
            alice.call(lambda: self.bookmark(alice, "coven@conference.localhost", "The Coven"))
            if told_of("coven@conference.localhost", 1 * SLOW):
                break
        else:
            self.fail("the phone never heard of a bookmark")
        alice.call(lambda: self.bookmark(alice, "tea@conference.localhost", "Tea <&> cakes"))
        self.assertTrue(told_of("tea@conference.localhost", 15 * SLOW), "the phone did not hear of the second bookmark")
        self.assertEqual(self.stored(alice), {"coven@conference.localhost": "The Coven",
                                              "tea@conference.localhost": "Tea <&> cakes"})
        bob = self.plugged("bob@localhost/nosy", "bob-secret", "xep_0060")
        self.assertEqual(iq_error(bob, lambda: bob.xmpp["xep_0060"].get_items(
            "alice@localhost", BOOKMARKS, timeout=10 * SLOW)), "not-allowed")
        # Other options than the node's are a precondition not met (XEP-0223), nothing changes.
        self.assertEqual(iq_error(alice, lambda: self.bookmark(alice, "x@conference.localhost", "X", "open")),
                         "conflict")
        # Retracted with notify: the phone hears of it.
        alice.call(lambda: alice.xmpp["xep_0060"].retract(None, BOOKMARKS, "tea@conference.localhost", notify=True,
                                                          timeout=10 * SLOW))
        while True:
            node, kind, item_id = told.get(timeout=15 * SLOW)
            if kind == "retract" and item_id == "tea@conference.localhost":
                break
        alice.stop()
        other.stop()
        self.junction.stop()
        self.junction.start()
        type(self).port = self.junction.port("xmpp")
        again = self.plugged("alice@localhost/back", "alice-secret", "xep_0060")
        self.assertEqual(self.stored(again), {"coven@conference.localhost": "The Coven"})


    @staticmethod
    async def private_send(client, kind, element):
        """A private XML storage (XEP-0049) iq of `kind` with `element` (XML text): the answer's
        query, as ElementTree."""
        iq = client.xmpp.make_iq_get() if kind == "get" else client.xmpp.make_iq_set()
        query = ET.SubElement(iq.xml, "{jabber:iq:private}query")
        query.append(ET.fromstring(element))
        answer = await iq.send(timeout=10 * SLOW)
        return answer.xml.find("{jabber:iq:private}query")

    def private(self, client, kind, element):
        return client.call(lambda: self.private_send(client, kind, element))

    def test_old_clients_bookmarks_in_private_storage_are_the_node(self):
        """XEP-0402's compatibility (#compat): an old client keeps bookmarks in private XML storage
        (slixmpp's xep_0048 over xep_0049); a new client on the same account reads them from the
        node and is told of each change; the old client reads what the new one published. Other
        private storage keeps what it is given."""
        told = queue.Queue()
        def on_event(msg):
            items = msg["pubsub_event"]["items"]
            for item in list(items.iterables):
                told.put((items["node"], item.name, item["id"]))
        new = self.plugged("bob@localhost/new", "bob-secret", "xep_0115", "xep_0060", "xep_0163",
                           handlers={"pubsub_publish": on_event, "pubsub_retract": on_event})
        new.do(lambda: new.xmpp["xep_0163"].add_interest(BOOKMARKS))
        new.do(lambda: new.xmpp.send_presence())
        old = self.plugged("bob@localhost/old", "bob-secret", "xep_0048")
        async def features():
            return (await old.xmpp["xep_0030"].get_info(jid="bob@localhost", timeout=10 * SLOW))["disco_info"]["features"]
        self.assertIn("urn:xmpp:bookmarks:1#compat", old.call(features))

        def told_of(kind, item_id, seconds):
            try:
                while True:
                    node, k, got = told.get(timeout=seconds)
                    if node == BOOKMARKS and k == kind and got == item_id:
                        return True
            except queue.Empty:
                return False
        # The new client publishes until it hears (the server learns its interests meanwhile).
        for _attempt in range(20):
            new.call(lambda: self.bookmark(new, "modern@conference.localhost", "Modern"))
            if told_of("item", "modern@conference.localhost", 1 * SLOW):
                break
        else:
            self.fail("the new client never heard of its bookmark")

        # The old client sees it, and adds a room and a URL.
        got = old.call(lambda: old.xmpp["xep_0048"].get_bookmarks(timeout=10 * SLOW))
        rooms = {str(c["jid"]): (c["name"], c["nick"], c["autojoin"]) for c in got["private"]["bookmarks"]["conferences"]}
        self.assertEqual(rooms, {"modern@conference.localhost": ("Modern", "alice", True)})
        from slixmpp.plugins.xep_0048.stanza import Bookmarks
        mine = Bookmarks()
        mine.add_conference("modern@conference.localhost", "alice", name="Modern", autojoin=True)
        mine.add_conference("legacy@conference.localhost", "bobby", name="Old <&> school", autojoin=False,
                            password="pass")
        mine.add_url("https://example.com/", name="A page")
        old.call(lambda: old.xmpp["xep_0048"].set_bookmarks(mine, timeout=10 * SLOW))
        self.assertTrue(told_of("item", "legacy@conference.localhost", 15 * SLOW), "the new client was not told")
        async def items():
            iq = await new.xmpp["xep_0060"].get_items("bob@localhost", BOOKMARKS, timeout=10 * SLOW)
            out = {}
            for item in iq["pubsub"]["items"]:
                conf = item.xml.find("{%s}conference" % BOOKMARKS)
                out[item["id"]] = (conf.get("name"), conf.get("autojoin"), conf.findtext("{%s}nick" % BOOKMARKS),
                                   conf.findtext("{%s}password" % BOOKMARKS))
            return out
        self.assertEqual(new.call(items), {
            "modern@conference.localhost": ("Modern", "true", "alice", None),
            "legacy@conference.localhost": ("Old <&> school", None, "bobby", "pass")})

        # The old client drops the modern room: the new client is told of the retraction; the
        # URL is still there for the old client.
        fewer = Bookmarks()
        fewer.add_conference("legacy@conference.localhost", "bobby", name="Old <&> school", password="pass")
        fewer.add_url("https://example.com/", name="A page")
        old.call(lambda: old.xmpp["xep_0048"].set_bookmarks(fewer, timeout=10 * SLOW))
        self.assertTrue(told_of("retract", "modern@conference.localhost", 15 * SLOW))
        got = old.call(lambda: old.xmpp["xep_0048"].get_bookmarks(timeout=10 * SLOW))["private"]["bookmarks"]
        self.assertEqual([str(c["jid"]) for c in got["conferences"]], ["legacy@conference.localhost"])
        self.assertEqual([(u["url"], u["name"]) for u in got["urls"]], [("https://example.com/", "A page")])
        self.assertEqual(list(new.call(items)), ["legacy@conference.localhost"])

        # Private storage of anything else: what was set comes back; unknown is empty; the
        # protocol's own namespaces are refused.
        prefs = "<prefs xmlns='example:prefs'><colour>blue &amp; green</colour></prefs>"
        self.private(old, "set", prefs)
        back = self.private(new, "get", "<prefs xmlns='example:prefs'/>")
        self.assertEqual(back.findtext("{example:prefs}prefs/{example:prefs}colour"), "blue & green")
        empty = self.private(new, "get", "<other xmlns='example:other'/>")
        self.assertEqual(len(empty.find("{example:other}other")), 0)
        self.assertEqual(iq_error(old, lambda: self.private_send(old, "set", "<x xmlns='jabber:x:data'/>")),
                         "not-acceptable")


class UploadTest(ServicesCase):
    """HTTP file upload (XEP-0363): slixmpp finds the service, gets a slot and PUTs the file with
    aiohttp; the file comes back over GET, byte for byte. Sizes, quotas and forged slots fail."""

    MAX = 100000

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        import tempfile
        cls.folder = tempfile.mkdtemp(prefix="junction-upload-")
        cls.junction = JunctionProcess(xmpp={"upload_directory": cls.folder, "upload_max_size": cls.MAX,
                                             "upload_quota": 250000}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    def discover(self, client):
        """The upload service as a client finds it: the domain's disco#items, each item's
        disco#info, the one with the feature and its size limit (slixmpp 1.8.3's own discovery
        fails on Python 3.11: asyncio.wait on coroutines)."""
        async def find():
            items = await client.xmpp["xep_0030"].get_items(jid="localhost", timeout=10 * SLOW)
            for item in items["disco_items"]["items"]:
                info = await client.xmpp["xep_0030"].get_info(jid=item[0], timeout=10 * SLOW)
                if "urn:xmpp:http:upload:0" not in info["disco_info"]["features"]:
                    continue
                for form in info["disco_info"].iterables:
                    values = form["values"]
                    if values.get("FORM_TYPE") == ["urn:xmpp:http:upload:0"]:
                        return str(info["from"]), int(values["max-file-size"])
            return None, None
        service, limit = client.call(find)
        self.assertEqual((service, limit), ("upload.localhost", self.MAX))
        client.xmpp["xep_0363"].upload_service = slixmpp.JID(service)
        client.xmpp["xep_0363"].max_file_size = limit

    def upload(self, client, name, data, content_type="application/octet-stream"):
        if client.xmpp["xep_0363"].upload_service is None:
            self.discover(client)
        return client.call(lambda: client.xmpp["xep_0363"].upload_file(
            name, size=len(data), content_type=content_type, input_file=io.BytesIO(data), domain="localhost",
            timeout=10 * SLOW), 30)

    def slot(self, client, name, size, content_type="application/octet-stream"):
        async def request():
            iq = await client.xmpp["xep_0363"].request_slot("upload.localhost", name, size, content_type,
                                                            timeout=10 * SLOW)
            return iq["http_upload_slot"]["put"]["url"], iq["http_upload_slot"]["get"]["url"]
        return client.call(request)

    def http(self, method, url, data=None, content_type="application/octet-stream"):
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=10 * SLOW) as r:
                return r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), None

    def test_a_file_goes_up_and_comes_back(self):
        alice = self.plugged("alice@localhost/up", "alice-secret", "xep_0363")
        data = os.urandom(60000)
        url = self.upload(alice, "holiday photo.png", data, "image/png")
        self.assertTrue(url.startswith("http://127.0.0.1:"), url)
        self.assertTrue(url.endswith("/holiday_photo.png"), url)
        status, body, _type = self.http("GET", url)
        self.assertEqual((status, body), (200, data))
        # Used once: a second PUT to the same slot is refused.
        put, _get = self.slot(alice, "again.bin", 10)
        self.assertEqual(self.http("PUT", put, b"0123456789")[0], 201)
        self.assertEqual(self.http("PUT", put, b"0123456789")[0], 409)

    def test_bad_slots_sizes_and_quota_are_refused(self):
        bob = self.plugged("bob@localhost/up", "bob-secret", "xep_0363")
        async def too_large():
            try:
                await bob.xmpp["xep_0363"].request_slot("upload.localhost", "big.bin", self.MAX + 1, timeout=10 * SLOW)
            except slixmpp.exceptions.IqError as e:
                limit = e.iq.xml.find(".//{urn:xmpp:http:upload:0}max-file-size")
                return e.iq["error"]["condition"], limit.text if limit is not None else None
            return None
        self.assertEqual(bob.call(too_large), ("not-acceptable", str(self.MAX)))
        put, get = self.slot(bob, "a.bin", 5)
        self.assertEqual(self.http("PUT", put.replace("token=", "token=0"), b"12345")[0], 403)   # forged
        self.assertEqual(self.http("PUT", put, b"1234")[0], 400)                                  # another size
        self.assertEqual(self.http("PUT", put, b"12345", "text/html")[0], 403)                    # another type
        self.assertEqual(self.http("GET", get)[0], 404)                                           # nothing yet
        # The quota (250,000 bytes): two files of 100,000 fit, a third does not.
        for i in range(2):
            self.upload(bob, "part%d.bin" % i, os.urandom(self.MAX))
        self.assertEqual(iq_error(bob, lambda: bob.xmpp["xep_0363"].request_slot(
            "upload.localhost", "part2.bin", self.MAX, timeout=10 * SLOW)), "resource-constraint")
        # A body over the route's limit (upload_max_size, above the server's body_limit default of
        # 1 MiB only where configured so) is refused before the handler sees it.
        status, _body, _type = self.http("PUT", put, os.urandom(self.MAX + 10))
        self.assertEqual(status, 413)

    def test_a_page_of_another_origin_uploads(self):
        """A web client's page is seldom on the upload URL's origin: Chromium on a page of
        http://localhost:<port> PUTs to the slot's http://127.0.0.1:<port> URL (preflighted) and
        reads the file back, which works only when the upload route answers CORS."""
        jp.require_browser()
        alice = self.plugged("alice@localhost/web", "alice-secret", "xep_0363")
        size = 5000
        put, get = self.slot(alice, "from the web.png", size, "image/png")
        # The preflight as a browser sends it, and what it must say.
        request = urllib.request.Request(put, method="OPTIONS", headers={
            "Origin": "http://localhost", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"})
        with urllib.request.urlopen(request, timeout=10 * SLOW) as r:
            self.assertEqual(r.status, 204)
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "*")
            self.assertIn("PUT", r.headers.get("Access-Control-Allow-Methods"))
            self.assertIn("content-type", r.headers.get("Access-Control-Allow-Headers").lower())
        origin = "http://localhost:%d/" % self.junction.port("http")
        run = subprocess.run(["node", os.path.join(jp.BROWSER_DIR, "cross_origin_upload.mjs"), "--origin", origin,
                              "--put", put, "--get", get, "--size", str(size), "--content-type", "image/png",
                              "--timeout-ms", str(int(30000 * SLOW))],
                             capture_output=True, timeout=90 * SLOW)
        lines = [l for l in run.stdout.decode().splitlines() if l.startswith("{")]
        report = json.loads(lines[-1]) if lines else {}
        self.assertEqual(run.returncode, 0, (report, run.stderr.decode()[-2000:]))
        sent = bytes((i * 31 + 7) & 255 for i in range(size))
        self.assertEqual((report["origin"], report["put"], report["get"], report["sha256"]),
                         (origin.rstrip("/"), 201, 200, hashlib.sha256(sent).hexdigest()))
        # What arrived on disk is what the page sent.
        status, body, _type = self.http("GET", get)
        self.assertEqual((status, body), (200, sent))
        # Cross-origin is the upload route's alone: an admin route says nothing of it.
        request = urllib.request.Request(self.junction.url("/api/v1/routes"), method="OPTIONS",
                                         headers={"Origin": "http://localhost"})
        try:
            with urllib.request.urlopen(request, timeout=10 * SLOW) as r:
                headers = r.headers
        except urllib.error.HTTPError as e:
            headers = e.headers
        self.assertIsNone(headers.get("Access-Control-Allow-Origin"))


class UploadExpiryTest(ServicesCase):
    """Uploaded files go once older than upload_expires_after, on a server that keeps running:
    each shard looks for them now and then as the service is used."""

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        import tempfile
        cls.folder = tempfile.mkdtemp(prefix="junction-upload-")
        cls.junction = JunctionProcess(xmpp={"upload_directory": cls.folder, "upload_expires_after": "3s"}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")

    def test_an_old_file_goes(self):
        alice = self.plugged("alice@localhost/up", "alice-secret", "xep_0363")
        async def slot(name):
            iq = await alice.xmpp["xep_0363"].request_slot("upload.localhost", name, 5, timeout=10 * SLOW)
            return iq["http_upload_slot"]["put"]["url"], iq["http_upload_slot"]["get"]["url"]
        put, get = alice.call(lambda: slot("old.bin"))
        http = UploadTest.http
        self.assertEqual(http(self, "PUT", put, b"12345")[0], 201)
        self.assertEqual(http(self, "GET", get)[:2], (200, b"12345"))
        kept = [os.path.join(d, f) for d, _s, files in os.walk(self.folder) for f in files]
        self.assertEqual(len(kept), 1, kept)
        # Asking for slots (and fetching) is what makes a shard look: the file is gone once it is
        # older than three seconds, and a new one is there.
        def gone():
            alice.call(lambda: slot("new.bin"))
            return http(self, "GET", get)[0] == 404
        self.assertTrue(wait_for(gone, 30), "the expired file is still served")
        self.assertFalse(os.path.exists(kept[0]))


class LargeUploadTest(UploadTest):
    """The default limits: a file of several MiB, over the HTTP server's own body limit (1 MiB),
    goes up through the upload route, whose limit is upload_max_size (10 MiB)."""

    MAX = 10 * 1024 * 1024

    @classmethod
    def setUpClass(cls):
        require_slixmpp()
        import tempfile
        cls.folder = tempfile.mkdtemp(prefix="junction-upload-")
        cls.junction = JunctionProcess(xmpp={"upload_directory": cls.folder}).start()
        cls.port = cls.junction.port("xmpp")
        cls.junction.add_user("alice@localhost", "alice-secret")
        cls.junction.add_user("bob@localhost", "bob-secret")

    def test_a_file_goes_up_and_comes_back(self):
        alice = self.plugged("alice@localhost/big", "alice-secret", "xep_0363")
        data = os.urandom(3 * 1024 * 1024 + 17)
        url = self.upload(alice, "video.mp4", data, "video/mp4")
        status, body, content_type = self.http("GET", url)
        self.assertEqual((status, len(body), body == data), (200, len(data), True))
        self.assertEqual(content_type, "video/mp4")

    test_a_page_of_another_origin_uploads = None  # UploadTest's, not again with other limits

    def test_bad_slots_sizes_and_quota_are_refused(self):
        """UploadTest's refusals are with its small limits; here, one over the default."""
        bob = self.plugged("bob@localhost/big", "bob-secret", "xep_0363")
        self.assertEqual(iq_error(bob, lambda: bob.xmpp["xep_0363"].request_slot(
            "upload.localhost", "huge.bin", self.MAX + 1, timeout=10 * SLOW)), "not-acceptable")


if __name__ == "__main__":
    unittest.main()
