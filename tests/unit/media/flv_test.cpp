#include "media/flv.hpp"

#include <gtest/gtest.h>

namespace junction::media {
namespace {

TEST(flv, file_header_matches_the_spec) {
  auto h = flv::file_header(true, true);
  const unsigned char expected[] = {'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0};
  ASSERT_EQ(h.size(), sizeof expected);
  for (std::size_t i = 0; i < h.size(); ++i) EXPECT_EQ(std::to_integer<unsigned>(h[i]), expected[i]) << i;
  EXPECT_EQ(std::to_integer<unsigned>(flv::file_header(false, true)[4]), 1u);
  EXPECT_EQ(std::to_integer<unsigned>(flv::file_header(true, false)[4]), 4u);
}

TEST(flv, tag_wraps_the_payload_with_header_and_previous_size) {
  const unsigned char body[] = {0x17, 0x01, 0xAA, 0xBB};
  auto f = make_frame(track::video, 0x01234567,
                      shared_buffer::copy_of(std::as_bytes(std::span{body})));
  auto t = flv::tag(f);
  const unsigned char expected[] = {9,    0, 0, 4,    // type, data size
                                    0x23, 0x45, 0x67, 0x01,  // timestamp low 24, then extension
                                    0,    0, 0,             // stream id
                                    0x17, 0x01, 0xAA, 0xBB,  // body
                                    0,    0, 0, 15};         // previous tag size: 11 + 4
  ASSERT_EQ(t.size(), sizeof expected);
  for (std::size_t i = 0; i < t.size(); ++i)
    EXPECT_EQ(std::to_integer<unsigned>(t.data()[i]), expected[i]) << i;
}

}  // namespace
}  // namespace junction::media
