#include "media/sdp/session.hpp"

#include "media/enum_category.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>

namespace junction::media::sdp {
namespace {

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Splits at single spaces; runs of spaces count as one (lenient: some phones pad).
std::vector<std::string_view> words(std::string_view s, std::size_t max = 1024) {
  std::vector<std::string_view> out;
  while (!s.empty() && out.size() < max) {
    auto start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    auto end = s.find(' ');
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end);
  }
  return out;
}

std::optional<direction> direction_attribute(std::string_view name) {
  if (name == "sendrecv") return direction::sendrecv;
  if (name == "sendonly") return direction::sendonly;
  if (name == "recvonly") return direction::recvonly;
  if (name == "inactive") return direction::inactive;
  return std::nullopt;
}

// "IN IP4 192.0.2.1[/ttl[/n]]" -> "192.0.2.1"
std::optional<std::string> connection_address(std::string_view value) {
  auto w = words(value);
  if (w.size() != 3 || w[0] != "IN" || (w[1] != "IP4" && w[1] != "IP6")) return std::nullopt;
  return std::string(w[2].substr(0, w[2].find('/')));
}

struct pending_media {
  media_description m;
  std::map<std::uint8_t, codec> rtpmaps;
  std::map<std::uint8_t, std::string> fmtps;
};

void finish_media(pending_media& p) {
  for (const auto& f : p.m.formats) {
    auto pt = number<unsigned>(f);
    if (!pt || *pt > 127) continue;  // not an RTP payload type (e.g. "webrtc-datachannel")
    auto pt8 = static_cast<std::uint8_t>(*pt);
    codec c;
    if (auto it = p.rtpmaps.find(pt8); it != p.rtpmaps.end()) c = it->second;
    else if (auto s = static_payload_type(pt8)) c = *s;
    else c.payload_type = pt8;
    if (auto it = p.fmtps.find(pt8); it != p.fmtps.end()) c.fmtp = it->second;
    p.m.codecs.push_back(std::move(c));
  }
}

}  // namespace

std::string_view direction_name(direction d) noexcept {
  switch (d) {
    case direction::sendrecv: return "sendrecv";
    case direction::sendonly: return "sendonly";
    case direction::recvonly: return "recvonly";
    case direction::inactive: return "inactive";
  }
  return "sendrecv";
}

direction reversed(direction d) noexcept {
  switch (d) {
    case direction::sendonly: return direction::recvonly;
    case direction::recvonly: return direction::sendonly;
    default: return d;
  }
}

