#include "xml/stream_parser.hpp"

#include <expat.h>

#include <algorithm>
#include <deque>
#include <vector>

namespace junction::xml {
namespace {

class stream_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "xml.stream"; }
  std::string message(int e) const override {
    switch (static_cast<stream_errc>(e)) {
      case stream_errc::not_well_formed: return "not well-formed XML";
      case stream_errc::restricted_xml: return "a DTD, entity declaration, comment or processing instruction";
      case stream_errc::stanza_too_large: return "stanza larger than the limit";
      case stream_errc::too_deep: return "elements nested deeper than the limit";
      case stream_errc::too_many_attributes: return "an element with more attributes than the limit";
      case stream_errc::text_between_stanzas: return "text between stanzas";
    }
    return "unknown XML stream error";
  }
};

constexpr std::size_t chunk_size = 16 * 1024;

// Names arrive as "namespace-URI local-name" (XML_ParserCreateNS with ' ').
std::pair<std::string, std::string> split_name(const XML_Char* name) {
  std::string_view n(name);
  const auto space = n.rfind(' ');
  if (space == std::string_view::npos) return {std::string{}, std::string(n)};
  return {std::string(n.substr(0, space)), std::string(n.substr(space + 1))};
}

bool only_whitespace(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

const std::error_category& stream_category() noexcept {
  static const stream_category_impl category;
  return category;
}

std::error_code make_error_code(stream_errc e) noexcept { return {static_cast<int>(e), stream_category()}; }

std::string_view stream_error_condition(std::error_code e) noexcept {
  if (e.category() != stream_category()) return "internal-server-error";
  switch (static_cast<stream_errc>(e.value())) {
    case stream_errc::not_well_formed: return "not-well-formed";
    case stream_errc::restricted_xml: return "restricted-xml";
    case stream_errc::text_between_stanzas: return "not-well-formed";
    case stream_errc::stanza_too_large:
    case stream_errc::too_deep:
    case stream_errc::too_many_attributes: return "policy-violation";
  }
  return "internal-server-error";
}

struct stream_parser::state {
  XML_Parser parser = nullptr;
  const stream_limits* limits = nullptr;
  std::size_t depth = 0;
  std::vector<element*> open;  // the stanza being read, then each element open inside it
  element stanza;
  std::string default_ns;
  std::vector<std::pair<std::string, std::string>> declarations;  // the header's: prefix ("" default), URI
  std::string root_ns, root_name;                                 // the stream's root element
  std::deque<std::pair<stream_event, std::uint64_t>> events;  // with where each ends
  std::uint64_t mark = 0;  // where the last event (or whitespace between stanzas) ended
  std::error_code error;
  std::string detail;

  ~state() {
    if (parser) XML_ParserFree(parser);
  }

  std::uint64_t here() const { return static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser)); }
  std::uint64_t end_of_token() const { return here() + static_cast<std::uint64_t>(XML_GetCurrentByteCount(parser)); }

  void fail(stream_errc e, std::string what = {}) {
    if (!error) {
      error = e;
      detail = what.empty() ? make_error_code(e).message() : std::move(what);
    }
    XML_StopParser(parser, XML_FALSE);
  }

  void emit(stream_event e) {
    mark = end_of_token();
    events.emplace_back(std::move(e), mark);
    XML_StopParser(parser, XML_TRUE);  // one event at a time: the caller may restart after it
  }

  bool too_large(std::uint64_t upto) const { return upto > mark && upto - mark > limits->max_stanza_bytes; }

  static void on_start(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto& s = *static_cast<state*>(data);
    if (s.error) return;
    if (++s.depth > s.limits->max_depth) return s.fail(stream_errc::too_deep);
    if (s.too_large(s.end_of_token())) return s.fail(stream_errc::stanza_too_large);
    auto [ns, local] = split_name(name);
    element e(std::move(ns), std::move(local));
    std::size_t count = 0;
    for (auto a = attributes; *a; a += 2) {
      if (++count > s.limits->max_attributes) return s.fail(stream_errc::too_many_attributes);
      e.set(a[0], a[1]);
    }
    if (s.depth == 1) {
      s.root_ns = e.ns();
      s.root_name = e.name();
      stream_event ev;
      ev.what = stream_event::kind::open;
      ev.node = std::move(e);
      ev.default_ns = s.default_ns;
      return s.emit(std::move(ev));
    }
    if (s.depth == 2) {
      s.stanza = std::move(e);
      s.open.assign(1, &s.stanza);
      return;
    }
    s.open.push_back(&s.open.back()->add(std::move(e)));
  }

  static void on_end(void* data, const XML_Char*) {
    auto& s = *static_cast<state*>(data);
    if (s.error) return;
    const std::size_t depth = s.depth--;
    if (depth == 1) {
      stream_event ev;
      ev.what = stream_event::kind::close;
      return s.emit(std::move(ev));
    }
    if (depth == 2) {
      stream_event ev;
      ev.what = stream_event::kind::stanza;
      ev.node = std::move(s.stanza);
      s.stanza = element{};
      s.open.clear();
      return s.emit(std::move(ev));
    }
    if (!s.open.empty()) s.open.pop_back();
  }

  static void on_text(void* data, const XML_Char* text, int length) {
    auto& s = *static_cast<state*>(data);
    if (s.error) return;
    const std::string_view t(text, static_cast<std::size_t>(length));
    if (s.depth >= 2) {
      if (s.too_large(s.here() + t.size())) return s.fail(stream_errc::stanza_too_large);
      s.open.back()->add_text(t);
    } else if (!only_whitespace(t)) {
      s.fail(stream_errc::text_between_stanzas);
    } else {
      s.mark = s.here() + t.size();  // whitespace keepalives: nothing is pending before here
    }
  }

  static void on_namespace(void* data, const XML_Char* prefix, const XML_Char* uri) {
    auto& s = *static_cast<state*>(data);
    if (s.depth != 0) return;
    if (!prefix) s.default_ns = uri ? uri : "";
    if (s.declarations.size() < 16) s.declarations.emplace_back(prefix ? prefix : "", uri ? uri : "");
  }

  static void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<state*>(data)->fail(stream_errc::restricted_xml, "a document type declaration");
  }
  static void on_entity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                        const XML_Char*, const XML_Char*) {
    static_cast<state*>(data)->fail(stream_errc::restricted_xml, "an entity declaration");
  }
  static void on_comment(void* data, const XML_Char*) {
    static_cast<state*>(data)->fail(stream_errc::restricted_xml, "a comment");
  }
  static void on_instruction(void* data, const XML_Char*, const XML_Char*) {
    static_cast<state*>(data)->fail(stream_errc::restricted_xml, "a processing instruction");
  }
};

