#include "sip/parser.hpp"

#include <algorithm>
#include <bitset>
#include <cstring>

namespace junction::sip {

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::uint64_t max_cseq = 0x7fffffff;  // RFC 3261 §8.1.1.5: less than 2^31

// Lines of the header section are joined by CRLF; a CRLF followed by SP or HTAB folds the
// line (RFC 3261 §7.3.1). Folding becomes spaces in place, so values stay views.
void unfold(char* p, std::size_t n) {
  for (std::size_t i = 0; i + 2 < n; ++i)
    if (p[i] == '\r' && p[i + 1] == '\n' && (p[i + 2] == ' ' || p[i + 2] == '\t'))
      p[i] = p[i + 1] = ' ';
}

}  // namespace

// Fills a message's private fields; a friend of `message`, so the checks live here and the
// message stays a plain container.
struct message_parser {
  const parse_limits& limits;
  bool datagram;
  message m;
  std::error_code error;

  // The first failure decides the answer; later ones are not looked for.
  bool fail(parse_errc e) {
    if (!error) error = e;
    return false;
  }

  // Copies the bytes into the message and unfolds its header section; returns the copy.
  std::string_view own(std::string_view bytes, std::size_t header_end) {
    m.raw_ = std::make_unique<char[]>(bytes.size());
    std::memcpy(m.raw_.get(), bytes.data(), bytes.size());
    unfold(m.raw_.get(), header_end + 2);
    return {m.raw_.get(), bytes.size()};
  }
  bool has_start_line() const { return !m.method_.empty() || m.status_ != 0; }
  bool is_request() const { return m.is_request(); }

  bool start_line(std::string_view line);
  bool header_fields(std::string_view section);
  bool body(std::string_view after_headers);
  void check_request_uri();
  void check_headers();
};


bool message_parser::start_line(std::string_view line) {
  if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; an empty reason is legal
    // (RFC 4475 §3.1.1.13), a code of more than three digits is not (§3.1.2.19).
    if (line.size() < 11 || !iequals(line.substr(0, 8), "SIP/2.0 ")) return fail(parse_errc::bad_status_line);
    auto code = parse_decimal(line.substr(8, 3), 699);
    if (!code || *code < 100 || (line.size() > 11 && line[11] != ' '))
      return fail(parse_errc::bad_status_code);
    m.status_ = static_cast<int>(*code);
    m.reason_ = line.size() > 12 ? line.substr(12) : std::string_view{};
    return true;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF: exactly two single spaces
  // (RFC 4475 §3.1.2.8-3.1.2.10: LWS in the URI, several spaces, trailing spaces).
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  m.method_ = line.substr(0, sp1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos ||
      sp2 == sp1 + 1 || sp2 + 1 == line.size())
    return fail(parse_errc::malformed_request_line);
  if (!is_token(m.method_)) return fail(parse_errc::bad_method);
  m.request_uri_text_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!iequals(version, "SIP/2.0")) {
    if (version.size() > 4 && iequals(version.substr(0, 4), "SIP/"))
      return fail(parse_errc::version_not_supported);
    return fail(parse_errc::bad_sip_version);
  }
  return true;
}

bool message_parser::header_fields(std::string_view section) {
  // One allocation for the fields, however many there are (up to the limit).
  m.headers_.reserve(std::min<std::size_t>(std::count(section.begin(), section.end(), '\n') + 1, limits.max_headers));
  while (!section.empty()) {
    std::size_t end = section.find(crlf);
    std::string_view line = section.substr(0, end);
    section = end == std::string_view::npos ? std::string_view{} : section.substr(end + 2);
    if (line.size() > limits.max_line) return fail(parse_errc::header_field_too_long);
    if (m.headers_.size() >= limits.max_headers) return fail(parse_errc::too_many_header_fields);
    // A bare CR or LF inside a line is not SIP framing: refuse rather than guess.
    // (One pass over the line: string_view::find_first_of with a set calls memchr per character.)
    if (std::any_of(line.begin(), line.end(), [](char c) { return c == '\r' || c == '\n'; }))
      return fail(parse_errc::bad_line_end);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(parse_errc::malformed_header_field);
    std::string_view name = trim(line.substr(0, colon));
    if (!is_token(name)) return fail(parse_errc::malformed_header_name);
    m.headers_.push_back(header_field{lookup_header(name), name, trim(line.substr(colon + 1))});
  }
  return true;
}