const codec* media_description::find(std::uint8_t pt) const noexcept {
  for (const auto& c : codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

direction session_description::direction_of(const media_description& m) const noexcept {
  return m.dir.value_or(dir.value_or(direction::sendrecv));
}

std::string_view session_description::address_of(const media_description& m) const noexcept {
  return m.connection.empty() ? std::string_view(connection) : std::string_view(m.connection);
}

std::optional<codec> static_payload_type(std::uint8_t pt) {
  switch (pt) {
    case 0: return codec{0, "PCMU", 8000, 1, {}};
    case 3: return codec{3, "GSM", 8000, 1, {}};
    case 4: return codec{4, "G723", 8000, 1, {}};
    case 8: return codec{8, "PCMA", 8000, 1, {}};
    case 9: return codec{9, "G722", 8000, 1, {}};  // 8000 by RFC 3551's famous mistake: 16 kHz audio
    case 13: return codec{13, "CN", 8000, 1, {}};
    case 18: return codec{18, "G729", 8000, 1, {}};
    case 26: return codec{26, "JPEG", 90000, 1, {}};
    case 31: return codec{31, "H261", 90000, 1, {}};
    case 34: return codec{34, "H263", 90000, 1, {}};
    default: return std::nullopt;
  }
}

namespace {

std::string_view describe(sdp_errc e) noexcept {
  switch (e) {
    case sdp_errc::too_large: return "the description is too large";
    case sdp_errc::too_many_lines: return "too many lines";
    case sdp_errc::not_a_line: return "a line is not <type>=<value>";
    case sdp_errc::no_version: return "the description does not start with v=0";
    case sdp_errc::second_version: return "a second v= line";
    case sdp_errc::missing_origin_or_name: return "o= and s= are required";
    case sdp_errc::bad_origin: return "bad o= line";
    case sdp_errc::bad_connection: return "bad c= line";
    case sdp_errc::bad_media: return "bad m= line";
    case sdp_errc::too_many_media: return "too many media sections";
    case sdp_errc::too_many_formats: return "too many formats on an m= line";
    case sdp_errc::bad_rtpmap: return "bad a=rtpmap";
    case sdp_errc::bad_fmtp: return "bad a=fmtp";
    case sdp_errc::bad_ptime: return "bad a=ptime";
    case sdp_errc::bad_rtcp: return "bad a=rtcp";
    case sdp_errc::bad_crypto: return "bad a=crypto";
  }
  return "unknown SDP error";
}

}  // namespace

const std::error_category& sdp_category() noexcept {
  static const enum_category<sdp_errc> category{"sdp", describe};
  return category;
}

std::error_code make_error_code(sdp_errc e) noexcept { return {static_cast<int>(e), sdp_category()}; }

std::string parse_result::describe() const {
  if (!error) return {};
  if (line == 0) return std::string(detail.empty() ? error.message() : std::string(detail));
  return fmt::format("line {}: {}", line, detail.empty() ? error.message() : std::string(detail));
}

parse_result parse(std::string_view text, const parse_limits& limits) {
  parse_result r;
  if (text.size() > limits.max_size) {
    r.error = sdp_errc::too_large;
    r.detail = "larger than parse_limits::max_size";
    return r;
  }
  session_description s;
  std::optional<pending_media> current;
  bool have_version = false, have_origin = false, have_name = false;
  std::size_t line_no = 0;
  auto fail = [&](sdp_errc e, std::string_view why) {
    r.error = e;
    r.line = line_no;
    r.detail = why;
    return r;
  };
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (++line_no > limits.max_lines) return fail(sdp_errc::too_many_lines, "too many lines");
    if (line.empty()) continue;  // a trailing blank line is common; tolerated anywhere
    if (line.size() < 2 || line[1] != '=') return fail(sdp_errc::not_a_line, "not <type>=<value>");
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!have_version) {
      if (type != 'v' || value != "0") return fail(sdp_errc::no_version, "the first line must be v=0");
      have_version = true;
      continue;
    }
    switch (type) {
      case 'o': {
        auto w = words(value);
        if (w.size() != 6) return fail(sdp_errc::bad_origin, "o= needs six fields");
        auto id = number<std::uint64_t>(w[1]);
        auto version = number<std::uint64_t>(w[2]);
        if (!id || !version) return fail(sdp_errc::bad_origin, "o= session id and version must be numbers");
        s.origin_user.assign(w[0]);
        s.session_id = *id;
        s.session_version = *version;
        s.origin_address.assign(w[5]);
        have_origin = true;
        break;
      }
      case 's':
        s.name.assign(value.empty() ? "-" : value);
        have_name = true;
        break;
      case 'c': {
        auto address = connection_address(value);
        if (!address) return fail(sdp_errc::bad_connection, "c= must be IN IP4|IP6 <address>");
        (current ? current->m.connection : s.connection) = *address;
        break;
      }
      case 'm': {
        if (current) {
          finish_media(*current);
          s.media.push_back(std::move(current->m));
        }
        if (s.media.size() >= limits.max_media) return fail(sdp_errc::too_many_media, "too many media sections");
        auto w = words(value, limits.max_formats + 4);
        if (w.size() < 3) return fail(sdp_errc::bad_media, "m= needs media, port and protocol");
        if (w.size() > limits.max_formats + 3) return fail(sdp_errc::too_many_formats, "too many formats");
        current.emplace();
        auto& m = current->m;
        m.media.assign(w[0]);
        auto slash = w[1].find('/');
        auto port = number<std::uint16_t>(w[1].substr(0, slash));
        if (!port) return fail(sdp_errc::bad_media, "m= port is not a number");
        m.port = *port;
        if (slash != std::string_view::npos) {
          auto count = number<std::uint16_t>(w[1].substr(slash + 1));
          if (!count || *count == 0) return fail(sdp_errc::bad_media, "m= port count is not a number");
          m.port_count = *count;
        }
        m.protocol.assign(w[2]);
        for (std::size_t i = 3; i < w.size(); ++i) m.formats.emplace_back(w[i]);
        break;
      }
      case 'a': {
        auto colon = value.find(':');
        std::string_view name = value.substr(0, colon);
        std::string_view arg = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
        if (auto d = direction_attribute(name); d && colon == std::string_view::npos) {
          (current ? current->m.dir : s.dir) = *d;
          break;
        }
        if (!current) {
          s.other.push_back({std::string(name), std::string(arg), colon != std::string_view::npos});
          break;
        }
        auto& m = current->m;
        if (name == "rtpmap") {
          auto w = words(arg, 3);
          auto pt = w.size() == 2 ? number<unsigned>(w[0]) : std::nullopt;
          if (!pt || *pt > 127) return fail(sdp_errc::bad_rtpmap, "a=rtpmap needs <payload type> <encoding>/<clock rate>");
          auto parts = w[1];
          auto s1 = parts.find('/');
          if (s1 == std::string_view::npos) return fail(sdp_errc::bad_rtpmap, "a=rtpmap without a clock rate");
          if (s1 == 0) return fail(sdp_errc::bad_rtpmap, "a=rtpmap without an encoding name");
          auto s2 = parts.find('/', s1 + 1);
          auto rate = number<std::uint32_t>(parts.substr(s1 + 1, s2 == std::string_view::npos ? std::string_view::npos : s2 - s1 - 1));
          std::optional<unsigned> channels = 1u;
          if (s2 != std::string_view::npos) channels = number<unsigned>(parts.substr(s2 + 1));
          if (!rate || *rate == 0 || !channels || *channels == 0 || *channels > 255)
            return fail(sdp_errc::bad_rtpmap, "a=rtpmap clock rate or channels is not a number");
          current->rtpmaps[static_cast<std::uint8_t>(*pt)] =
              codec{static_cast<std::uint8_t>(*pt), std::string(parts.substr(0, s1)), *rate,
                    static_cast<std::uint8_t>(*channels), {}};
        } else if (name == "fmtp") {
          auto space = arg.find(' ');
          auto pt = number<unsigned>(arg.substr(0, space));
          if (!pt || *pt > 127) return fail(sdp_errc::bad_fmtp, "a=fmtp needs a payload type");
          current->fmtps[static_cast<std::uint8_t>(*pt)] =
              space == std::string_view::npos ? std::string() : std::string(arg.substr(space + 1));
        } else if (name == "ptime" || name == "maxptime") {
          auto v = number<std::uint32_t>(arg.substr(0, arg.find('.')));  // "20" or "20.0"
          if (!v || *v == 0 || *v > 10000) return fail(sdp_errc::bad_ptime, "a=ptime is not a number of milliseconds");
          (name == "ptime" ? m.ptime : m.maxptime) = *v;
        } else if (name == "rtcp-mux") {
          m.rtcp_mux = true;
        } else if (name == "rtcp") {
          auto port = number<std::uint16_t>(words(arg, 1).empty() ? std::string_view() : words(arg, 1)[0]);
          if (!port) return fail(sdp_errc::bad_rtcp, "a=rtcp needs a port");
          m.rtcp_port = *port;
        } else if (name == "crypto") {
          auto w = words(arg, 4);
          auto tag = w.size() >= 3 ? number<unsigned>(w[0]) : std::nullopt;
          if (!tag || *tag > 999999999) return fail(sdp_errc::bad_crypto, "a=crypto needs <tag> <suite> <key params>");
          m.cryptos.push_back({*tag, std::string(w[1]), std::string(w[2]),
                               w.size() > 3 ? std::string(arg.substr(static_cast<std::size_t>(w[3].data() - arg.data()))) : std::string()});
        } else {
          m.other.push_back({std::string(name), std::string(arg), colon != std::string_view::npos});
        }
        break;
      }
      case 'v':
        return fail(sdp_errc::second_version, "a second v= line");
      default:
        break;  // i= u= e= p= b= t= r= z= k=: nothing the media path reads
    }
  }
  if (!have_version) return fail(sdp_errc::no_version, "empty");
  if (!have_origin || !have_name) return fail(sdp_errc::missing_origin_or_name, "o= and s= are required");
  if (current) {
    finish_media(*current);
    s.media.push_back(std::move(current->m));
  }
  r.session = std::move(s);
  return r;
}

