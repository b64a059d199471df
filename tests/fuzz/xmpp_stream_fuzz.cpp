// The XML stream parser and the client stream on arbitrary bytes, fed in pieces (the first byte
// says how big). Checks, beyond "no crash" (and ASan/UBSan): every stanza the parser returns,
// written back and read again in a new stream, is the same stanza. The client stream gets a
// valid header first, then the bytes, with a user for whatever name SASL asks about. The
// server-to-server stream gets them both ways: as another server's incoming stream (after a valid
// header; every dialback claim is verified) and as the answers to an outgoing one. Every stanza
// the parser returns also goes to a chat room, from its owner or from a stranger.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "xml/stream_parser.hpp"
#include "xmpp/bookmarks_compat.hpp"
#include "xmpp/c2s_stream.hpp"
#include "xmpp/muc_room.hpp"
#include "xmpp/pep_account.hpp"
#include "xmpp/server_caps.hpp"
#include "xmpp/s2s_stream.hpp"

using namespace junction;

namespace {

const std::string header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0'>";

const std::string open_frame = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>";

void run_client_stream(const xmpp::c2s_settings& settings, const std::string& start, std::string_view bytes,
                       std::size_t piece);
void run_server_streams(std::string_view bytes, std::size_t piece);

void check_round_trip(const xml::element& stanza) {
  const std::string written = xml::to_string(stanza, "jabber:client");
  xml::stream_parser again;
  again.feed(header + written);
  auto open = again.next();
  auto read = again.next();
  if (!open || !read || read->what != xml::stream_event::kind::stanza) std::abort();
  if (xml::to_string(read->node, "jabber:client") != written) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = data[0] % 64 + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  xml::stream_parser parser({.max_stanza_bytes = 4096, .max_depth = 16, .max_attributes = 8});
  const auto owner = *xmpp::jid::parse("owner@example.com/a");
  const auto stranger = *xmpp::jid::parse("stranger@example.com/b");
  xmpp::muc_room room(*xmpp::jid::parse("room@conference.example.com"), owner.bare(), {});
  room.set_archiving((data[0] & 128) != 0);
  xmpp::pep_account pep({.max_nodes = 8, .max_items = 16, .max_bytes = 16384, .max_id = 64});
  std::size_t n = 0;
  const bool release = (data[0] & 64) != 0;  // the parser released between pieces, as a waiting connection does
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    if (release) parser.release_if_idle();
    parser.feed(bytes.substr(i, piece));
    while (auto e = parser.next()) {
      if (e->what != xml::stream_event::kind::stanza) continue;
      check_round_trip(e->node);
      const auto& from = ++n % 2 ? owner : stranger;
      const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(n));
      if (e->node.name() == "presence") room.presence(from, e->node, now);
      else if (e->node.name() == "message") {
        room.message(from, e->node, now, "id" + std::to_string(n));
        room.take_archived();
        room.may_read_archive(from);
      }
      else if (e->node.name() == "iq") {
        room.iq(from, e->node);
        // An account's eventing service, asked by each kind of requester; every change's event
        // and the last items built; a caps answer's verification string.
        auto answer = pep.handle(e->node, static_cast<xmpp::pep_relation>(n % 4));
        for (const auto& c : answer.changes) pep.event_for(c);
        pep.last_items(xmpp::pep_relation::subscriber);
        if (const auto* q = e->node.child("http://jabber.org/protocol/disco#info", "query")) xmpp::caps_ver_of(*q);
        // An old client's bookmarks (private storage) onto the same service, and read back.
        if (const auto* q = e->node.child("jabber:iq:private", "query"))
          if (const auto* storage = q->child(xmpp::bookmarks_ns::legacy, "storage")) {
            auto w = xmpp::from_legacy_bookmarks(*storage, pep.node(xmpp::bookmarks_ns::node));
            for (auto& r : w.requests) pep.handle(r, xmpp::pep_relation::owner);
            xmpp::legacy_bookmarks(pep.node(xmpp::bookmarks_ns::node), &w.kept);
          }
      }
    }
  }

  // The client stream as TCP has it (after a valid header) and as WebSocket has it (framed:
  // after a valid <open/>, every message one element).
  for (const bool framed : {false, true}) {
    xmpp::c2s_settings settings;
    settings.domains = {"example.com"};
    settings.allow_plain = true;
    settings.framed = framed;
    settings.limits = {.max_stanza_bytes = 4096, .max_depth = 16, .max_attributes = 8};
    settings.nonce = [] { return std::string("fixed-nonce"); };
    run_client_stream(settings, framed ? open_frame : header, bytes, piece);
  }
  run_server_streams(bytes, piece);
  return 0;
}

namespace {

void run_client_stream(const xmpp::c2s_settings& settings, const std::string& start, std::string_view bytes,
                       std::size_t piece) {
  xmpp::c2s_stream stream(settings, "fuzz");
  stream.receive(start);
  for (std::size_t i = 0; i < bytes.size() && !stream.closed(); i += piece) {
    stream.receive(bytes.substr(i, piece));
    for (const auto& e : stream.take_events())
      if (e.what == xmpp::c2s_event::kind::need_credentials) {
        users::user_record user;
        user.username = e.username;
        user.realm = "example.com";
        user.scram_sha256 = users::derive_scram_keys(users::scram_hash::sha256, "pencil", "salt", 1);
        user.scram_sha1 = users::derive_scram_keys(users::scram_hash::sha1, "pencil", "salt", 1);
        stream.credentials(user);
      }
    stream.take_frames();
  }
}

void run_server_streams(std::string_view bytes, std::size_t piece) {
  xmpp::s2s_settings settings;
  settings.domains = {"example.com"};
  settings.secret = "fuzz";
  settings.require_encryption = false;
  settings.limits = {.max_stanza_bytes = 4096, .max_depth = 16, .max_attributes = 8};
  xmpp::s2s_stream incoming(settings, xmpp::s2s_stream::role::incoming, "fuzz-id");
  incoming.receive(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:db='jabber:server:dialback' from='other.example' to='example.com' version='1.0'>");
  xmpp::s2s_stream outgoing(settings, xmpp::s2s_stream::role::outgoing, {}, "example.com", "other.example");
  outgoing.ask_verify("their-id", "key");
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    const std::string_view part = bytes.substr(i, piece);
    incoming.receive(part);
    for (const auto& e : incoming.take_events())
      if (e.what == xmpp::s2s_event::kind::verify_needed) incoming.verified(e.local, e.remote, true);
    outgoing.receive(part);
    for (const auto& e : outgoing.take_events())
      if (e.what == xmpp::s2s_event::kind::starttls) outgoing.tls_started();
    if (outgoing.authenticated()) {
      junction::xml::element m("jabber:client", "message");
      m.set("from", "a@example.com").set("to", "b@other.example");
      outgoing.send_stanza(m);
    }
    incoming.take_output();
    outgoing.take_output();
  }
}

}  // namespace