stream_parser::stream_parser(stream_limits limits) : limits_(limits) { start_parser(); }
stream_parser::~stream_parser() = default;

void stream_parser::start_parser() {
  state_ = std::make_unique<state>();
  state_->limits = &limits_;
  state_->parser = XML_ParserCreateNS("UTF-8", ' ');
  XML_Parser p = state_->parser;
  XML_SetUserData(p, state_.get());
  XML_SetElementHandler(p, &state::on_start, &state::on_end);
  XML_SetCharacterDataHandler(p, &state::on_text);
  XML_SetStartNamespaceDeclHandler(p, &state::on_namespace);
  XML_SetStartDoctypeDeclHandler(p, &state::on_doctype);
  XML_SetEntityDeclHandler(p, &state::on_entity);
  XML_SetCommentHandler(p, &state::on_comment);
  XML_SetProcessingInstructionHandler(p, &state::on_instruction);
  XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
  given_ = 0;
  chunk_start_ = 0;
  chunk_.clear();
  suspended_ = false;
}

void stream_parser::feed(std::string_view bytes) {
  if (!failed_) waiting_.append(bytes);
}

std::size_t stream_parser::buffered() const noexcept {
  if (!state_) return waiting_.size();
  return waiting_.size() + static_cast<std::size_t>(given_ - std::min(given_, state_->mark));
}

void stream_parser::release_if_idle() {
  if (!state_ || failed_ || suspended_ || !waiting_.empty()) return;
  const state& s = *state_;
  if (s.depth != 1 || !s.events.empty() || s.root_name.empty() || s.mark > given_) return;
  // What expat has not reported yet must be whitespace it holds back (a keepalive), nothing more.
  if (given_ - s.mark > chunk_.size() ||
      !only_whitespace(std::string_view(chunk_).substr(chunk_.size() - static_cast<std::size_t>(given_ - s.mark))))
    return;
  // The header again, as the client declared it: the root with its prefix, every declaration.
  std::string prefix;
  bool bound = s.root_ns == s.default_ns;
  for (const auto& [p, uri] : s.declarations)
    if (!p.empty() && uri == s.root_ns && !bound) {
      prefix = p;
      bound = true;
    }
  if (!bound) return;
  std::string h = "<";
  if (!prefix.empty()) h += prefix + ":";
  h += s.root_name;
  for (const auto& [p, uri] : s.declarations) {
    h += p.empty() ? std::string(" xmlns='") : " xmlns:" + p + "='";
    escape(uri, h, true);
    h += '\'';
  }
  h += '>';
  header_ = std::move(h);
  state_.reset();
  chunk_ = std::string();
  waiting_ = std::string();
}

