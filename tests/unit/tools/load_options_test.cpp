#include "junction-load/options.hpp"

#include <gtest/gtest.h>

namespace junction::load {
namespace {

TEST(load_options, bitrates) {
  const struct {
    const char* text;
    std::optional<std::uint64_t> bits;
  } cases[] = {
      {"2M", 2'000'000},   {"500k", 500'000},  {"128K", 128'000},   {"1.5M", 1'500'000},
      {"0", 0},            {"2000000", 2'000'000}, {"3Mbps", 3'000'000}, {"64kb/s", 64'000},
      {"1G", 1'000'000'000}, {"", std::nullopt}, {"M", std::nullopt},  {"2X", std::nullopt},
      {"-1M", std::nullopt}, {"2 M", std::nullopt}, {"5000G", std::nullopt}, {"nan", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_bitrate(c.text), c.bits) << c.text;
  EXPECT_EQ(format_bitrate(2'000'000), "2M");
  EXPECT_EQ(format_bitrate(128'000), "128k");
  EXPECT_EQ(format_bitrate(1'234), "1234");
  EXPECT_EQ(format_bitrate(0), "0");
}

TEST(load_options, durations_with_a_unit_or_in_seconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_run_duration("30s"), milliseconds{30'000});
  EXPECT_EQ(parse_run_duration("500ms"), milliseconds{500});
  EXPECT_EQ(parse_run_duration("2m"), milliseconds{120'000});
  EXPECT_EQ(parse_run_duration("30"), milliseconds{30'000});
  EXPECT_EQ(parse_run_duration("0s"), milliseconds{0});
  for (const char* bad : {"", "soon", "1.5s", "-1", "10 s", "s"}) EXPECT_FALSE(parse_run_duration(bad)) << bad;
}

TEST(load_options, the_defaults_pass_the_check) {
  load_options o;
  EXPECT_EQ(check(o), "");
  EXPECT_EQ(o.streams(), 1u);
  o.publishers = 4;
  EXPECT_EQ(o.streams(), 4u);
}

TEST(load_options, contradictions_are_usage_errors) {
  const auto wrong = [](auto change) {
    load_options o;
    change(o);
    return !check(o).empty();
  };
  EXPECT_TRUE(wrong([](load_options& o) { o.publishers = 0; }));  // nothing to play with
  EXPECT_FALSE(wrong([](load_options& o) { o.publishers = 0; o.players = 5; }));
  EXPECT_TRUE(wrong([](load_options& o) { o.ramp = 0; }));
  EXPECT_TRUE(wrong([](load_options& o) { o.duration = std::chrono::milliseconds{0}; }));
  EXPECT_TRUE(wrong([](load_options& o) { o.fps = 0; }));
  EXPECT_TRUE(wrong([](load_options& o) { o.gop = 0; }));
  EXPECT_TRUE(wrong([](load_options& o) { o.bitrate = 10; }));
  EXPECT_FALSE(wrong([](load_options& o) { o.source = "file.flv"; o.fps = 0; })) << "synthetic settings only matter for synthetic";
}

TEST(load_options, only_loopback_without_allow_remote) {
  using boost::asio::ip::make_address;
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback(make_address(a))) << a;
  for (const char* a : {"10.0.0.1", "192.168.1.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "2001:db8::1", "128.0.0.1"})
    EXPECT_FALSE(is_loopback(make_address(a))) << a;
}

}  // namespace
}  // namespace junction::load
