#pragma once
// Reading FLV files (Adobe FLV spec v10.1, annex E) as a sans-IO parser: bytes in, frames out.
// It owns no file: a caller feeds what it read, in pieces of any size, and gets each tag as a
// media::frame (the tag body is the frame's payload, as everywhere in the media path).
//
// Choices the files in the wild force:
// - PreviousTagSize is not checked against the tag: some writers (old Flash tools, truncated
//   recordings repaired by hand) get it wrong, and it carries nothing the tag header does not.
//   Mismatches are counted instead.
// - Tags other than audio (8), video (9) and script data (18), and tags with the Filter bit
//   (encrypted, FLV 10 annex F), are skipped whole and counted.
// - The header's data offset may exceed 9 (a later version's extra header bytes): the extra
//   bytes are skipped. Less than 9 is an error.
#include "media/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>
#include <vector>

namespace junction::media::flv {

enum class reader_errc {
  not_flv = 1,        // the file does not start with "FLV"
  bad_version,        // version byte other than 1
  bad_header_size,    // data offset below 9 or above reader_limits::max_header_size
  tag_too_large,      // a tag body above reader_limits::max_tag_size
};

const std::error_category& reader_category() noexcept;
std::error_code make_error_code(reader_errc e) noexcept;

struct reader_limits {
  // A tag body is buffered until complete; its length field allows 16 MiB. 8 MiB passes any
  // real keyframe, as the RTMP chunk reader's message limit does.
  std::uint32_t max_tag_size = 8 << 20;
  std::uint32_t max_header_size = 1 << 16;  // data offset: 9 in every file written so far
};

class reader {
 public:
  explicit reader(reader_limits limits = {});

  struct result {
    std::size_t consumed = 0;  // all of `in` unless `error` is set
    std::error_code error;     // sticky: every later feed() returns it again
  };

  // Consumes bytes, appending each complete audio, video or script tag to `out` in file order.
  // A partial header or tag is kept until the rest arrives.
  result feed(std::span<const std::byte> in, std::vector<frame>& out);

  // Valid once the header was read.
  bool header_done() const noexcept { return state_ != state::header; }
  bool has_audio() const noexcept { return flags_ & 0x04; }
  bool has_video() const noexcept { return flags_ & 0x01; }

  std::uint64_t tags_read() const noexcept { return tags_; }
  std::uint64_t tags_skipped() const noexcept { return skipped_; }  // unknown or encrypted
  std::uint64_t previous_size_mismatches() const noexcept { return mismatches_; }
  // True between tags: the bytes fed so far end exactly after a tag (or the header), so a file
  // that ends here is complete.
  bool at_tag_boundary() const noexcept;

 private:
  enum class state : std::uint8_t { header, header_rest, tag_header, body, previous_size, failed };
  static constexpr std::size_t file_header_size = 9;
  static constexpr std::size_t tag_header_size = 11;

  // Gathers up to `want` bytes of fixed-size fields from `in` into `fixed_`; true once full.
  bool gather(std::span<const std::byte> in, std::size_t& at, std::size_t want);
  std::error_code on_file_header();
  std::error_code on_tag_header();
  void finish_tag(std::vector<frame>& out);

  reader_limits limits_;
  state state_ = state::header;
  std::error_code error_;
  std::byte fixed_[tag_header_size]{};  // the file header's first 9 bytes, a tag header, a size
  std::size_t fixed_size_ = 0;
  std::uint8_t flags_ = 0;
  std::uint64_t skip_left_ = 0;  // header bytes past the first 9, then PreviousTagSize0

  // The tag being read.
  std::uint8_t tag_type_ = 0;
  bool tag_kept_ = false;  // audio, video or script, not encrypted
  std::uint32_t tag_size_ = 0;
  std::uint32_t tag_timestamp_ = 0;
  std::vector<std::byte> body_;  // used only when a body arrives in pieces

  std::uint64_t tags_ = 0, skipped_ = 0, mismatches_ = 0;
};

}  // namespace junction::media::flv

template <>
struct std::is_error_code_enum<junction::media::flv::reader_errc> : std::true_type {};
