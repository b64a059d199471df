#pragma once
// A SIP message (RFC 3261 §7) that owns its bytes. Header values are views into that buffer,
// with line folding already replaced by spaces; headers added later own their text in the
// message too. The values every transaction reads (Via, From, To, Call-ID, CSeq, Max-Forwards,
// Contact, the Request-URI) are parsed and checked once by `parse_message`; every other header
// stays text until somebody asks.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/address.hpp"
#include "sip/header_names.hpp"
#include "sip/uri.hpp"
#include "sip/via.hpp"

namespace junction::sip {

struct header_field {
  header_id id = header_id::other;
  std::string_view name;   // as written (compact forms included)
  std::string_view value;  // trimmed, unfolded
};

class message {
 public:
  message() = default;
  message(message&&) noexcept = default;
  message& operator=(message&&) noexcept = default;
  message(const message&) = delete;             // views point into this object's buffers:
  message& operator=(const message&) = delete;  // copy with clone()

  bool is_request() const noexcept { return status_ == 0; }
  std::string_view method() const noexcept { return method_; }
  std::string_view request_uri_text() const noexcept { return request_uri_text_; }
  const uri& request_uri() const noexcept { return request_uri_; }
  int status() const noexcept { return status_; }
  std::string_view reason() const noexcept { return reason_; }

  std::span<const header_field> headers() const noexcept { return headers_; }
  const header_field* find(header_id id) const noexcept;
  const header_field* find(std::string_view name) const noexcept;  // for `other` headers
  std::string_view value(header_id id) const noexcept;  // the first one's value, or empty
  std::size_t count(header_id id) const noexcept;
  std::string_view body() const noexcept { return body_; }

  // Checked by the parser: present, single and well formed in every message it accepts.
  std::string_view call_id() const noexcept { return call_id_; }
  std::uint32_t cseq() const noexcept { return cseq_; }
  std::string_view cseq_method() const noexcept { return cseq_method_; }
  const address& from() const noexcept { return from_; }
  const address& to() const noexcept { return to_; }
  std::span<const via> vias() const noexcept { return vias_; }  // top first
  const via& top_via() const noexcept { return vias_.front(); }
  std::span<const address> contacts() const noexcept { return contacts_; }
  std::optional<int> max_forwards() const noexcept { return max_forwards_; }

  // Editing, for a proxy forwarding a request or a response. New text is copied into the
  // message; the parsed values above keep describing the message as it arrived.
  void set_request_uri(std::string_view text);
  void push_front(header_id id, std::string_view value);  // e.g. a new top Via
  void insert_before_first(header_id where, header_id id, std::string_view value);
  void append(header_id id, std::string_view value);
  void append(std::string_view name, std::string_view value);
  bool remove_first(header_id id);
  void remove_all(header_id id);
  void set_value(header_id id, std::string_view value);  // replaces the first, or appends
  // Replaces the top Via element (the first of the first Via header's comma list), as a server
  // does when it stamps received/rport on a request (RFC 3581).
  void set_top_via(std::string_view element);
  // Removes the first element of the first header `id` (one Via or Route entry, even when it
  // shares a header line with others, RFC 3261 §7.3.1); false when there is none.
  bool remove_first_element(header_id id);

  // The wire form: start line, headers in order (names as they arrived; Content-Length written
  // again from the body), blank line, body.
  std::string serialize() const;
  message clone() const;

 private:
  friend struct message_parser;
  std::string_view keep(std::string_view text);

  std::unique_ptr<char[]> raw_;
  // Text of edits, in blocks that never move (the views above point into them): a proxy's edits
  // of one message (a Via, a Record-Route, a Request-URI) fit in the first block, one
  // allocation instead of two per edit. None until the first edit.
  struct text_block {
    std::unique_ptr<text_block> next;
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0, used = 0;
  };
  std::unique_ptr<text_block> added_;

  std::string_view method_, request_uri_text_, reason_;
  uri request_uri_;
  int status_ = 0;
  std::vector<header_field> headers_;
  std::string_view body_;

  std::string_view call_id_, cseq_method_;
  std::uint32_t cseq_ = 0;
  address from_, to_;
  std::vector<via> vias_;
  std::vector<address> contacts_;
  std::optional<int> max_forwards_;
};

}  // namespace junction::sip
