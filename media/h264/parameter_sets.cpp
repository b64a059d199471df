#include "media/h264/parameter_sets.hpp"

#include "media/sdp/base64.hpp"

#include <cstdio>

namespace junction::media::h264 {

std::optional<parameter_sets> parse_avc_config(bytes r) {
  // version(1) profile compat level, 6 reserved bits + lengthSizeMinusOne, 3 reserved + numSPS.
  if (r.size() < 7 || r[0] != 1) return std::nullopt;
  parameter_sets s;
  s.length_size = static_cast<std::uint8_t>((r[4] & 0x03) + 1);
  if (s.length_size == 3) return std::nullopt;  // 1, 2 or 4 only
  std::size_t at = 6;  // the first SPS length
  auto read_list = [&](std::size_t count, std::vector<nal_unit>& into) {
    for (std::size_t i = 0; i < count; ++i) {
      if (at + 2 > r.size()) return false;
      std::size_t n = std::size_t{r[at]} << 8 | r[at + 1];
      at += 2;
      if (n == 0 || at + n > r.size()) return false;
      into.emplace_back(r.begin() + static_cast<std::ptrdiff_t>(at), r.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
    return true;
  };
  if (!read_list(r[5] & 0x1F, s.sps)) return std::nullopt;
  ++at;
  if (at > r.size() || !read_list(r[at - 1], s.pps)) return std::nullopt;
  // High profiles append chroma and bit-depth fields after the PPS list; nothing here needs them.
  return s;
}

std::vector<std::uint8_t> make_avc_config(const parameter_sets& sets) {
  std::vector<std::uint8_t> out{1, 0x42, 0xE0, 0x1F};
  if (!sets.sps.empty() && sets.sps[0].size() >= 4) {
    out[1] = sets.sps[0][1];
    out[2] = sets.sps[0][2];
    out[3] = sets.sps[0][3];
  }
  out.push_back(static_cast<std::uint8_t>(0xFC | (sets.length_size - 1)));
  out.push_back(static_cast<std::uint8_t>(0xE0 | (sets.sps.size() & 0x1F)));
  auto put = [&out](const nal_unit& n) {
    out.push_back(static_cast<std::uint8_t>(n.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(n.size()));
    out.insert(out.end(), n.begin(), n.end());
  };
  for (const auto& n : sets.sps) put(n);
  out.push_back(static_cast<std::uint8_t>(sets.pps.size()));
  for (const auto& n : sets.pps) put(n);
  return out;
}

std::optional<parameter_sets> parse_sprop(std::string_view value) {
  parameter_sets s;
  while (!value.empty()) {
    auto comma = value.find(',');
    auto nal = sdp::base64_decode(value.substr(0, comma));
    if (!nal || nal->empty()) return std::nullopt;
    if (nal_type(*nal) == nal_sps) s.sps.push_back(std::move(*nal));
    else if (nal_type(*nal) == nal_pps) s.pps.push_back(std::move(*nal));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (s.empty()) return std::nullopt;
  return s;
}

std::string make_sprop(const parameter_sets& sets) {
  std::string out;
  for (const auto* list : {&sets.sps, &sets.pps})
    for (const auto& n : *list) {
      if (!out.empty()) out += ',';
      out += sdp::base64_encode(n);
    }
  return out;
}

std::optional<std::vector<bytes>> split_avcc(bytes frame, std::uint8_t length_size) {
  std::vector<bytes> out;
  std::size_t at = 0;
  while (at < frame.size()) {
    if (at + length_size > frame.size() || out.size() >= 4096) return std::nullopt;
    std::size_t n = 0;
    for (std::size_t i = 0; i < length_size; ++i) n = n << 8 | frame[at + i];
    at += length_size;
    if (n > frame.size() - at) return std::nullopt;
    if (n) out.push_back(frame.subspan(at, n));
    at += n;
  }
  return out;
}

std::string profile_level_id(const nal_unit& sps) {
  if (sps.size() < 4) return "42e01f";
  char buf[7];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x", sps[1], sps[2], sps[3]);
  return buf;
}

}  // namespace junction::media::h264