bool message_parser::body(std::string_view after_headers) {
  std::size_t lengths = m.count(header_id::content_length);
  if (lengths > 1) return fail(parse_errc::multiple_content_length_header_fields);
  if (lengths == 0) {
    if (!datagram) return fail(parse_errc::content_length_required);
    m.body_ = after_headers;
    return true;
  }
  auto length = parse_decimal(m.value(header_id::content_length), limits.max_message);
  if (!length) return fail(parse_errc::bad_content_length);
  if (*length > after_headers.size()) return fail(parse_errc::content_length_larger_than_message);
  // Bytes after the body of a datagram are ignored (RFC 4475 §3.1.1.8).
  m.body_ = after_headers.substr(0, *length);
  return true;
}

void message_parser::check_request_uri() {
  auto u = parse_uri(m.request_uri_text_);
  if (!u) {
    fail(parse_errc::bad_request_uri);
    return;
  }
  // Headers in a Request-URI are not allowed (RFC 3261 §19.1.5, RFC 4475 §3.1.2.11).
  if (u->is_sip_family() && !u->headers.empty()) {
    fail(parse_errc::request_uri_with_headers);
    return;
  }
  m.request_uri_ = std::move(*u);
}

void message_parser::check_headers() {
  std::bitset<static_cast<std::size_t>(header_id::count_)> seen;  // single-valued ones met so far
  for (const auto& h : m.headers_) {
    if (!is_single_valued(h.id)) continue;
    const auto id = static_cast<std::size_t>(h.id);
    if (seen.test(id)) {
      fail(parse_errc::duplicate_single_valued_header_field);
      return;
    }
    seen.set(id);
  }

  m.call_id_ = m.value(header_id::call_id);
  if (m.call_id_.empty()) { fail(parse_errc::missing_call_id); return; }
  for (char c : m.call_id_)
    if (is_wsp(c)) { fail(parse_errc::bad_call_id); return; }

  const header_field* cseq = m.find(header_id::cseq);
  if (!cseq) { fail(parse_errc::missing_cseq); return; }
  std::size_t sp = cseq->value.find_first_of(" \t");
  auto number = parse_decimal(cseq->value.substr(0, sp), max_cseq);
  std::string_view method = sp == std::string_view::npos ? std::string_view{} : trim(cseq->value.substr(sp));
  if (!number || !is_token(method)) { fail(parse_errc::bad_cseq); return; }
  m.cseq_ = static_cast<std::uint32_t>(*number);
  m.cseq_method_ = method;
  if (m.is_request() && method != m.method_) { fail(parse_errc::cseq_method_does_not_match); return; }

  const header_field* from = m.find(header_id::from);
  const header_field* to = m.find(header_id::to);
  if (!from) { fail(parse_errc::missing_from); return; }
  if (!to) { fail(parse_errc::missing_to); return; }
  auto from_addr = parse_address(from->value);
  if (!from_addr) { fail(parse_errc::bad_from); return; }
  auto to_addr = parse_address(to->value);
  if (!to_addr) { fail(parse_errc::bad_to); return; }
  m.from_ = std::move(*from_addr);
  m.to_ = std::move(*to_addr);

  list_items items;
  m.vias_.reserve(4);  // a proxied response has two or three: one allocation, not one per growth
  for (const auto& h : m.headers_) {
    if (h.id != header_id::via && h.id != header_id::contact && h.id != header_id::route &&
        h.id != header_id::record_route)
      continue;
    items.clear();
    if (!split_list(h.value, items, limits.max_list_items)) { fail(parse_errc::bad_header_list); return; }
    for (std::string_view item : items) {
      if (h.id == header_id::via) {
        auto v = parse_via(item);
        if (!v) { fail(parse_errc::bad_via); return; }
        if (m.vias_.size() >= limits.max_list_items) { fail(parse_errc::too_many_via_entries); return; }
        m.vias_.push_back(std::move(*v));
      } else if (h.id == header_id::contact) {
        auto a = parse_address(item, /*allow_star=*/true);
        if (!a) { fail(parse_errc::bad_contact); return; }
        if (m.contacts_.size() >= limits.max_list_items) { fail(parse_errc::too_many_contacts); return; }
        m.contacts_.push_back(std::move(*a));
      } else if (auto route = parse_address(item); !route || !route->bracketed) {
        fail(parse_errc::bad_route);  // Route and Record-Route are always name-addr (RFC 3261 §20.30)
        return;
      }
    }
  }
  if (m.vias_.empty()) { fail(parse_errc::missing_via); return; }

  if (const header_field* mf = m.find(header_id::max_forwards)) {
    auto v = parse_decimal(mf->value, 255);  // RFC 4475 §3.1.2.4: 300 is too large
    if (!v) { fail(parse_errc::bad_max_forwards); return; }
    m.max_forwards_ = static_cast<int>(*v);
  }
  // Expires is a delta-seconds; a huge one is legal and means "as long as you allow"
  // (RFC 3261 §20.19), but it must be digits.
  if (const header_field* e = m.find(header_id::expires)) {
    for (char c : e->value)
      if (c < '0' || c > '9') { fail(parse_errc::bad_expires); return; }
    if (e->value.empty()) { fail(parse_errc::bad_expires); return; }
  }
  // SIP dates are always GMT (RFC 3261 §20.17, RFC 4475 §3.1.2.12).
  if (const header_field* d = m.find(header_id::date); d && !d->value.ends_with(" GMT")) {
    fail(parse_errc::bad_date);
    return;
  }
}

