#include "sip/pidf.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

// RFC 3863 §5.1's example, namespace prefix and all.
constexpr std::string_view rfc3863_example = R"(<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf"
    entity="pres:someone@example.com">
  <impp:tuple id="sg89ae">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <impp:contact priority="0.8">tel:+09012345678</impp:contact>
  </impp:tuple>
</impp:presence>
)";

TEST(Pidf, ReadsTheRfcExampleWithAnyPrefix) {
  auto r = parse_pidf(rfc3863_example);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.summary->entity, "pres:someone@example.com");
  EXPECT_EQ(r.summary->basic, std::vector<std::string>{"open"});
}

TEST(Pidf, ExtensionsAndNotesAreAllowed) {
  auto r = parse_pidf(R"(<presence xmlns="urn:ietf:params:xml:ns:pidf"
      xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
      entity="sip:alice@example.com">
    <tuple id="a"><status><basic>closed</basic></status></tuple>
    <tuple id="b"><status><basic>open</basic></status><note>At &lt;work&gt;</note></tuple>
    <dm:person id="p"><rpid:activities><rpid:busy/></rpid:activities></dm:person>
  </presence>)");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.summary->basic, (std::vector<std::string>{"closed", "open"}));
  EXPECT_EQ(r.summary->note, "At <work>");
}

TEST(Pidf, WhatIsRefusedAndWhy) {
  auto refused = [](std::string_view doc) {
    auto r = parse_pidf(doc, pidf_limits{.max_depth = 8, .max_elements = 50});
    EXPECT_FALSE(r.ok()) << doc;
    EXPECT_STREQ(r.error.category().name(), "sip.pidf");
    return r.error.message() + (r.where.empty() ? "" : ": " + r.where);
  };
  EXPECT_NE(refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='x'>").find("not well-formed"),
            std::string::npos);
  EXPECT_NE(refused("<presence entity='sip:a@b'/>").find("root"), std::string::npos);  // no namespace
  EXPECT_EQ(parse_pidf("<presence entity='sip:a@b'/>").error, pidf_errc::not_presence);
  EXPECT_EQ(parse_pidf("<presence").error, pidf_errc::not_well_formed);
  EXPECT_NE(refused("<presence xmlns='urn:ietf:params:xml:ns:pidf'/>").find("entity"), std::string::npos);
  EXPECT_NE(refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='x'><tuple id='t'><status>"
                    "<basic>maybe</basic></status></tuple></presence>")
                .find("open nor closed"),
            std::string::npos);
  std::string deep = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='x'>";
  for (int i = 0; i < 10; ++i) deep += "<x>";
  for (int i = 0; i < 10; ++i) deep += "</x>";
  EXPECT_NE(refused(deep + "</presence>").find("deeply"), std::string::npos);
  std::string wide = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='x'>";
  for (int i = 0; i < 60; ++i) wide += "<x/>";
  EXPECT_NE(refused(wide + "</presence>").find("too many"), std::string::npos);
  // The "billion laughs": refused at the DTD, before any entity is expanded.
  EXPECT_NE(refused("<?xml version='1.0'?><!DOCTYPE p [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;'>]>"
                    "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='&b;'/>")
                .find("DTD"),
            std::string::npos);
}

TEST(Pidf, TheServersOwnDocumentIsValidAndEscaped) {
  auto doc = make_pidf("sip:a&b@example.com", true, "<Online>");
  auto r = parse_pidf(doc);
  ASSERT_TRUE(r.ok()) << r.error.message() << "\n" << doc;
  EXPECT_EQ(r.summary->entity, "sip:a&b@example.com");
  EXPECT_EQ(r.summary->basic, std::vector<std::string>{"open"});
  EXPECT_EQ(r.summary->note, "<Online>");
  EXPECT_EQ(parse_pidf(make_pidf("sip:a@b", false)).summary->basic, std::vector<std::string>{"closed"});
}

}  // namespace
}  // namespace junction::sip
