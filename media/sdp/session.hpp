#pragma once
// SDP (RFC 8866): the session and media descriptions a SIP call carries, parsed into what the
// media path reads (addresses, ports, payload types with their rtpmap/fmtp, direction, ptime,
// rtcp-mux, RFC 4568 crypto lines) and written back. Attributes it does not read are kept, in
// order, and written out again. Pure, with limits on size, lines and media sections.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace junction::media::sdp {

enum class direction { sendrecv, sendonly, recvonly, inactive };
std::string_view direction_name(direction d) noexcept;
// What the other side's direction becomes in an answer (RFC 3264 §6.1).
direction reversed(direction d) noexcept;

// One payload type of an m= line: its rtpmap (or the RFC 3551 static assignment) and fmtp.
struct codec {
  std::uint8_t payload_type = 0;
  std::string encoding;          // as written ("PCMU", "opus", "H264", "telephone-event")
  std::uint32_t clock_rate = 0;
  std::uint8_t channels = 1;
  std::string fmtp;              // the parameters after the payload type, or empty
  friend bool operator==(const codec&, const codec&) = default;
};

// a=crypto (RFC 4568 §9.1): tag, suite and the key parameters, as text.
struct crypto {
  unsigned tag = 1;
  std::string suite;             // "AES_CM_128_HMAC_SHA1_80", ...
  std::string key_params;        // "inline:<base64 key||salt>[|lifetime][|MKI:length]"
  std::string session_params;    // anything after the key parameters
  friend bool operator==(const crypto&, const crypto&) = default;
};

struct attribute {
  std::string name;
  std::string value;             // empty for property attributes
  bool has_value = false;
  friend bool operator==(const attribute&, const attribute&) = default;
};

struct media_description {
  std::string media;             // "audio", "video", ...
  std::uint16_t port = 0;        // 0: a rejected or disabled stream
  std::uint16_t port_count = 1;
  std::string protocol;          // "RTP/AVP", "RTP/SAVP", "RTP/AVPF", ...
  std::vector<std::string> formats;  // as listed on the m= line
  std::vector<codec> codecs;     // for the formats that are payload types, in m= order
  std::string connection;        // c= address for this medium, or empty (the session's)
  std::optional<direction> dir;  // a=sendrecv etc. in this section
  bool rtcp_mux = false;
  std::optional<std::uint16_t> rtcp_port;  // a=rtcp
  std::optional<std::uint32_t> ptime, maxptime;
  std::vector<crypto> cryptos;
  std::vector<attribute> other;  // everything else, in order
  friend bool operator==(const media_description&, const media_description&) = default;

  const codec* find(std::uint8_t payload_type) const noexcept;
};

struct session_description {
  std::string origin_user = "-";
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  std::string origin_address = "127.0.0.1";
  std::string name = "-";
  std::string connection;        // session-level c= address (IP4 or IP6), or empty
  std::optional<direction> dir;  // session-level direction attribute
  std::vector<attribute> other;  // other session-level lines' attributes (a=), in order
  std::vector<media_description> media;
  friend bool operator==(const session_description&, const session_description&) = default;

  // The direction in force for a medium: its own, else the session's, else sendrecv.
  direction direction_of(const media_description& m) const noexcept;
  // Where a medium's RTP goes: its c=, else the session's.
  std::string_view address_of(const media_description& m) const noexcept;
};

struct parse_limits {
  std::size_t max_size = 16384;
  std::size_t max_lines = 512;
  std::size_t max_media = 16;
  std::size_t max_formats = 64;  // per m= line
};

// Why a description is refused (the category "sdp"; message() says it in words).
enum class sdp_errc {
  too_large = 1,           // more than parse_limits::max_size
  too_many_lines,          // more than parse_limits::max_lines
  not_a_line,              // a line that is not <type>=<value>
  no_version,              // empty, or the first line is not v=0
  second_version,          // a second v= line
  missing_origin_or_name,  // no o= or no s=
  bad_origin,              // o= without six fields, or a session id or version not a number
  bad_connection,          // c= is not IN IP4|IP6 <address>
  bad_media,               // m= without media, port and protocol, or a port not a number
  too_many_media,          // more than parse_limits::max_media
  too_many_formats,        // more than parse_limits::max_formats on one m= line
  bad_rtpmap,
  bad_fmtp,
  bad_ptime,
  bad_rtcp,
  bad_crypto,
};
const std::error_category& sdp_category() noexcept;
std::error_code make_error_code(sdp_errc e) noexcept;

struct parse_result {
  std::optional<session_description> session;
  std::error_code error;    // why the description was refused
  std::size_t line = 0;     // on which line (1-based; 0 when it is the whole description)
  std::string_view detail;  // what exactly was wrong on it (static text)
  bool ok() const noexcept { return session.has_value(); }
  // "line 4: m= port is not a number": for a 400/488 reason and the log.
  std::string describe() const;
};

parse_result parse(std::string_view text, const parse_limits& limits = {});
std::string serialize(const session_description& s);

// The RFC 3551 static payload types a phone may list without an rtpmap (0 PCMU, 8 PCMA, 9 G722,
// 18 G729, 3 GSM, 4 G723, 34 H263…): nothing for dynamic or unassigned ones.
std::optional<codec> static_payload_type(std::uint8_t pt);

}  // namespace junction::media::sdp

template <>
struct std::is_error_code_enum<junction::media::sdp::sdp_errc> : std::true_type {};
