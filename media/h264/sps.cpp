#include "media/h264/sps.hpp"

#include <vector>

namespace junction::media::h264 {
namespace {

// Bits of an RBSP (emulation prevention bytes removed), most significant first. Reading past
// the end sets `failed` and gives zeros.
class bit_reader {
 public:
  explicit bit_reader(std::vector<std::uint8_t> rbsp) : data_(std::move(rbsp)) {}
  bool failed() const noexcept { return failed_; }
  unsigned bit() {
    if (at_ >= data_.size() * 8) {
      failed_ = true;
      return 0;
    }
    const unsigned b = data_[at_ / 8] >> (7 - at_ % 8) & 1;
    ++at_;
    return b;
  }
  std::uint32_t bits(unsigned n) {
    std::uint32_t v = 0;
    while (n--) v = v << 1 | bit();
    return v;
  }
  // ue(v): Exp-Golomb (§9.1), at most 32 bits of value.
  std::uint32_t ue() {
    unsigned zeros = 0;
    while (bit() == 0) {
      if (failed_ || ++zeros > 31) {
        failed_ = true;
        return 0;
      }
    }
    return (std::uint32_t{1} << zeros) - 1 + bits(zeros);
  }
  std::int32_t se() {
    const std::uint32_t k = ue();
    return k & 1 ? static_cast<std::int32_t>((k + 1) / 2) : -static_cast<std::int32_t>(k / 2);
  }

 private:
  std::vector<std::uint8_t> data_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

std::vector<std::uint8_t> unescape(bytes nal) {
  std::vector<std::uint8_t> out;
  out.reserve(nal.size());
  unsigned zeros = 0;
  for (const std::uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {  // 00 00 03: the 03 is not data
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

// False when a delta is outside its range (-128..127): not an SPS an encoder wrote.
bool skip_scaling_list(bit_reader& r, unsigned size) {
  int last = 8, next = 8;
  for (unsigned j = 0; j < size && !r.failed(); ++j) {
    if (next != 0) {
      const std::int32_t delta = r.se();
      if (delta < -128 || delta > 127) return false;
      next = (last + delta + 256) % 256;
    }
    last = next == 0 ? last : next;
  }
  return true;
}

bool high_profile(unsigned profile) {
  switch (profile) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128: case 138: case 139:
    case 134: case 135:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<picture_size> sps_picture_size(bytes sps) {
  if (nal_type(sps) != nal_sps || sps.size() < 4) return std::nullopt;
  bit_reader r(unescape(sps.subspan(1)));
  const unsigned profile = r.bits(8);
  r.bits(16);  // constraint flags, level
  r.ue();      // seq_parameter_set_id
  unsigned chroma_format = 1;
  if (high_profile(profile)) {
    chroma_format = r.ue();
    if (chroma_format > 3) return std::nullopt;
    if (chroma_format == 3) r.bit();  // separate_colour_plane_flag
    r.ue();                           // bit depths
    r.ue();
    r.bit();                          // qpprime_y_zero_transform_bypass_flag
    if (r.bit())                      // seq_scaling_matrix_present_flag
      for (unsigned i = 0; i < (chroma_format != 3 ? 8u : 12u); ++i)
        if (r.bit() && !skip_scaling_list(r, i < 6 ? 16 : 64)) return std::nullopt;
  }
  r.ue();  // log2_max_frame_num_minus4
  const unsigned poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();
  } else if (poc_type == 1) {
    r.bit();
    r.se();
    r.se();
    const unsigned cycle = r.ue();
    if (cycle > 255) return std::nullopt;
    for (unsigned i = 0; i < cycle; ++i) r.se();
  } else if (poc_type != 2) {
    return std::nullopt;
  }
  r.ue();   // max_num_ref_frames
  r.bit();  // gaps_in_frame_num_value_allowed_flag
  const std::uint32_t width_mbs = r.ue() + 1;
  const std::uint32_t height_units = r.ue() + 1;
  const unsigned frame_mbs_only = r.bit();
  if (!frame_mbs_only) r.bit();  // mb_adaptive_frame_field_flag
  r.bit();                       // direct_8x8_inference_flag
  std::uint32_t crop[4] = {0, 0, 0, 0};
  if (r.bit())
    for (auto& c : crop) c = r.ue();
  if (r.failed() || width_mbs > 1024 || height_units > 1024) return std::nullopt;
  const unsigned crop_x = chroma_format == 1 || chroma_format == 2 ? 2 : 1;
  const unsigned crop_y = (chroma_format == 1 ? 2 : 1) * (2 - frame_mbs_only);
  const std::uint64_t width = std::uint64_t{width_mbs} * 16, height = std::uint64_t{height_units} * 16 * (2 - frame_mbs_only);
  const std::uint64_t cut_x = std::uint64_t{crop_x} * (crop[0] + crop[1]), cut_y = std::uint64_t{crop_y} * (crop[2] + crop[3]);
  if (cut_x >= width || cut_y >= height) return std::nullopt;
  return picture_size{static_cast<unsigned>(width - cut_x), static_cast<unsigned>(height - cut_y)};
}

std::optional<picture_size> sequence_header_picture_size(const frame& f) {
  const auto body = f.payload.bytes();
  if (!f.is_video() || !f.config || f.codec != codec::h264 || body.size() <= 5) return std::nullopt;
  const auto sets = parse_avc_config({reinterpret_cast<const std::uint8_t*>(body.data()) + 5, body.size() - 5});
  if (!sets || sets->sps.empty()) return std::nullopt;
  return sps_picture_size(sets->sps.front());
}

}  // namespace junction::media::h264
