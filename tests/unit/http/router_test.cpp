#include "http/router.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {

reply never(request_context&) { throw std::logic_error("not called"); }

TEST(router, exact_then_longest_prefix) {
  router r;
  r.add({"/api/v1/server", GET, false, sync_handler{never}});
  r.add({"/api/", GET, false, sync_handler{never}});
  r.add({"/api/v1/connections/", DELETE, true, sync_handler{never}});
  EXPECT_EQ(r.match("/api/v1/server")->path, "/api/v1/server");
  EXPECT_EQ(r.match("/api/v1/connections/42")->path, "/api/v1/connections/");
  EXPECT_EQ(r.match("/api/other")->path, "/api/");
  EXPECT_EQ(r.match("/index.html"), nullptr);
  EXPECT_EQ(r.match("/api"), nullptr);
}

TEST(router, a_prefix_beats_a_suffix) {
  router r;
  r.add({"*.flv", GET, false, sync_handler{never}});
  r.add({"/recordings/", GET, true, sync_handler{never}});
  EXPECT_EQ(r.match("/recordings/call-1.flv")->path, "/recordings/");
  EXPECT_EQ(r.match("/live/cam.flv")->path, "*.flv");
  EXPECT_EQ(r.match(".flv"), nullptr);
}

TEST(router, allow_header_lists_methods) {
  EXPECT_EQ(allow_header(GET | HEAD), "GET, HEAD");
  EXPECT_EQ(allow_header(DELETE), "DELETE");
  EXPECT_EQ(method_bit(verb::post), POST);
  EXPECT_EQ(method_bit(verb::patch), PATCH);
  EXPECT_EQ(allow_header(POST | PATCH | DELETE), "POST, DELETE, PATCH");
  EXPECT_EQ(method_bit(verb::options), 0u);  // no route takes it: 405 with Allow
}

}  // namespace
}  // namespace junction::http
