#pragma once
// An XML stream as XMPP has it (RFC 6120 §4, §11): one root element that stays open for the
// whole connection, whose children (stanzas) each arrive whole. Sans-IO: bytes in, events out,
// one at a time (the stream header, each stanza, the stream's end, or the error that ends it).
//
// On expat in streaming mode, namespaces resolved. Refused, each with the condition RFC 6120
// names: a DTD or entity declaration, a comment, a processing instruction (restricted-xml);
// malformed XML (not-well-formed); a stanza larger than the limit, nesting deeper than it, an
// element with too many attributes, text between stanzas that is not whitespace
// (policy-violation). After an error the parser says nothing more: the stream is over.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "xml/element.hpp"

namespace junction::xml {

enum class stream_errc {
  not_well_formed = 1,  // expat refused the bytes (detail: its message)
  restricted_xml,       // a DTD, entity declaration, comment or processing instruction
  stanza_too_large,     // a stanza (or the stream header) larger than stream_limits allow
  too_deep,             // elements nested deeper than stream_limits::max_depth
  too_many_attributes,  // an element with more than stream_limits::max_attributes
  text_between_stanzas, // character data other than whitespace at the stream's top level
};
const std::error_category& stream_category() noexcept;
std::error_code make_error_code(stream_errc e) noexcept;
// The RFC 6120 §4.9.3 condition a stream error of this kind is sent with.
std::string_view stream_error_condition(std::error_code e) noexcept;

struct stream_limits {
  std::size_t max_stanza_bytes = 256 * 1024;  // one stanza as sent (the stream header too)
  std::size_t max_depth = 32;                 // the stream's root is depth 1, a stanza 2
  std::size_t max_attributes = 32;            // on one element
};

struct stream_event {
  enum class kind { open, stanza, close, error };
  kind what = kind::error;
  element node;            // open: the root, with its attributes; stanza: the stanza
  std::string default_ns;  // open: the default namespace the header declared ("jabber:client")
  std::error_code error;   // error: why
  std::string detail;      // error: in words, for the log and the stream error's text
};

class stream_parser {
 public:
  explicit stream_parser(stream_limits limits = {});
  ~stream_parser();
  stream_parser(const stream_parser&) = delete;
  stream_parser& operator=(const stream_parser&) = delete;

  // Queues bytes as they came; next() reads them.
  void feed(std::string_view bytes);
  // The next event the bytes fed so far complete, or nothing until more come.
  std::optional<stream_event> next();
  // A new stream begins right after the last event next() returned (XMPP restarts the stream
  // after STARTTLS and after SASL): what follows it is read by a fresh parser.
  void restart();
  // Forgets everything, unread bytes too (the bytes below are now TLS records, say).
  void reset();
  // Bytes fed and not yet turned into events: for the caller's own memory accounting.
  std::size_t buffered() const noexcept;
  // Between stanzas, with nothing fed but whitespace left unread, frees expat's parser and what
  // it holds (about 10 KiB a stream): a connection that waits for its client calls it before it
  // waits. The next bytes are read by a fresh parser that is given the stream's header again
  // first, without an event. Does nothing when the stream is not at that point.
  void release_if_idle();
  bool released() const noexcept { return !state_; }
  bool failed() const noexcept { return failed_; }

  struct state;  // expat's side (stream_parser.cpp)

 private:
  void start_parser();
  void revive();  // a fresh parser after release_if_idle(), past the stream's header
  std::optional<stream_event> parse_more();

  stream_limits limits_;
  std::unique_ptr<state> state_;
  std::string header_;   // released: the stream's header, for the next parser
  std::string waiting_;  // fed, not yet given to expat
  std::string chunk_;    // the last bytes given to expat
  std::uint64_t chunk_start_ = 0;  // their position in the stream
  std::uint64_t given_ = 0;        // bytes given to the current parser
  std::uint64_t last_end_ = 0;     // where the last event next() returned ends
  bool suspended_ = false, failed_ = false;
};

// One element written as text (a stanza kept in a mailbox), read back in namespace `ns` (where
// it was written with to_string(e, ns)); nothing when it is not one well-formed element.
std::optional<element> parse_fragment(std::string_view text, std::string_view ns);

}  // namespace junction::xml

template <>
struct std::is_error_code_enum<junction::xml::stream_errc> : std::true_type {};
