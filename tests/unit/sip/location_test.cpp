#include "sip/location.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

using namespace std::chrono_literals;

struct fixture {
  location_table table{expiry_policy{60, 3600, 3600}};
  sip_clock::time_point now{100000s};

  register_outcome reg(std::vector<contact_update> contacts, std::string_view call_id,
                       std::uint32_t cseq, std::optional<std::uint32_t> expires = std::nullopt,
                       bool star = false) {
    register_request r{"sip:alice@example.com", contacts, star, expires, call_id, cseq, {},
                       "udp 192.0.2.1:5060", 0, {}};
    return table.apply(r, now);
  }
};

TEST(Location, AddRefreshAndRemove) {
  fixture f;
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.1", "", std::nullopt, 1000}}, "c1", 1).status, 200);
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.2", "", 120, 500}}, "c2", 1).status, 200);
  auto list = f.table.lookup("sip:alice@example.com", f.now);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].contact, "sip:alice@192.0.2.1");  // q 1.0 before q 0.5
  EXPECT_EQ(list[0].seconds_left(f.now), 3600u);
  EXPECT_EQ(list[1].seconds_left(f.now), 120u);

  // Same contact by URI equality (host case differs): a refresh, not a new binding.
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.2", "", 600, 1000}}, "c2", 2).status, 200);
  EXPECT_EQ(f.table.binding_count(), 2u);
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.2", "", 0, 1000}}, "c2", 3).status, 200);
  EXPECT_EQ(f.table.binding_count(), 1u);
}

// live() orders by q, highest first, keeping registration order among equals, and leaves out
// what has expired; has_live() agrees with it.
TEST(Location, LiveBindingsByQThenRegistrationOrder) {
  fixture f;
  EXPECT_EQ(f.reg({{"sip:a@192.0.2.1", "", std::nullopt, 500},
                   {"sip:b@192.0.2.2", "", std::nullopt, 1000},
                   {"sip:c@192.0.2.3", "", 60, 800},
                   {"sip:d@192.0.2.4", "", std::nullopt, 500},
                   {"sip:e@192.0.2.5", "", std::nullopt, 800}},
                  "c1", 1).status, 200);
  auto order = [&] {
    std::string out;
    for (const binding* b : f.table.live("sip:alice@example.com", f.now)) out += b->contact.substr(4, 1);
    return out;
  };
  EXPECT_EQ(order(), "bcead");
  EXPECT_TRUE(f.table.has_live("sip:alice@example.com", f.now));
  f.now += 61s;  // c's 60 s are over
  EXPECT_EQ(order(), "bead");
  EXPECT_EQ(f.table.lookup("sip:alice@example.com", f.now).size(), 4u);
  f.now += 3600s;
  EXPECT_EQ(order(), "");
  EXPECT_FALSE(f.table.has_live("sip:alice@example.com", f.now));
  EXPECT_FALSE(f.table.has_live("sip:nobody@example.com", f.now));
}

TEST(Location, OutOfOrderAndTooBriefChangeNothing) {
  fixture f;
  ASSERT_EQ(f.reg({{"sip:alice@h", "", std::nullopt, 1000}}, "c1", 5).status, 200);
  EXPECT_EQ(f.reg({{"sip:alice@h", "", 0, 1000}}, "c1", 5).status, 500);  // same CSeq again
  EXPECT_EQ(f.reg({{"sip:alice@h", "", 0, 1000}}, "c1", 4).status, 500);
  auto brief = f.reg({{"sip:alice@other", "", 10, 1000}, {"sip:alice@h", "", 0, 1000}}, "c1", 6);
  EXPECT_EQ(brief.status, 423);
  EXPECT_EQ(brief.min_expires, 60u);
  EXPECT_EQ(f.table.binding_count(), 1u);  // the valid removal in the same request did not happen
}

TEST(Location, LongRequestsAreCutAndExpiredOnesPurged) {
  fixture f;
  ASSERT_EQ(f.reg({{"sip:alice@h", "", 999999, 1000}}, "c1", 1).status, 200);
  EXPECT_EQ(f.table.lookup("sip:alice@example.com", f.now)[0].seconds_left(f.now), 3600u);
  EXPECT_TRUE(f.table.lookup("sip:alice@example.com", f.now + 3601s).empty());
  EXPECT_EQ(f.table.purge(f.now + 3601s), 1u);
  EXPECT_EQ(f.table.aor_count(), 0u);
}

TEST(Location, StarRemovesEverythingOnlyWithExpiresZero) {
  fixture f;
  ASSERT_EQ(f.reg({{"sip:alice@a", "", std::nullopt, 1000}, {"sip:alice@b", "", std::nullopt, 1000}}, "c1", 1).status, 200);
  EXPECT_EQ(f.reg({}, "c9", 1, 30, true).status, 400);
  EXPECT_EQ(f.reg({}, "c1", 1, 0, true).status, 500);  // older than what registered them
  EXPECT_EQ(f.reg({}, "c9", 1, 0, true).status, 200);
  EXPECT_EQ(f.table.binding_count(), 0u);
}

TEST(Location, BindingsPerAorAreCapped) {
  // One AOR with 1,680 bindings forked one INVITE into 8,045 datagrams (issue 13).
  fixture f;
  f.table = location_table{expiry_policy{60, 3600, 3600, 3}};
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(f.reg({{"sip:alice@192.0.2." + std::to_string(i), "", std::nullopt, 1000}}, "c", i + 1).status, 200);
  auto refused = f.reg({{"sip:alice@192.0.2.9", "", std::nullopt, 1000}}, "c", 10);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(f.table.binding_count(), 3u);
  EXPECT_EQ(f.table.refused_for_cap(), 1u);
  // A refresh, or a swap that removes one in the same request, is not refused.
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.0", "", 600, 1000}}, "c", 11).status, 200);
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.1", "", 0, 1000}, {"sip:alice@192.0.2.9", "", 600, 1000}}, "c", 12).status,
            200);
  EXPECT_EQ(f.table.binding_count(), 3u);
  // Several new ones at once count together.
  EXPECT_EQ(f.reg({{"sip:alice@192.0.2.0", "", 0, 1000}, {"sip:alice@h1", "", 600, 1000}, {"sip:alice@h2", "", 600, 1000}},
                  "c", 13).status,
            503);
}

}  // namespace
}  // namespace junction::sip
