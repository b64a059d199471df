#include "http/transfer_coding.hpp"

#include "core/ascii.hpp"

#include <vector>

namespace junction::http {

std::optional<transfer_coding_refusal> unusable_transfer_coding(const beast_http::request_header<>& header) {
  // Every Transfer-Encoding field, in order, as one list of codings.
  std::vector<std::string_view> codings;
  auto [first, last] = header.equal_range(field::transfer_encoding);
  if (first == last) return std::nullopt;
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (true) {
      auto comma = list.find(',');
      auto item = list.substr(0, comma);
      item = item.substr(0, item.find(';'));  // transfer-parameters
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) codings.push_back(item);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (codings.empty() || !iequals(codings.back(), "chunked"))
    return transfer_coding_refusal{status::bad_request, "Transfer-Encoding must end in chunked"};
  if (codings.size() > 1)
    return transfer_coding_refusal{status::not_implemented, "no transfer coding but chunked is supported"};
  return std::nullopt;
}

}  // namespace junction::http
