#include "media/sdp/negotiation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/ascii.hpp"

namespace junction::media::sdp {
namespace {

bool is_secure(std::string_view protocol) noexcept {
  return protocol == "RTP/SAVP" || protocol == "RTP/SAVPF";
}

std::uint8_t h264_level(std::string_view fmtp) {
  auto id = fmtp_value(fmtp, "profile-level-id");
  if (id.size() != 6) return 0x1f;  // RFC 6184 §8.1: 42000a when absent; level 3.1 is the common ground
  unsigned level = 0;
  auto digits = id.substr(4, 2);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), level, 16);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0x1f;
  return static_cast<std::uint8_t>(level);
}

// The fmtp an answer carries for a codec both sides have: the offer's, except that H.264's
// level is the lower of the two (RFC 6184 §8.2.2).
std::string answer_fmtp(const codec& offered, const codec& ours) {
  if (!iequals(offered.encoding, "H264")) return offered.fmtp;
  auto id = fmtp_value(offered.fmtp, "profile-level-id");
  std::string profile = id.size() == 6 ? std::string(id.substr(0, 4)) : std::string("42e0");
  std::uint8_t level = std::min(h264_level(offered.fmtp), h264_level(ours.fmtp));
  auto mode = fmtp_value(offered.fmtp, "packetization-mode");
  return fmt::format("profile-level-id={}{:02x};packetization-mode={}", profile, level, mode.empty() ? "0" : mode);
}

bool is_hold_address(std::string_view a) noexcept { return a == "0.0.0.0" || a == "::"; }

const media_capabilities* capabilities_for(const local_endpoint& local, std::string_view media) {
  for (const auto& m : local.media)
    if (m.media == media) return &m;
  return nullptr;
}

// Where the peer's media goes and whether it holds the stream, from its description of `m`;
// returns the peer's direction.
direction read_remote(const session_description& s, const media_description& m, bool mux, negotiated_media& n) {
  n.remote_address = std::string(s.address_of(m));
  n.remote_port = m.port;
  n.rtcp_mux = mux;
  n.remote_rtcp_port = mux ? m.port : m.rtcp_port.value_or(static_cast<std::uint16_t>(m.port + 1));
  const direction theirs = s.direction_of(m);
  n.remote_hold = theirs == direction::sendonly || theirs == direction::inactive || is_hold_address(n.remote_address);
  return theirs;
}

// The session-level lines of what this side writes, offer or answer.
session_description our_session(const local_endpoint& local, std::uint64_t id, std::uint64_t version) {
  session_description s;
  s.origin_user = "junction";
  s.session_id = id;
  s.session_version = version;
  s.origin_address = local.address;
  s.name = "junction";
  s.connection = local.address;
  return s;
}

}  // namespace

std::string_view fmtp_value(std::string_view fmtp, std::string_view name) noexcept {
  while (!fmtp.empty()) {
    auto semi = fmtp.find(';');
    std::string_view item = fmtp.substr(0, semi);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto eq = item.find('=');
    if (eq != std::string_view::npos && iequals(item.substr(0, eq), name)) return item.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    fmtp.remove_prefix(semi + 1);
  }
  return {};
}

bool same_codec(const codec& a, const codec& b) noexcept {
  if (!iequals(a.encoding, b.encoding) || a.clock_rate != b.clock_rate || a.channels != b.channels) return false;
  if (iequals(a.encoding, "H264")) {
    auto mode = [](const codec& c) {
      auto m = fmtp_value(c.fmtp, "packetization-mode");
      return m.empty() ? std::string_view("0") : m;
    };
    auto profile = [](const codec& c) {
      auto id = fmtp_value(c.fmtp, "profile-level-id");
      return id.size() == 6 ? std::string_view(id).substr(0, 2) : std::string_view("42");
    };
    return mode(a) == mode(b) && iequals(profile(a), profile(b));
  }
  return true;
}

bool answer_result::any_accepted() const noexcept {
  return std::any_of(media.begin(), media.end(), [](const negotiated_media& m) { return m.accepted; });
}

