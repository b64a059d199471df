#include "http/range.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {
using kind = byte_range::kind;

struct range_case {
  const char* header;
  std::uint64_t size;
  kind outcome;
  std::uint64_t first, last;
};

TEST(byte_range, table) {
  const range_case cases[] = {
      {"bytes=0-9", 100, kind::partial, 0, 9},
      {"bytes=10-", 100, kind::partial, 10, 99},
      {"bytes=-10", 100, kind::partial, 90, 99},
      {"bytes=-1000", 100, kind::partial, 0, 99},  // suffix longer than the file: all of it
      {"bytes=90-1000", 100, kind::partial, 90, 99},
      {"bytes=99-99", 100, kind::partial, 99, 99},
      {" bytes=1-2 ", 100, kind::partial, 1, 2},
      {"bytes=100-", 100, kind::unsatisfiable, 0, 0},
      {"bytes=500-600", 100, kind::unsatisfiable, 0, 0},
      {"bytes=-0", 100, kind::unsatisfiable, 0, 0},
      {"bytes=0-", 0, kind::unsatisfiable, 0, 0},
      // Malformed or unsupported: ignored, the whole file is sent.
      {"bytes=5-1", 100, kind::whole, 0, 0},
      {"bytes=0-1,5-6", 100, kind::whole, 0, 0},
      {"items=0-1", 100, kind::whole, 0, 0},
      {"bytes=a-b", 100, kind::whole, 0, 0},
      {"bytes=", 100, kind::whole, 0, 0},
      {"bytes=-", 100, kind::whole, 0, 0},
      {"bytes=1", 100, kind::whole, 0, 0},
      {"bytes=99999999999999999999999-", 100, kind::whole, 0, 0},
      {"", 100, kind::whole, 0, 0},
  };
  for (const auto& c : cases) {
    auto r = parse_byte_range(c.header, c.size);
    EXPECT_EQ(r.outcome, c.outcome) << c.header;
    if (c.outcome == kind::partial) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.last, c.last) << c.header;
      EXPECT_EQ(r.length(), c.last - c.first + 1) << c.header;
    }
  }
}

}  // namespace
}  // namespace junction::http
