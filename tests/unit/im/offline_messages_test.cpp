#include "im/offline_messages.hpp"

#include <gtest/gtest.h>

namespace junction::im {
namespace {

using namespace std::chrono_literals;
const std::chrono::system_clock::time_point t0{std::chrono::hours(500000)};

stored_message text(std::string body, std::chrono::system_clock::time_point at = t0) {
  return {"<sip:a@x>;tag=1", "<sip:b@x>", "text/plain", std::move(body), at};
}

TEST(OfflineMessages, KeptInOrderUntilTaken) {
  offline_messages box;
  EXPECT_TRUE(box.store("sip:b@x", text("one")));
  EXPECT_TRUE(box.store("sip:b@x", text("two")));
  EXPECT_EQ(box.waiting("sip:b@x"), 2u);
  auto got = box.take("sip:b@x", t0 + 1s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "one");
  EXPECT_EQ(got[1].body, "two");
  EXPECT_EQ(box.waiting("sip:b@x"), 0u);
  EXPECT_EQ(box.bytes(), 0u);
}

TEST(OfflineMessages, LimitsRefuseRatherThanGrow) {
  offline_messages box({2, 1000, 24h});
  EXPECT_TRUE(box.store("sip:b@x", text("1")));
  EXPECT_TRUE(box.store("sip:b@x", text("2")));
  EXPECT_FALSE(box.store("sip:b@x", text("3")));  // the user's box is full
  EXPECT_FALSE(box.store("sip:c@x", text(std::string(2000, 'x'))));  // the shard's budget
  EXPECT_TRUE(box.store("sip:c@x", text("fits")));
}

TEST(OfflineMessages, OldOnesExpireAndFailedDeliveriesComeBack) {
  offline_messages box({10, 1 << 20, 1h});
  box.store("sip:b@x", text("old", t0));
  box.store("sip:b@x", text("new", t0 + 50min));
  EXPECT_EQ(box.purge(t0 + 70min), 1u);
  auto got = box.take("sip:b@x", t0 + 70min);
  ASSERT_EQ(got.size(), 1u);
  box.give_back("sip:b@x", std::move(got));
  EXPECT_EQ(box.waiting("sip:b@x"), 1u);
  EXPECT_EQ(box.take("sip:b@x", t0 + 70min).at(0).body, "new");
}

}  // namespace
}  // namespace junction::im