answer_result answer_offer(const session_description& offer, const local_endpoint& local,
                           std::span<const std::uint16_t> ports, std::uint64_t session_id) {
  answer_result out;
  auto& answer = out.answer;
  answer = our_session(local, session_id, session_id);
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const media_description& o = offer.media[i];
    negotiated_media n;
    n.index = i;
    n.media = o.media;
    media_description a;
    a.media = o.media;
    a.protocol = o.protocol;
    const media_capabilities* caps = capabilities_for(local, o.media);
    const bool secure = is_secure(o.protocol);
    const bool usable = o.port != 0 && i < ports.size() && ports[i] != 0 && caps &&
                        (o.protocol == "RTP/AVP" || o.protocol == "RTP/AVPF" || secure) &&
                        !(local.srtp == srtp_policy::required && !secure) && !(secure && local.srtp == srtp_policy::off);
    if (usable) {
      // Ours in our order of preference, each under the payload type the offer gave it.
      for (const auto& mine : caps->codecs)
        for (const auto& theirs : o.codecs)
          if (same_codec(mine, theirs) &&
              std::none_of(n.codecs.begin(), n.codecs.end(), [&](const codec& c) { return c.payload_type == theirs.payload_type; })) {
            codec agreed = theirs;
            agreed.fmtp = answer_fmtp(theirs, mine);
            n.codecs.push_back(agreed);
            break;
          }
      if (caps->telephone_event)
        for (const auto& theirs : o.codecs)
          if (iequals(theirs.encoding, "telephone-event") && theirs.clock_rate == 8000) n.telephone_event = theirs;
      if (secure) {
        for (const auto& suite : local.crypto_suites) {
          auto it = std::find_if(o.cryptos.begin(), o.cryptos.end(), [&](const crypto& c) { return c.suite == suite; });
          if (it == o.cryptos.end() || !local.make_key) continue;
          n.remote_crypto = *it;
          n.local_crypto = crypto{it->tag, it->suite, local.make_key(it->suite), {}};
          break;
        }
      }
    }
    n.accepted = usable && !n.codecs.empty() && (!secure || n.local_crypto);
    if (!n.accepted) {
      // Rejected: port 0, the offer's formats (an m= line needs one), nothing else (§6).
      a.port = 0;
      a.formats = o.formats;
      answer.media.push_back(std::move(a));
      out.media.push_back(std::move(n));
      continue;
    }
    const direction theirs = read_remote(offer, o, o.rtcp_mux && local.rtcp_mux, n);
    n.local = is_hold_address(n.remote_address) && theirs == direction::sendrecv ? direction::recvonly : reversed(theirs);
    n.ptime = o.media == "audio" ? o.ptime.value_or(local.ptime) : 0;
    a.port = ports[i];
    a.codecs = n.codecs;
    if (n.telephone_event) a.codecs.push_back(*n.telephone_event);
    for (const auto& c : a.codecs) a.formats.push_back(std::to_string(c.payload_type));
    a.dir = n.local;
    a.rtcp_mux = n.rtcp_mux;
    if (o.media == "audio") a.ptime = n.ptime;
    if (n.local_crypto) a.cryptos.push_back(*n.local_crypto);
    answer.media.push_back(std::move(a));
    out.media.push_back(std::move(n));
  }
  return out;
}

session_description make_offer(const local_endpoint& local, std::span<const std::uint16_t> ports,
                               std::uint64_t session_id, std::uint64_t version) {
  session_description s = our_session(local, session_id, version);
  for (std::size_t i = 0; i < local.media.size(); ++i) {
    const auto& caps = local.media[i];
    media_description m;
    m.media = caps.media;
    m.port = i < ports.size() ? ports[i] : 0;
    const bool secure = local.srtp != srtp_policy::off && local.make_key;
    m.protocol = secure ? "RTP/SAVP" : "RTP/AVP";
    m.codecs = caps.codecs;
    if (caps.telephone_event) m.codecs.push_back(codec{101, "telephone-event", 8000, 1, "0-16"});
    for (const auto& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
    m.rtcp_mux = local.rtcp_mux;
    if (caps.media == "audio") m.ptime = local.ptime;
    if (secure) {
      unsigned tag = 1;
      for (const auto& suite : local.crypto_suites) m.cryptos.push_back({tag++, suite, local.make_key(suite), {}});
    }
    m.dir = direction::sendrecv;
    s.media.push_back(std::move(m));
  }
  return s;
}

std::vector<negotiated_media> read_answer(const session_description& offer, const session_description& answer,
                                          const local_endpoint& local) {
  std::vector<negotiated_media> out;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const media_description& o = offer.media[i];
    negotiated_media n;
    n.index = i;
    n.media = o.media;
    if (i >= answer.media.size() || answer.media[i].port == 0 || answer.media[i].media != o.media) {
      out.push_back(std::move(n));
      continue;
    }
    const media_description& a = answer.media[i];
    for (const auto& theirs : a.codecs) {
      if (iequals(theirs.encoding, "telephone-event")) {
        n.telephone_event = theirs;
        continue;
      }
      if (std::any_of(o.codecs.begin(), o.codecs.end(), [&](const codec& mine) { return same_codec(mine, theirs); }))
        n.codecs.push_back(theirs);
    }
    if (is_secure(o.protocol)) {
      // The answer names the tag of the offered line it took (RFC 4568 §7.1.2).
      for (const auto& c : a.cryptos) {
        auto it = std::find_if(o.cryptos.begin(), o.cryptos.end(), [&](const crypto& x) { return x.tag == c.tag && x.suite == c.suite; });
        if (it != o.cryptos.end()) {
          n.local_crypto = *it;
          n.remote_crypto = c;
          break;
        }
      }
    }
    n.accepted = !n.codecs.empty() && (!is_secure(o.protocol) || n.remote_crypto);
    const direction theirs = read_remote(answer, a, a.rtcp_mux && o.rtcp_mux, n);
    n.local = reversed(theirs);
    n.ptime = o.media == "audio" ? a.ptime.value_or(local.ptime) : 0;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace junction::media::sdp
