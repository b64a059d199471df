#include "core/connection.hpp"
#include "core/runtime.hpp"

#include <gtest/gtest.h>

namespace junction {
namespace {

TEST(connection_limit, acquires_up_to_the_limit) {
  connection_limit limit{2};
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_FALSE(limit.try_acquire());
  EXPECT_EQ(limit.open(), 2u);
  {
    connection_ticket ticket{&limit};  // owns one of the two
  }
  EXPECT_EQ(limit.open(), 1u);
  EXPECT_TRUE(limit.try_acquire());
}

TEST(connection_registry, registers_lists_and_closes) {
  metric_registry registry;
  auto m = connection_metrics::declare(registry, "test");
  runtime rt{{1, false, 10}, registry};
  auto& home = rt.at(0);
  ASSERT_TRUE(rt.limit().try_acquire());
  int closed = 0;
  {
    connection c{home, connection_ticket{&rt.limit()}, m, "test", "1.2.3.4:5", [&] { ++closed; }};
    EXPECT_EQ(connection_registry::shard_of(c.id()), 0u);
    EXPECT_EQ(home.connections().find(c.id()), &c);
    c.received(10);
    c.sent(20);
    auto listed = home.connections().list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].peer, "1.2.3.4:5");
    EXPECT_EQ(listed[0].bytes_in, 10u);
    EXPECT_EQ(listed[0].bytes_out, 20u);
    EXPECT_EQ(home.metrics().get(m.active), 1u);
    home.connections().close_idle();
    EXPECT_EQ(closed, 0);  // busy
    c.set_idle(true);
    home.connections().close_idle();
    EXPECT_EQ(closed, 1);
  }
  EXPECT_EQ(home.connections().size(), 0u);
  EXPECT_EQ(home.metrics().get(m.active), 0u);
  EXPECT_EQ(home.metrics().get(m.accepted), 1u);
  EXPECT_EQ(rt.limit().open(), 0u);
}

TEST(SourceLimit, EachSourceHoldsItsShareAndGivesItBack) {
  source_limit limit{2};
  auto a = boost::asio::ip::make_address("192.0.2.1");
  auto b = boost::asio::ip::make_address("192.0.2.2");
  auto first = limit.try_acquire(a), second = limit.try_acquire(a);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(limit.try_acquire(a));
  if (source_limit::slot_of(a) != source_limit::slot_of(b)) {
    EXPECT_TRUE(limit.try_acquire(b));
  }
  limit.release(*first);
  EXPECT_TRUE(limit.try_acquire(a));
}

TEST(SourceLimit, AnIpv6SlashSixtyFourIsOneSourceAndMappedIpv4IsIpv4) {
  EXPECT_EQ(source_limit::slot_of(boost::asio::ip::make_address("2001:db8:1:2::1")),
            source_limit::slot_of(boost::asio::ip::make_address("2001:db8:1:2:ffff::9")));
  EXPECT_EQ(source_limit::slot_of(boost::asio::ip::make_address("::ffff:192.0.2.7")),
            source_limit::slot_of(boost::asio::ip::make_address("192.0.2.7")));
}

TEST(SourceLimit, ZeroMeansNoLimit) {
  source_limit limit{0};
  auto a = boost::asio::ip::make_address("192.0.2.1");
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limit.try_acquire(a));
}

TEST(ConnectionTicket, GivesBackBothSlots) {
  connection_limit all{10};
  source_limit sources{1};
  auto a = boost::asio::ip::make_address("192.0.2.1");
  {
    ASSERT_TRUE(all.try_acquire());
    connection_ticket ticket{&all, &sources, *sources.try_acquire(a)};
    EXPECT_EQ(all.open(), 1u);
    EXPECT_FALSE(sources.try_acquire(a));
    connection_ticket moved = std::move(ticket);
  }
  EXPECT_EQ(all.open(), 0u);
  EXPECT_TRUE(sources.try_acquire(a));
}

}  // namespace
}  // namespace junction
