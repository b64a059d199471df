#include "http/transfer_coding.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

namespace junction::http {
namespace {

std::optional<transfer_coding_refusal> check(std::initializer_list<std::string_view> values) {
  beast_http::request_header<> h;
  for (auto v : values) h.insert(field::transfer_encoding, v);
  return unusable_transfer_coding(h);
}

TEST(TransferCoding, ChunkedAloneOrNoneIsFine) {
  EXPECT_FALSE(check({}));
  EXPECT_FALSE(check({"chunked"}));
  EXPECT_FALSE(check({"Chunked"}));
  EXPECT_FALSE(check({" chunked "}));
}

TEST(TransferCoding, ALengthThatCannotBeKnownIsABadRequest) {
  // RFC 9112 §6.3: chunked not last (or absent) leaves the body's length unknown.
  for (auto te : {"gzip", "identity", "chunked, identity", "chunked, gzip", "", ","}) {
    auto r = check({te});
    ASSERT_TRUE(r) << te;
    EXPECT_EQ(r->code, status::bad_request) << te;
  }
  auto split = check({"chunked", "identity"});  // two fields make one list
  ASSERT_TRUE(split);
  EXPECT_EQ(split->code, status::bad_request);
}

TEST(TransferCoding, OtherCodingsBeforeChunkedAreNotImplemented) {
  for (auto te : {"gzip, chunked", "deflate,chunked"}) {
    auto r = check({te});
    ASSERT_TRUE(r) << te;
    EXPECT_EQ(r->code, status::not_implemented) << te;
  }
  auto split = check({"gzip", "chunked"});
  ASSERT_TRUE(split);
  EXPECT_EQ(split->code, status::not_implemented);
}

}  // namespace
}  // namespace junction::http
