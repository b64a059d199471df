#include "http/websocket.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {

TEST(websocket, subprotocol_negotiation) {
  EXPECT_TRUE(offers_subprotocol("sip", "sip"));
  EXPECT_TRUE(offers_subprotocol("xmpp, sip", "sip"));
  EXPECT_TRUE(offers_subprotocol(" sip ,chat", "sip"));
  EXPECT_FALSE(offers_subprotocol("sips", "sip"));
  EXPECT_FALSE(offers_subprotocol("SIP", "sip"));
  EXPECT_FALSE(offers_subprotocol("", "sip"));
}

TEST(websocket, routes_by_path) {
  websocket_routes routes;
  routes.add({"/ws/echo", "", echo_handler});
  routes.add({"/sip", "sip", echo_handler});
  EXPECT_EQ(routes.match("/sip")->subprotocol, "sip");
  EXPECT_EQ(routes.match("/ws/echo")->subprotocol, "");
  EXPECT_EQ(routes.match("/ws"), nullptr);
}

}  // namespace
}  // namespace junction::http
