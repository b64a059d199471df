#include "media/flv_reader.hpp"

#include <algorithm>
#include <string>

namespace junction::media::flv {

namespace {

class reader_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "flv.reader"; }
  std::string message(int e) const override {
    switch (static_cast<reader_errc>(e)) {
      case reader_errc::not_flv: return "not an FLV file";
      case reader_errc::bad_version: return "unsupported FLV version";
      case reader_errc::bad_header_size: return "FLV header size out of range";
      case reader_errc::tag_too_large: return "FLV tag larger than the limit";
    }
    return "unknown FLV reader error";
  }
};

std::uint32_t u24(const std::byte* p) {
  return std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]);
}
std::uint32_t u32(const std::byte* p) { return u24(p) << 8 | std::uint32_t(p[3]); }

}  // namespace

const std::error_category& reader_category() noexcept {
  static const reader_category_impl instance;
  return instance;
}

std::error_code make_error_code(reader_errc e) noexcept {
  return {static_cast<int>(e), reader_category()};
}

reader::reader(reader_limits limits) : limits_{limits} {}

bool reader::at_tag_boundary() const noexcept {
  return state_ == state::tag_header && fixed_size_ == 0;
}

bool reader::gather(std::span<const std::byte> in, std::size_t& at, std::size_t want) {
  const std::size_t n = std::min(want - fixed_size_, in.size() - at);
  std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), n, fixed_ + fixed_size_);
  fixed_size_ += n;
  at += n;
  if (fixed_size_ < want) return false;
  fixed_size_ = 0;
  return true;
}

std::error_code reader::on_file_header() {
  if (fixed_[0] != std::byte{'F'} || fixed_[1] != std::byte{'L'} || fixed_[2] != std::byte{'V'})
    return reader_errc::not_flv;
  if (fixed_[3] != std::byte{1}) return reader_errc::bad_version;
  flags_ = std::to_integer<std::uint8_t>(fixed_[4]);
  const std::uint32_t offset = u32(fixed_ + 5);
  if (offset < file_header_size || offset > limits_.max_header_size) return reader_errc::bad_header_size;
  skip_left_ = offset - file_header_size + 4;  // extra header bytes, then PreviousTagSize0
  return {};
}

std::error_code reader::on_tag_header() {
  const auto first = std::to_integer<std::uint8_t>(fixed_[0]);
  tag_type_ = first & 0x1F;
  const bool encrypted = first & 0x20;  // the Filter bit (FLV 10 annex F)
  tag_kept_ = !encrypted && (tag_type_ == 8 || tag_type_ == 9 || tag_type_ == 18);
  tag_size_ = u24(fixed_ + 1);
  // Timestamp: low 24 bits, then the extension byte with bits 24-31. StreamID is always 0.
  tag_timestamp_ = u24(fixed_ + 4) | std::uint32_t(fixed_[7]) << 24;
  if (tag_size_ > limits_.max_tag_size) return reader_errc::tag_too_large;
  body_.clear();
  skip_left_ = tag_size_;  // body bytes still to come
  return {};
}

void reader::finish_tag(std::vector<frame>& out) {
  ++tags_;
  if (!tag_kept_) {
    ++skipped_;
    return;
  }
  out.push_back(make_frame(static_cast<track>(tag_type_), tag_timestamp_, shared_buffer::copy_of(body_)));
  body_.clear();
  body_.shrink_to_fit();  // a big keyframe's buffer is not kept for the rest of the file
}

reader::result reader::feed(std::span<const std::byte> in, std::vector<frame>& out) {
  if (error_) return {0, error_};
  std::size_t at = 0;
  const auto fail = [&](std::error_code ec) {
    error_ = ec;
    state_ = state::failed;
    return result{at, ec};
  };
  while (at < in.size() || (state_ == state::body && skip_left_ == 0)) {
    switch (state_) {
      case state::header:
        if (!gather(in, at, file_header_size)) break;
        if (auto ec = on_file_header()) return fail(ec);
        state_ = state::header_rest;
        continue;
      case state::header_rest: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, in.size() - at));
        at += n;
        skip_left_ -= n;
        if (skip_left_ == 0) state_ = state::tag_header;
        continue;
      }
      case state::tag_header:
        if (!gather(in, at, tag_header_size)) break;
        if (auto ec = on_tag_header()) return fail(ec);
        state_ = state::body;
        continue;
      case state::body: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, in.size() - at));
        const auto piece = in.subspan(at, n);
        if (tag_kept_ && body_.empty() && n == tag_size_) {
          // The whole body is in this input: one copy, straight into the frame's buffer.
          ++tags_;
          out.push_back(make_frame(static_cast<track>(tag_type_), tag_timestamp_, shared_buffer::copy_of(piece)));
          at += n;
          skip_left_ = 0;
          state_ = state::previous_size;
          continue;
        }
        if (tag_kept_) {
          if (body_.empty()) body_.reserve(tag_size_);
          body_.insert(body_.end(), piece.begin(), piece.end());
        }
        at += n;
        skip_left_ -= n;
        if (skip_left_ > 0) break;
        finish_tag(out);
        state_ = state::previous_size;
        continue;
      }
      case state::previous_size:
        if (!gather(in, at, 4)) break;
        if (u32(fixed_) != tag_header_size + tag_size_) ++mismatches_;
        state_ = state::tag_header;
        continue;
      case state::failed:
        return {at, error_};
    }
    break;  // a gather or skip needs more input
  }
  return {at, {}};
}

}  // namespace junction::media::flv
