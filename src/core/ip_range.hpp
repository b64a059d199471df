#pragma once
// An address range in CIDR notation ("127.0.0.0/8", "::1/128", or one address), for allow lists.
#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace junction {

class ip_range {
 public:
  static std::optional<ip_range> parse(std::string_view text);
  // IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 ranges.
  bool contains(const boost::asio::ip::address& a) const noexcept;

 private:
  boost::asio::ip::address base_;
  unsigned prefix_ = 0;
};

// True when `ranges` is empty (no restriction) or one of them holds `a`.
bool allowed(const std::vector<ip_range>& ranges, const boost::asio::ip::address& a) noexcept;

}  // namespace junction