void stream_parser::revive() {
  start_parser();
  XML_Parser p = state_->parser;
  // The header makes the open event, which is not the caller's: the stream goes on.
  XML_Status status = XML_Parse(p, header_.data(), static_cast<int>(header_.size()), XML_FALSE);
  if (status == XML_STATUS_SUSPENDED) status = XML_ResumeParser(p);
  given_ = header_.size();
  chunk_start_ = 0;
  chunk_ = header_;
  last_end_ = given_;
  state_->events.clear();
  header_ = std::string();
  if (status == XML_STATUS_ERROR || state_->error || state_->depth != 1) {
    // Cannot happen with a header this parser read before; refused as a broken stream if it does.
    failed_ = true;
    waiting_.clear();
    stream_event e;
    e.what = stream_event::kind::error;
    e.error = stream_errc::not_well_formed;
    e.detail = "the stream could not be read on";
    state_->events.emplace_back(std::move(e), given_);
  }
}

std::optional<stream_event> stream_parser::next() {
  if (!state_) {
    if (waiting_.empty()) return std::nullopt;
    revive();
  }
  for (;;) {
    if (!state_->events.empty()) {
      auto [event, end] = std::move(state_->events.front());
      state_->events.pop_front();
      last_end_ = end;
      return std::move(event);
    }
    if (failed_) return std::nullopt;
    if (auto e = parse_more()) return e;
    if (state_->events.empty() && !suspended_ && waiting_.empty()) return std::nullopt;
  }
}

std::optional<stream_event> stream_parser::parse_more() {
  XML_Parser p = state_->parser;
  XML_Status status;
  if (suspended_) {
    suspended_ = false;
    status = XML_ResumeParser(p);
  } else {
    const std::size_t n = std::min(waiting_.size(), chunk_size);
    chunk_.assign(waiting_, 0, n);
    waiting_.erase(0, n);
    chunk_start_ = given_;
    given_ += n;
    status = XML_Parse(p, chunk_.data(), static_cast<int>(n), XML_FALSE);
  }
  if (status == XML_STATUS_SUSPENDED) {
    suspended_ = true;
    return std::nullopt;
  }
  std::error_code error = state_->error;
  std::string detail = state_->detail;
  if (status == XML_STATUS_ERROR && !error) {
    error = stream_errc::not_well_formed;
    detail = std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " +
             std::to_string(XML_GetCurrentLineNumber(p)) + ", column " + std::to_string(XML_GetCurrentColumnNumber(p));
  } else if (!error && state_->too_large(given_)) {
    // A stanza that has not ended (or a start tag that has not) and is already over the limit.
    error = stream_errc::stanza_too_large;
    detail = make_error_code(stream_errc::stanza_too_large).message();
  }
  if (!error) return std::nullopt;
  failed_ = true;
  waiting_.clear();
  stream_event e;
  e.what = stream_event::kind::error;
  e.error = error;
  e.detail = std::move(detail);
  state_->events.emplace_back(std::move(e), given_);
  return std::nullopt;
}

void stream_parser::restart() {
  if (failed_) return;
  if (!state_) {  // released: nothing of the old stream is left to carry over
    last_end_ = 0;
    header_.clear();
    return start_parser();
  }
  // What the old parser was given after the last event returned is the new stream's beginning.
  std::string rest;
  if (last_end_ >= chunk_start_ && last_end_ - chunk_start_ <= chunk_.size())
    rest = chunk_.substr(static_cast<std::size_t>(last_end_ - chunk_start_));
  else
    rest = chunk_;
  rest += waiting_;
  waiting_ = std::move(rest);
  last_end_ = 0;
  start_parser();
}

void stream_parser::reset() {
  waiting_.clear();
  header_.clear();
  failed_ = false;
  last_end_ = 0;
  start_parser();
}

std::optional<element> parse_fragment(std::string_view text, std::string_view ns) {
  stream_parser parser({.max_stanza_bytes = text.size() + 1024, .max_depth = 64, .max_attributes = 256});
  std::string document = "<root xmlns='";
  escape(ns, document, true);
  document += "'>";
  parser.feed(document);
  parser.feed(text);
  auto open = parser.next();
  auto e = parser.next();
  if (!open || open->what != stream_event::kind::open || !e || e->what != stream_event::kind::stanza) return std::nullopt;
  if (parser.next()) return std::nullopt;  // more than one element
  return std::move(e->node);
}

}  // namespace junction::xml
