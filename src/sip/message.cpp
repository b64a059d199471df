#include "sip/message.hpp"

#include <algorithm>
#include <memory>

#include "sip/parser.hpp"

namespace junction::sip {

const header_field* message::find(header_id id) const noexcept {
  for (const auto& h : headers_)
    if (h.id == id) return &h;
  return nullptr;
}

const header_field* message::find(std::string_view name) const noexcept {
  for (const auto& h : headers_)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

std::string_view message::value(header_id id) const noexcept {
  const header_field* h = find(id);
  return h ? h->value : std::string_view{};
}

std::size_t message::count(header_id id) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(headers_.begin(), headers_.end(), [id](const auto& h) { return h.id == id; }));
}

std::string_view message::keep(std::string_view text) {
  constexpr std::size_t block_size = 512;
  if (!added_ || added_->size - added_->used < text.size()) {
    auto block = std::make_unique<text_block>();
    block->size = std::max(block_size, text.size());
    block->bytes = std::make_unique_for_overwrite<char[]>(block->size);
    block->next = std::move(added_);
    added_ = std::move(block);
  }
  char* at = added_->bytes.get() + added_->used;
  std::copy(text.begin(), text.end(), at);
  added_->used += text.size();
  return {at, text.size()};
}

void message::set_request_uri(std::string_view text) {
  request_uri_text_ = keep(text);
  if (auto u = parse_uri(request_uri_text_)) request_uri_ = std::move(*u);
}

void message::push_front(header_id id, std::string_view value) {
  headers_.insert(headers_.begin(), header_field{id, header_name(id), keep(value)});
}

void message::insert_before_first(header_id where, header_id id, std::string_view value) {
  auto it = std::find_if(headers_.begin(), headers_.end(),
                         [where](const auto& h) { return h.id == where; });
  headers_.insert(it, header_field{id, header_name(id), keep(value)});
}

void message::append(header_id id, std::string_view value) {
  headers_.push_back(header_field{id, header_name(id), keep(value)});
}

void message::append(std::string_view name, std::string_view value) {
  headers_.push_back(header_field{lookup_header(name), keep(name), keep(value)});
}

bool message::remove_first(header_id id) {
  auto it = std::find_if(headers_.begin(), headers_.end(),
                         [id](const auto& h) { return h.id == id; });
  if (it == headers_.end()) return false;
  headers_.erase(it);
  return true;
}

void message::remove_all(header_id id) {
  std::erase_if(headers_, [id](const auto& h) { return h.id == id; });
}

void message::set_value(header_id id, std::string_view value) {
  for (auto& h : headers_)
    if (h.id == id) {
      h.value = keep(value);
      return;
    }
  append(id, value);
}

void message::set_top_via(std::string_view element) {
  for (auto& h : headers_) {
    if (h.id != header_id::via) continue;
    // The parsed top Via is a view into this header's value (the list was split in place).
    std::string_view rest;
    if (!vias_.empty() && vias_.front().text.data() >= h.value.data() &&
        vias_.front().text.data() < h.value.data() + h.value.size()) {
      std::size_t end = static_cast<std::size_t>(vias_.front().text.data() - h.value.data()) +
                        vias_.front().text.size();
      rest = h.value.substr(end);
    }
    std::string value(element);
    value.append(rest);
    h.value = keep(value);
    return;
  }
}

bool message::remove_first_element(header_id id) {
  auto it = std::find_if(headers_.begin(), headers_.end(), [id](const auto& h) { return h.id == id; });
  if (it == headers_.end()) return false;
  list_items items;
  if (!split_list(it->value, items, 1024) || items.size() <= 1) {
    headers_.erase(it);
    return true;
  }
  it->value = it->value.substr(static_cast<std::size_t>(items[1].data() - it->value.data()));
  return true;
}

std::string message::serialize() const {
  std::string out;
  std::size_t size = 64 + body_.size();
  for (const auto& h : headers_) size += h.name.size() + h.value.size() + 4;
  out.reserve(size);
  if (is_request()) {
    out.append(method_).append(" ").append(request_uri_text_).append(" SIP/2.0\r\n");
  } else {
    out.append("SIP/2.0 ").append(std::to_string(status_)).append(" ").append(reason_).append("\r\n");
  }
  bool wrote_length = false;
  for (const auto& h : headers_) {
    out.append(h.name).append(": ");
    if (h.id == header_id::content_length) {
      out.append(std::to_string(body_.size()));
      wrote_length = true;
    } else {
      out.append(h.value);
    }
    out.append("\r\n");
  }
  if (!wrote_length) out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
  out.append("\r\n").append(body_);
  return out;
}

message message::clone() const {
  // The parsed views must point into the copy, so the copy is parsed from the wire form: a
  // message that was accepted once serializes into one that parses again.
  parse_limits generous{1 << 20, 4096, 1 << 16, 1024};
  parse_result r = parse_message(serialize(), generous, true);
  return r.msg ? std::move(*r.msg) : message{};
}

}  // namespace junction::sip
