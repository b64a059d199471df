#include "webrtc/offer_answer.hpp"

#include <algorithm>
#include <charconv>

#include "core/ascii.hpp"
#include "media/sdp/negotiation.hpp"

namespace junction::webrtc {
namespace {

namespace sdp = media::sdp;
using sdp::fmtp_value;

const sdp::attribute* find(const std::vector<sdp::attribute>& list, std::string_view name) {
  for (const auto& a : list)
    if (a.name == name) return &a;
  return nullptr;
}

// A media-level attribute, else the session-level one (RFC 8839 and RFC 8842 allow both).
std::string value_of(const sdp::session_description& s, const sdp::media_description& m, std::string_view name) {
  if (const auto* a = find(m.other, name)) return a->value;
  if (const auto* a = find(s.other, name)) return a->value;
  return {};
}

template <class T>
std::optional<T> number(std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = text.find_first_of(" \t");
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  return out;
}

std::optional<sdp::codec> rtx_for(const offered_media& m, std::uint8_t payload_type) {
  for (const auto& c : m.codecs)
    if (iequals(c.encoding, "rtx") && fmtp_value(c.fmtp, "apt") == std::to_string(payload_type)) return c;
  return std::nullopt;
}

bool supported_feedback(std::string_view value) {
  return value == "nack" || value == "nack pli" || value == "ccm fir" || value == "goog-remb" ||
         value == "transport-cc";
}

bool supported_extension(std::string_view uri) {
  return uri == extension_uri::mid || uri == extension_uri::abs_send_time || uri == extension_uri::transport_cc ||
         uri == extension_uri::audio_level || uri == extension_uri::rtp_stream_id ||
         uri == extension_uri::repaired_rtp_stream_id;
}

}  // namespace

bool is_rid(std::string_view rid) {
  return !rid.empty() && rid.size() <= 16 && std::all_of(rid.begin(), rid.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::variant<offer, std::string> read_offer(const sdp::session_description& s) {
  offer o;
  if (s.media.empty()) return std::string("the offer has no media section");
  if (const auto* group = find(s.other, "group")) {
    auto w = words(group->value);
    if (!w.empty() && w.front() == "BUNDLE")
      for (std::size_t i = 1; i < w.size(); ++i) o.bundle.emplace_back(w[i]);
  }
  for (const auto& m : s.media) {
    offered_media om;
    om.kind = m.media;
    om.rejected = m.port == 0;
    om.dir = s.direction_of(m);
    om.codecs = m.codecs;
    if (const auto* mid = find(m.other, "mid")) om.mid = mid->value;
    const bool rtp = m.media == "audio" || m.media == "video";
    if (rtp && !om.rejected && m.protocol.find("SAVPF") == std::string::npos)
      return "section " + std::to_string(o.media.size()) + " is " + m.protocol + ", not UDP/TLS/RTP/SAVPF";
    for (const auto& a : m.other) {
      if (a.name == "rtcp-fb") {
        const auto space = a.value.find(' ');
        if (space == std::string::npos) continue;
        if (auto pt = number<unsigned>(std::string_view(a.value).substr(0, space)); pt && *pt < 128)
          om.feedback.emplace_back(static_cast<std::uint8_t>(*pt), a.value.substr(space + 1));
      } else if (a.name == "extmap") {
        auto w = words(a.value);
        if (w.size() < 2) continue;
        auto id_text = w[0].substr(0, w[0].find('/'));
        if (auto id = number<unsigned>(id_text); id && *id >= 1 && *id <= 255)
          om.extensions.push_back({static_cast<std::uint8_t>(*id), std::string(w[1])});
      } else if (a.name == "ssrc") {
        auto id = number<std::uint32_t>(std::string_view(a.value).substr(0, a.value.find(' ')));
        if (id && std::find(om.ssrcs.begin(), om.ssrcs.end(), *id) == om.ssrcs.end()) om.ssrcs.push_back(*id);
      } else if (a.name == "rid") {
        auto w = words(a.value);
        if (w.size() >= 2 && w[1] == "send" && is_rid(w[0]) &&
            std::find(om.rids.begin(), om.rids.end(), w[0]) == om.rids.end())
          om.rids.emplace_back(w[0]);
      }
    }
    if (!om.rejected && o.ice.ufrag.empty()) {
      o.ice.ufrag = value_of(s, m, "ice-ufrag");
      o.ice.pwd = value_of(s, m, "ice-pwd");
      o.setup = value_of(s, m, "setup");
      const std::string fp = value_of(s, m, "fingerprint");
      if (auto v = parse_fingerprint(fp)) o.fingerprint = std::move(*v);
    }
    o.media.push_back(std::move(om));
  }
  if (o.ice.ufrag.empty() || o.ice.pwd.empty()) return std::string("the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)");
  if (o.fingerprint.digest.empty()) return std::string("the offer has no usable DTLS fingerprint (a=fingerprint)");
  if (!o.setup.empty() && o.setup != "actpass" && o.setup != "active" && o.setup != "passive")
    return "the offer's a=setup:" + o.setup + " is none of actpass, active, passive";
  return o;
}

std::optional<chosen_codec> choose_opus(const offered_media& m) {
  for (const auto& c : m.codecs)
    if (iequals(c.encoding, "opus") && c.clock_rate == 48000) return chosen_codec{c, std::nullopt};
  return std::nullopt;
}

std::optional<chosen_codec> choose_video(const offered_media& m, bool prefer_h264) {
  auto h264_rank = [](const sdp::codec& c) -> int {
    if (!iequals(c.encoding, "H264") || c.clock_rate != 90000) return -1;
    if (fmtp_value(c.fmtp, "packetization-mode") != "1") return -1;
    const std::string_view profile = fmtp_value(c.fmtp, "profile-level-id");
    if (profile.size() >= 4 && iequals(profile.substr(0, 4), "42e0")) return 3;  // constrained baseline
    if (profile.size() >= 2 && iequals(profile.substr(0, 2), "42")) return 2;    // baseline
    return 1;
  };
  const sdp::codec* best_h264 = nullptr;
  int best_rank = 0;
  const sdp::codec* vp8 = nullptr;
  for (const auto& c : m.codecs) {
    if (const int r = h264_rank(c); r > best_rank) {
      best_rank = r;
      best_h264 = &c;
    }
    if (!vp8 && iequals(c.encoding, "VP8") && c.clock_rate == 90000) vp8 = &c;
  }
  const sdp::codec* pick = prefer_h264 ? (best_h264 ? best_h264 : vp8) : (vp8 ? vp8 : best_h264);
  if (!pick) return std::nullopt;
  return chosen_codec{*pick, rtx_for(m, pick->payload_type)};
}

void add_candidates(media::sdp::media_description& m, const std::vector<local_candidate>& candidates) {
  unsigned foundation = 1;
  for (const auto& c : candidates) {
    // RFC 8445 §5.1.2.1 priorities with type preference 126 (host); ICE-TCP below UDP.
    const std::uint32_t priority = c.tcp ? 1694498815u - foundation : 2130706431u - foundation;
    std::string line = std::to_string(foundation) + " 1 " + (c.tcp ? "tcp " : "udp ") + std::to_string(priority) +
                       " " + c.address + " " + std::to_string(c.port) + " typ host";
    if (c.tcp) line += " tcptype passive";
    m.other.push_back({"candidate", line, true});
    ++foundation;
  }
  m.other.push_back({"end-of-candidates", "", false});
}

dtls_transport::role answer_role(const offer& o) {
  return o.setup == "active" ? dtls_transport::role::server : dtls_transport::role::client;
}

sdp::session_description make_answer(const offer& o, const answer_parameters& p) {
  sdp::session_description a;
  a.session_id = p.session_id;
  a.session_version = 1;
  a.other.push_back({"ice-lite", "", false});
  std::string bundle = "BUNDLE";
  for (std::size_t i = 0; i < o.media.size(); ++i)
    if (i < p.choices.size() && p.choices[i] && !o.media[i].rejected) bundle += " " + o.media[i].mid;
  if (bundle != "BUNDLE") a.other.push_back({"group", bundle, true});
  a.other.push_back({"msid-semantic", " WMS *", true});

  const local_candidate* first_udp = nullptr;
  for (const auto& c : p.candidates)
    if (!c.tcp) {
      first_udp = &c;
      break;
    }
  const std::string setup = answer_role(o) == dtls_transport::role::client ? "active" : "passive";

  for (std::size_t i = 0; i < o.media.size(); ++i) {
    const offered_media& om = o.media[i];
    sdp::media_description m;
    m.media = om.kind;
    m.protocol = om.kind == "application" ? "UDP/DTLS/SCTP" : "UDP/TLS/RTP/SAVPF";
    m.other.push_back({"mid", om.mid, true});
    const bool taken = i < p.choices.size() && p.choices[i] && !om.rejected;
    if (!taken) {
      // Rejected (RFC 8843 §7.3.3): port 0, and out of the BUNDLE group.
      m.port = 0;
      m.formats.push_back(om.codecs.empty() ? "0" : std::to_string(om.codecs.front().payload_type));
      m.dir = sdp::direction::inactive;
      a.media.push_back(std::move(m));
      continue;
    }
    const chosen_codec& choice = *p.choices[i];
    m.port = first_udp ? first_udp->port : 9;
    m.connection = first_udp ? first_udp->address : "0.0.0.0";
    m.codecs.push_back(choice.codec);
    m.formats.push_back(std::to_string(choice.codec.payload_type));
    if (choice.rtx) {
      m.codecs.push_back(*choice.rtx);
      m.formats.push_back(std::to_string(choice.rtx->payload_type));
    }
    m.rtcp_mux = true;
    m.dir = i < p.directions.size() ? p.directions[i] : sdp::reversed(om.dir);
    m.other.push_back({"ice-ufrag", p.ice.ufrag, true});
    m.other.push_back({"ice-pwd", p.ice.pwd, true});
    m.other.push_back({"fingerprint", p.fingerprint, true});
    m.other.push_back({"setup", setup, true});
    const bool sends = m.dir == sdp::direction::sendonly || m.dir == sdp::direction::sendrecv;
    const bool no_twcc = p.receiver_estimates && sends;
    for (const auto& e : om.extensions)
      if (supported_extension(e.uri) && !(no_twcc && e.uri == extension_uri::transport_cc))
        m.other.push_back({"extmap", std::to_string(e.id) + " " + e.uri, true});
    for (const auto& [pt, value] : om.feedback)
      if (pt == choice.codec.payload_type && supported_feedback(value) && !(no_twcc && value == "transport-cc"))
        m.other.push_back({"rtcp-fb", std::to_string(pt) + " " + value, true});
    if (m.dir == sdp::direction::sendonly || m.dir == sdp::direction::sendrecv) {
      if (i < p.send_ssrcs.size() && p.send_ssrcs[i] != 0) {
        const std::uint32_t ssrc = p.send_ssrcs[i];
        const std::uint32_t rtx = i < p.send_rtx_ssrcs.size() ? p.send_rtx_ssrcs[i] : 0;
        if (rtx && choice.rtx)
          m.other.push_back({"ssrc-group", "FID " + std::to_string(ssrc) + " " + std::to_string(rtx), true});
        m.other.push_back({"ssrc", std::to_string(ssrc) + " cname:" + p.cname, true});
        if (rtx && choice.rtx) m.other.push_back({"ssrc", std::to_string(rtx) + " cname:" + p.cname, true});
      }
    }
    if (i < p.receive_rids.size() && !p.receive_rids[i].empty()) {
      std::string list;
      for (const auto& rid : p.receive_rids[i]) {
        m.other.push_back({"rid", rid + " recv", true});
        list += (list.empty() ? "" : ";") + rid;
      }
      m.other.push_back({"simulcast", "recv " + list, true});
    }
    add_candidates(m, p.candidates);
    a.media.push_back(std::move(m));
  }
  return a;
}

}  // namespace junction::webrtc
