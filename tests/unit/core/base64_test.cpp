#include "core/base64.hpp"

#include <gtest/gtest.h>

namespace junction::base64 {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},   {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encode(plain), encoded);
    EXPECT_EQ(decode(encoded), plain);
  }
}

TEST(Base64, UrlAlphabetWithoutPadding) {
  const std::string bytes("\xfb\xff\xfe", 3);
  EXPECT_EQ(encode(bytes), "+//+");
  EXPECT_EQ(encode(bytes, alphabet::url, false), "-__-");
  EXPECT_EQ(decode("-__-", alphabet::url, false), bytes);
  EXPECT_EQ(encode("f", alphabet::url, false), "Zg");
  EXPECT_EQ(decode("Zg", alphabet::url, false), "f");
}

TEST(Base64, OneValueHasOneSpelling) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9=v", "Zm9v=", "Zm 9v", "-__-", "Zg==Zg=="})
    EXPECT_FALSE(decode(bad)) << bad;
  EXPECT_FALSE(decode("Zg==", alphabet::url, false));
  EXPECT_FALSE(decode("Z", alphabet::url, false));
}

}  // namespace
}  // namespace junction::base64
