#include "rtmp/access.hpp"

#include <gtest/gtest.h>

namespace junction::rtmp {
namespace {

TEST(Token, FromTheStreamNameOrTheTcUrl) {
  EXPECT_TRUE(token_ok("", "", ""));
  EXPECT_TRUE(token_ok("s3cret", "token=s3cret", ""));
  EXPECT_TRUE(token_ok("s3cret", "a=1&token=s3cret", ""));
  EXPECT_TRUE(token_ok("s3cret", "", "token=s3cret"));
  EXPECT_FALSE(token_ok("s3cret", "token=s3cre", ""));
  EXPECT_FALSE(token_ok("s3cret", "token=s3cret2", ""));
  EXPECT_FALSE(token_ok("s3cret", "", ""));
  EXPECT_FALSE(token_ok("s3cret", "tok=s3cret", "x=s3cret"));
}

TEST(Vod, RecordingsAreTheAdminsUnlessTheApplicationDecides) {
  // No admin token: loopback clients only.
  EXPECT_EQ(vod_refusal("", false, true, "", ""), nullptr);
  EXPECT_NE(vod_refusal("", false, false, "", ""), nullptr);
  // With one: the token, from anywhere.
  EXPECT_NE(vod_refusal("admin", false, true, "", ""), nullptr);
  EXPECT_EQ(vod_refusal("admin", false, false, "token=admin", ""), nullptr);
  EXPECT_EQ(vod_refusal("admin", false, false, "", "token=admin"), nullptr);
  // An application that authorizes its plays itself has done so.
  EXPECT_EQ(vod_refusal("admin", true, false, "", ""), nullptr);
}

}  // namespace
}  // namespace junction::rtmp