parse_result parse_message(std::string_view bytes, const parse_limits& limits, bool datagram) {
  parse_result result;
  if (bytes.size() > limits.max_message) {
    result.error = parse_errc::message_too_large;
    return result;
  }
  // Empty lines before the start line are ignored (RFC 3261 §7.5): keepalives, stray CRLFs.
  while (bytes.starts_with(crlf)) bytes.remove_prefix(2);
  std::size_t header_end = bytes.find("\r\n\r\n");
  std::size_t body_start = header_end + 4;
  if (header_end == std::string_view::npos && datagram && bytes.ends_with(crlf)) {
    // A datagram whose blank line was lost (RFC 4475's own baddn.dat): its end is the end of
    // the header section, and there is no body.
    header_end = bytes.size() - 2;
    body_start = bytes.size();
  }
  if (bytes.empty() || header_end == std::string_view::npos) {
    result.error = parse_errc::no_end_of_header_fields;
    return result;
  }

  message_parser p{limits, datagram, {}, {}};
  std::string_view raw = p.own(bytes, header_end);

  std::size_t line_end = raw.find(crlf);
  std::string_view first = raw.substr(0, line_end);
  std::string_view section = line_end >= header_end ? std::string_view{}
                                                    : raw.substr(line_end + 2, header_end - line_end - 2);
  bool start_ok = p.start_line(first);
  if (p.header_fields(section) && p.body(raw.substr(body_start))) {
    if (start_ok && p.is_request()) p.check_request_uri();
    p.check_headers();
  }
  result.error = p.error;
  // A response whose status line could not be read is not a message: nothing to give back.
  if (p.has_start_line()) result.msg.emplace(std::move(p.m));
  return result;
}

}  // namespace junction::sip
