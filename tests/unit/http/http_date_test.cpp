#include "http/http_date.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {

TEST(http_date, formats_and_parses_imf_fixdate) {
  // RFC 9110 §5.6.7's example.
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
  EXPECT_EQ(http_date_now().size(), 29u);
}

}  // namespace
}  // namespace junction::http
