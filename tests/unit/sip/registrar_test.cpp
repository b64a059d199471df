#include "sip/registrar.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"

namespace junction::sip {
namespace {

using namespace std::chrono_literals;

message register_request(std::string_view to, std::string_view contacts, std::uint32_t cseq,
                         std::string_view extra = "") {
  std::string text = test::crlf(
      "REGISTER sip:example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-r" + std::to_string(cseq) + "\n"
      "Max-Forwards: 70\n"
      "From: <sip:alice@example.com>;tag=a1\n"
      "To: <" + std::string(to) + ">\n"
      "Call-ID: reg-1\n"
      "CSeq: " + std::to_string(cseq) + " REGISTER\n");
  if (!contacts.empty()) text += "Contact: " + std::string(contacts) + "\r\n";
  text += test::crlf(extra);
  text += "Content-Length: 0\r\n\r\n";
  parse_result r = parse_message(text, parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason();
  return std::move(*r.msg);
}

message response_of(const std::string& wire) {
  parse_result r = parse_message(wire, parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason() << "\n" << wire;
  return std::move(*r.msg);
}

struct fixture {
  location_table table{expiry_policy{60, 3600, 3600}};
  std::vector<std::string> domains{"example.com"};
  register_context ctx{.to_tag = "tt", .source = "udp 192.0.2.1:5062", .now = sip_clock::time_point{5000s}};
};

TEST(Registrar, RegistersAndListsEveryBinding) {
  fixture f;
  message first = response_of(handle_register(
      f.table, register_request("sip:alice@EXAMPLE.com", "<sip:alice@192.0.2.1:5062>;expires=300", 1),
      f.domains, f.ctx));
  EXPECT_EQ(first.status(), 200);
  ASSERT_EQ(first.contacts().size(), 1u);
  EXPECT_EQ(first.contacts()[0].params.value("expires"), "300");
  EXPECT_EQ(first.to().tag(), "tt");
  EXPECT_NE(first.find(header_id::date), nullptr);

  message second = response_of(handle_register(
      f.table, register_request("sip:alice@example.com", "<sip:alice@192.0.2.9>;q=0.5", 2, "Expires: 100\n"),
      f.domains, f.ctx));
  ASSERT_EQ(second.contacts().size(), 2u);
  EXPECT_EQ(second.contacts()[1].params.value("q"), "0.500");
  EXPECT_EQ(second.contacts()[1].params.value("expires"), "100");

  // A query (no Contact) lists them without changing anything.
  message query = response_of(handle_register(f.table, register_request("sip:alice@example.com", "", 3), f.domains, f.ctx));
  EXPECT_EQ(query.contacts().size(), 2u);
  EXPECT_EQ(f.table.lookup("sip:alice@example.com", f.ctx.now).size(), 2u);  // hosts compare case-blind
}

TEST(Registrar, RefusesWhatItMust) {
  fixture f;
  EXPECT_EQ(response_of(handle_register(f.table, register_request("sip:alice@elsewhere.org", "<sip:a@h>", 1),
                                        f.domains, f.ctx)).status(), 404);
  EXPECT_EQ(response_of(handle_register(f.table, register_request("isbn:2983792873", "<sip:a@h>", 1),
                                        f.domains, f.ctx)).status(), 404);
  message brief = response_of(handle_register(
      f.table, register_request("sip:alice@example.com", "<sip:a@h>;expires=5", 1), f.domains, f.ctx));
  EXPECT_EQ(brief.status(), 423);
  EXPECT_EQ(brief.value(header_id::min_expires), "60");
  EXPECT_EQ(response_of(handle_register(f.table, register_request("sip:alice@example.com", "<sip:a@h>;q=2", 1),
                                        f.domains, f.ctx)).status(), 400);
  EXPECT_EQ(response_of(handle_register(f.table, register_request("sip:alice@example.com", "*, <sip:a@h>", 1),
                                        f.domains, f.ctx)).status(), 400);
}

TEST(Registrar, PathIsStoredAndEchoed) {
  fixture f;
  message ok = response_of(handle_register(
      f.table, register_request("sip:alice@example.com", "<sip:a@h>", 1, "Path: <sip:edge.example.com;lr>\n"),
      f.domains, f.ctx));
  EXPECT_EQ(ok.value(header_id::path), "<sip:edge.example.com;lr>");
  auto bindings = f.table.lookup("sip:alice@example.com", f.ctx.now);
  ASSERT_EQ(bindings.size(), 1u);
  ASSERT_EQ(bindings[0].path.size(), 1u);
  EXPECT_EQ(bindings[0].source, "udp 192.0.2.1:5062");
}

}  // namespace
}  // namespace junction::sip
