#include "gateway/client_requests.hpp"

#include <gtest/gtest.h>

namespace junction::gateway {
namespace {

TEST(LineAddress, UserAtDomainWithAnOptionalPort) {
  line_address a;
  EXPECT_FALSE(parse_line_address("phone/alice@example.com", a));
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.domain, "example.com");
  EXPECT_EQ(a.server_port, "5060");
  EXPECT_FALSE(parse_line_address("phone/bob@127.0.0.1:5070", a));
  EXPECT_EQ(a.domain, "127.0.0.1");
  EXPECT_EQ(a.server_port, "5070");
  EXPECT_FALSE(parse_line_address("phone/carol@[::1]", a));  // an IPv6 literal keeps its colons
  EXPECT_EQ(a.domain, "[::1]");
}

TEST(LineAddress, WhatIsNotAnAddressIsRefusedWithAReason) {
  line_address a;
  for (auto bad : {"phone", "phone/", "phone/alice", "phone/@example.com", "phone/alice@", "phone/a@b/c"})
    EXPECT_EQ(parse_line_address(bad, a), request_errc::no_address) << bad;
  for (auto bad : {"phone/a@b:", "phone/a@b:50x0", "phone/a@b:123456"})
    EXPECT_EQ(parse_line_address(bad, a), request_errc::bad_port) << bad;
  EXPECT_STREQ(make_error_code(request_errc::bad_port).category().name(), "gateway.request");
  EXPECT_FALSE(make_error_code(request_errc::no_address).message().empty());
}

TEST(Rejection, StatusAndReasonOrDecline) {
  EXPECT_EQ(parse_rejection("486 Busy Here"), std::pair(486, std::string{"Busy Here"}));
  EXPECT_EQ(parse_rejection("603"), std::pair(603, std::string{}));
  EXPECT_EQ(parse_rejection("not now"), std::pair(603, std::string{"not now"}));
  EXPECT_EQ(parse_rejection(""), std::pair(603, std::string{"Decline"}));
  EXPECT_EQ(parse_rejection("200 OK"), std::pair(603, std::string{"200 OK"}));  // not a failure status
}

}  // namespace
}  // namespace junction::gateway

namespace junction::gateway {
namespace {

using media::amf::value;
using kind = client_call::kind;

TEST(ClientCall, TheLinesCallsAndTheirArguments) {
  std::vector<value> invite{value::make_string("bob@example.com"), value::make_string("pcmu"), value::make_null(),
                            value::make_string("dtmf")};
  auto c = read_client_call("invite", invite);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->what, kind::invite);
  EXPECT_EQ(c->text, "bob@example.com");
  EXPECT_EQ(c->codecs, (std::vector<std::string>{"pcmu", "dtmf"}));  // what is not a string is skipped

  std::vector<value> accept{value::make_string("wideband")};
  EXPECT_EQ(read_client_call("accept", accept)->codecs, std::vector<std::string>{"wideband"});
  std::vector<value> reject{value::make_string("486 Busy Here")};
  EXPECT_EQ(read_client_call("reject", reject)->text, "486 Busy Here");
  EXPECT_TRUE(read_client_call("hold", {})->on);
  std::vector<value> resume{value::make_boolean(false)};
  EXPECT_FALSE(read_client_call("hold", resume)->on);
  EXPECT_EQ(read_client_call("bye", {})->what, kind::bye);
  std::vector<value> keys{value::make_string("12#")};
  EXPECT_EQ(read_client_call("sendDTMF", keys)->text, "12#");
  std::vector<value> not_text{value::make_number(5)};
  EXPECT_EQ(read_client_call("invite", not_text)->text, "");  // the line refuses an empty destination
  EXPECT_FALSE(read_client_call("publish", {}));
  EXPECT_FALSE(read_client_call("record", {}));  // the line's record() is the gateway's own API
}

}  // namespace
}  // namespace junction::gateway
