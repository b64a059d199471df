#include "junction-load/options.hpp"

#include "core/duration.hpp"

#include <charconv>
#include <cmath>

namespace junction::load {

std::optional<std::uint64_t> parse_bitrate(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data() || !(value >= 0) || !std::isfinite(value)) return std::nullopt;
  std::string_view unit{end, static_cast<std::size_t>(text.data() + text.size() - end)};
  for (std::string_view suffix : {"bps", "b/s"})
    if (unit.ends_with(suffix)) unit.remove_suffix(suffix.size());
  double scale = 1;
  if (unit == "k" || unit == "K") scale = 1e3;
  else if (unit == "m" || unit == "M") scale = 1e6;
  else if (unit == "g" || unit == "G") scale = 1e9;
  else if (!unit.empty()) return std::nullopt;
  const double bits = value * scale;
  if (bits > 1e12) return std::nullopt;  // a terabit stream is a typo
  return static_cast<std::uint64_t>(std::llround(bits));
}

std::string format_bitrate(std::uint64_t b) {
  if (b != 0 && b % 1'000'000 == 0) return std::to_string(b / 1'000'000) + "M";
  if (b != 0 && b % 1'000 == 0) return std::to_string(b / 1'000) + "k";
  return std::to_string(b);
}

std::optional<std::chrono::milliseconds> parse_run_duration(std::string_view text) {
  if (auto d = parse_duration(text)) return d;
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc{} || end == text.data() || end != text.data() + text.size()) return std::nullopt;
  return std::chrono::seconds{seconds};
}

std::string check(const load_options& o) {
  if (o.publishers == 0 && o.players == 0) return "--publishers 0 plays an existing stream: it needs --players";
  if (o.publishers > 100'000) return "--publishers: at most 100000";
  if (o.players > 1'000'000) return "--players: at most 1000000";
  if (!(o.ramp > 0)) return "--ramp must be above 0";
  if (o.duration.count() <= 0) return "--duration must be above 0";
  if (o.warmup.count() < 0) return "--warmup cannot be negative";
  if (o.synthetic()) {
    if (!(o.fps > 0 && o.fps <= 1000)) return "--fps must be in (0, 1000]";
    if (o.gop == 0) return "--gop must be at least 1";
    if (o.bitrate < 1000) return "--bitrate must be at least 1k";
  }
  if (o.shards > 1024) return "--shards: at most 1024";
  if (!o.whep_base.empty()) {
    std::string_view base = o.whep_base;
    if (!base.starts_with("http://") || base.size() <= 7) return "--whep: an http://HOST:PORT base";
    auto host = base.substr(7, base.find_first_of("/", 7) - 7);
    if (host.starts_with('[')) host = host.substr(1, host.find(']') - 1);
    else host = host.substr(0, host.rfind(':'));
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) return "--whep: the host must be an address";
    if (!o.allow_remote && !is_loopback(address)) return "--whep: a loopback address (or --allow-remote)";
  }
  if (!o.whep_base.empty() && !o.janus_base.empty()) return "--whep and --janus: one or the other";
  if (!o.janus_base.empty() && !o.janus_base.starts_with("http://")) return "--janus: an http:// URL (Janus's /janus)";
  if (!o.rtp_to.empty()) {
    auto colon = o.rtp_to.rfind(':');
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(o.rtp_to.substr(0, colon == std::string::npos ? 0 : colon), ec);
    if (colon == std::string::npos || ec) return "--rtp-to: an ADDRESS:PORT";
    if (!o.allow_remote && !is_loopback(address)) return "--rtp-to: a loopback address (or --allow-remote)";
  }
  return {};
}

bool is_loopback(const boost::asio::ip::address& a) noexcept {
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() && boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
}

}  // namespace junction::load
