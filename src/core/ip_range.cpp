#include "core/ip_range.hpp"

#include <charconv>
#include <string>

namespace junction {

namespace {

// Compares the first `bits` bits of two byte arrays.
template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                 unsigned bits) noexcept {
  for (std::size_t i = 0; i < N && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const unsigned char mask = static_cast<unsigned char>(0xFF00 >> take);
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

std::optional<ip_range> ip_range::parse(std::string_view text) {
  ip_range r;
  auto slash = text.find('/');
  boost::system::error_code ec;
  r.base_ = boost::asio::ip::make_address(std::string{text.substr(0, slash)}, ec);
  if (ec) return std::nullopt;
  const unsigned max = r.base_.is_v4() ? 32 : 128;
  r.prefix_ = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), r.prefix_);
    if (err != std::errc{} || end != digits.data() + digits.size() || digits.empty() || r.prefix_ > max)
      return std::nullopt;
  }
  return r;
}

bool ip_range::contains(const boost::asio::ip::address& peer) const noexcept {
  const auto a = unmapped(peer);
  if (a.is_v4() != base_.is_v4()) return false;
  if (a.is_v4()) return same_prefix(a.to_v4().to_bytes(), base_.to_v4().to_bytes(), prefix_);
  return same_prefix(a.to_v6().to_bytes(), base_.to_v6().to_bytes(), prefix_);
}

bool allowed(const std::vector<ip_range>& ranges, const boost::asio::ip::address& a) noexcept {
  if (ranges.empty()) return true;
  for (const auto& r : ranges)
    if (r.contains(a)) return true;
  return false;
}

}  // namespace junction