std::string serialize(const session_description& s) {
  auto ip = [](std::string_view a) { return a.find(':') != std::string_view::npos ? "IP6" : "IP4"; };
  std::string out = fmt::format("v=0\r\no={} {} {} IN {} {}\r\ns={}\r\n", s.origin_user, s.session_id,
                                s.session_version, ip(s.origin_address), s.origin_address, s.name);
  if (!s.connection.empty()) out += fmt::format("c=IN {} {}\r\n", ip(s.connection), s.connection);
  out += "t=0 0\r\n";
  auto attribute_line = [&out](const attribute& a) {
    out += a.has_value ? fmt::format("a={}:{}\r\n", a.name, a.value) : fmt::format("a={}\r\n", a.name);
  };
  for (const auto& a : s.other) attribute_line(a);
  if (s.dir) out += fmt::format("a={}\r\n", direction_name(*s.dir));
  for (const auto& m : s.media) {
    out += fmt::format("m={} {}", m.media, m.port);
    if (m.port_count > 1) out += fmt::format("/{}", m.port_count);
    out += " " + m.protocol;
    for (const auto& f : m.formats) out += " " + f;
    out += "\r\n";
    if (!m.connection.empty()) out += fmt::format("c=IN {} {}\r\n", ip(m.connection), m.connection);
    for (const auto& c : m.codecs) {
      // Static payload types get their rtpmap too: harmless, and clearer to readers. A dynamic
      // one that came without an rtpmap keeps its fmtp (found by the SDP fuzzer).
      if (!c.encoding.empty()) {
        out += fmt::format("a=rtpmap:{} {}/{}", c.payload_type, c.encoding, c.clock_rate);
        if (c.channels > 1) out += fmt::format("/{}", c.channels);
        out += "\r\n";
      }
      if (!c.fmtp.empty()) out += fmt::format("a=fmtp:{} {}\r\n", c.payload_type, c.fmtp);
    }
    if (m.ptime) out += fmt::format("a=ptime:{}\r\n", *m.ptime);
    if (m.maxptime) out += fmt::format("a=maxptime:{}\r\n", *m.maxptime);
    if (m.rtcp_port) out += fmt::format("a=rtcp:{}\r\n", *m.rtcp_port);
    if (m.rtcp_mux) out += "a=rtcp-mux\r\n";
    for (const auto& c : m.cryptos) {
      out += fmt::format("a=crypto:{} {} {}", c.tag, c.suite, c.key_params);
      if (!c.session_params.empty()) out += " " + c.session_params;
      out += "\r\n";
    }
    for (const auto& a : m.other) attribute_line(a);
    if (m.dir) out += fmt::format("a={}\r\n", direction_name(*m.dir));
  }
  return out;
}

}  // namespace junction::media::sdp
