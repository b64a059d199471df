#include "junction-load/rtmp_url.hpp"

#include <gtest/gtest.h>

namespace junction::load {
namespace {

TEST(load_rtmp_url, parses_the_forms_users_type) {
  const struct {
    const char* text;
    const char* host;
    std::uint16_t port;
    const char* app;
    const char* stream;
    const char* tc_url;
  } cases[] = {
      {"rtmp://127.0.0.1/live/test", "127.0.0.1", 1935, "live", "test", "rtmp://127.0.0.1/live"},
      {"rtmp://localhost:19350/live/cam", "localhost", 19350, "live", "cam", "rtmp://localhost:19350/live"},
      {"rtmp://[::1]:1936/app/s", "::1", 1936, "app", "s", "rtmp://[::1]:1936/app"},
      {"rtmp://[::1]/app/s", "::1", 1935, "app", "s", "rtmp://[::1]/app"},
      {"rtmp://h/live/sub/stream", "h", 1935, "live/sub", "stream", "rtmp://h/live/sub"},
      {"rtmp://h/live/s?token=a/b", "h", 1935, "live", "s?token=a/b", "rtmp://h/live"},
  };
  for (const auto& c : cases) {
    std::string why;
    auto url = rtmp_url::parse(c.text, &why);
    ASSERT_TRUE(url) << c.text << ": " << why;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->app, c.app) << c.text;
    EXPECT_EQ(url->stream, c.stream) << c.text;
    EXPECT_EQ(url->tc_url(), c.tc_url) << c.text;
    EXPECT_EQ(url->to_string(), std::string{c.tc_url} + "/" + c.stream) << c.text;
  }
}

TEST(load_rtmp_url, refuses_what_is_not_an_rtmp_stream_url) {
  for (const char* text : {"http://h/live/s", "rtmps://h/live/s", "rtmp://h", "rtmp://h/", "rtmp://h/live",
                           "rtmp://h/live/", "rtmp:///live/s", "rtmp://h:0/live/s", "rtmp://h:65536/live/s",
                           "rtmp://h:x/live/s", "rtmp://::1/live/s", "rtmp://[::1/live/s", "rtmp://h//s",
                           "rtmp://h/live/?q=1"}) {
    std::string why;
    EXPECT_FALSE(rtmp_url::parse(text, &why)) << text;
    EXPECT_FALSE(why.empty()) << text;
  }
}

TEST(load_rtmp_url, stream_names_number_the_publishers_and_keep_the_query) {
  EXPECT_EQ(stream_names("s", 0), std::vector<std::string>{"s"});
  EXPECT_EQ(stream_names("s", 1), std::vector<std::string>{"s"});
  EXPECT_EQ(stream_names("s", 3), (std::vector<std::string>{"s-0", "s-1", "s-2"}));
  EXPECT_EQ(stream_names("s?k=v", 2), (std::vector<std::string>{"s-0?k=v", "s-1?k=v"}));
}

}  // namespace
}  // namespace junction::load
