#include "sip/proxy_messages.hpp"

#include <charconv>

#include "sip/syntax.hpp"

namespace junction::sip {
namespace {

constexpr std::string_view branch_prefix = "z9hG4bK-j";

// Appends `n` in `base`. The keys and branches below are made for every message a proxied call
// sends or receives: appends with a reserve cost a fraction of fmt::format's run-time format
// string (which was 2 % of a call's CPU).
void append_number(std::string& out, std::uint64_t n, int base = 10) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  out.append(digits, end);
}

// Copies every header of `id` from `from`, in order.
void copy_all(std::string& out, const message& from, header_id id) {
  for (const auto& h : from.headers())
    if (h.id == id) out.append(header_name(id)).append(": ").append(h.value).append("\r\n");
}

// The request line, top Via, From, Call-ID, CSeq and Route set of a request this proxy sent,
// shared by ACK and CANCEL.
std::string same_transaction_request(const message& sent, std::string_view method) {
  std::string out;
  out.append(method).append(" ").append(sent.request_uri_text()).append(" SIP/2.0\r\n");
  // The header fields, not the parsed values: `sent` may be a message this proxy edited (its
  // Via pushed on top) rather than one parsed from what was sent.
  list_items vias;
  split_list(sent.value(header_id::via), vias, 1024);
  out.append("Via: ").append(vias.empty() ? std::string_view{} : vias.front()).append("\r\n");
  out.append("Max-Forwards: 70\r\n");
  out.append("From: ").append(sent.value(header_id::from)).append("\r\n");
  out.append("Call-ID: ").append(sent.call_id()).append("\r\n");
  out.append("CSeq: ").append(std::to_string(sent.cseq())).append(" ").append(method).append("\r\n");
  copy_all(out, sent, header_id::route);
  return out;
}

}  // namespace

std::string make_branch(unsigned shard, std::uint64_t unique) {
  std::string out;
  out.reserve(branch_prefix.size() + 22);
  out.append(branch_prefix);
  append_number(out, shard);
  out.push_back('-');
  append_number(out, unique, 16);
  return out;
}

std::optional<unsigned> shard_of_branch(std::string_view branch) noexcept {
  if (!branch.starts_with(branch_prefix)) return std::nullopt;
  branch.remove_prefix(branch_prefix.size());
  std::size_t dash = branch.find('-');
  auto n = parse_decimal(branch.substr(0, dash), 4096);
  if (!n || dash == std::string_view::npos) return std::nullopt;
  return static_cast<unsigned>(*n);
}

std::string server_key(const message& request, std::string_view method_override) {
  std::string_view method = method_override.empty() ? request.method() : method_override;
  if (method == "ACK") method = "INVITE";
  const via& top = request.top_via();
  std::string out;
  if (top.has_cookie()) {
    out.reserve(top.branch().size() + top.host.size() + method.size() + 8);
    out.append(top.branch()).append("|").append(top.host).append(":");
    append_number(out, top.port);
    out.append("|").append(method);
    return out;
  }
  out.append("2543|").append(request.call_id()).append("|").append(request.from().tag()).append("|");
  append_number(out, request.cseq());
  out.append("|").append(top.text).append("|").append(method);
  return out;
}

std::string client_key(std::string_view branch, std::string_view method) {
  const std::string_view m = method == "ACK" ? std::string_view("INVITE") : method;
  std::string out;
  out.reserve(branch.size() + 1 + m.size());
  out.append(branch).append("|").append(m);
  return out;
}

std::string make_ack(const message& sent_invite, const message& response) {
  std::string out = same_transaction_request(sent_invite, "ACK");
  out.append("To: ").append(response.value(header_id::to)).append("\r\n");
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

std::string make_cancel(const message& sent_invite) {
  std::string out = same_transaction_request(sent_invite, "CANCEL");
  out.append("To: ").append(sent_invite.value(header_id::to)).append("\r\n");
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

bool better_final(int candidate, int best) noexcept {
  if (best == 0) return true;
  if (best >= 600) return false;
  if (candidate >= 600) return true;
  return candidate / 100 < best / 100;
}

}  // namespace junction::sip
