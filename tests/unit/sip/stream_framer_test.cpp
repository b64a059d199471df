#include "sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"

namespace junction::sip {
namespace {

TEST(StreamFramer, FindsEachMessageWhateverTheSplit) {
  std::string one = test::options_request("", "body!");
  std::string two = test::options_request();
  std::string stream = "\r\n\r\n" + one + "\r\n" + two;
  // Feed the stream in two pieces cut at every offset: the framer only ever says "need more"
  // until a whole message is there, and then cuts exactly that message.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    std::string buffered = stream.substr(0, cut);
    std::size_t fed = cut;
    std::vector<frame::kind> seen;
    std::vector<std::string> messages;
    for (int guard = 0; guard < 20; ++guard) {
      frame f = find_message(buffered, parse_limits{});
      ASSERT_NE(f.what, frame::kind::error) << f.reason;
      if (f.what == frame::kind::need_more) {
        if (fed == stream.size()) break;
        buffered += stream.substr(fed);
        fed = stream.size();
        continue;
      }
      seen.push_back(f.what);
      if (f.what == frame::kind::message) messages.push_back(buffered.substr(0, f.size));
      buffered.erase(0, f.size);
    }
    ASSERT_EQ(messages.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(messages[0], one);
    EXPECT_EQ(messages[1], two);
    EXPECT_EQ(seen.front(), frame::kind::ping) << "cut at " << cut;
  }
}

TEST(StreamFramer, RefusesWhatCannotBeFramed) {
  std::string no_length = test::options_request();
  no_length.erase(no_length.find("Content-Length: 0\r\n"), 19);
  EXPECT_EQ(find_message(no_length, parse_limits{}).what, frame::kind::error);

  std::string negative = test::options_request();
  negative.replace(negative.find("Content-Length: 0"), 17, "Content-Length: -5");
  EXPECT_EQ(find_message(negative, parse_limits{}).what, frame::kind::error);

  std::string twice = test::options_request("l: 0\n");
  EXPECT_EQ(find_message(twice, parse_limits{}).what, frame::kind::error);

  parse_limits small;
  small.max_message = 64;
  EXPECT_EQ(find_message(std::string(100, 'x'), small).what, frame::kind::error);
  EXPECT_EQ(find_message(test::options_request("", std::string(10, 'b')), small).what,
            frame::kind::error);
  EXPECT_EQ(find_message(std::string(10, 'x'), small).what, frame::kind::need_more);
}

}  // namespace
}  // namespace junction::sip
