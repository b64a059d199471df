#include "xmpp/server_caps.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <utility>

#include "core/base64.hpp"
#include "xml/element.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {

const std::vector<std::string_view>& server_features() {
  static const std::vector<std::string_view> features{ns::disco_info, ns::disco_items, ns::ping, ns::carbons,
                                                      ns::blocking,   ns::vcard,       ns::csi,  ns::sm};
  return features;
}

std::string caps_ver(std::string_view category, std::string_view type, std::string_view name,
                     std::vector<std::string_view> features) {
  std::sort(features.begin(), features.end());
  std::string s(category);
  s += '/';
  s += type;
  s += "//";
  s += name;
  s += '<';
  for (auto f : features) {
    s += f;
    s += '<';
  }
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return base64::encode({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string caps_element(std::string_view name) {
  return "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='" + std::string(caps_node) + "' ver='" +
         caps_ver("server", "im", name, server_features()) + "'/>";
}

namespace {
constexpr std::string_view data_ns = "jabber:x:data";
}  // namespace

// XEP-0115 §5.1 with the forms of §5.4: the verification string of a disco#info answer.
std::string caps_ver_of(const xml::element& query) {
  std::vector<std::string> identities, features;
  std::vector<std::pair<std::string, std::string>> forms;  // FORM_TYPE, the rest
  for (const auto& c : query.children()) {
    if (c.is(ns::disco_info, "identity")) {
      std::string s(c.attr("category"));
      s += '/';
      s += c.attr("type");
      s += '/';
      s += c.attr("http://www.w3.org/XML/1998/namespace lang");
      s += '/';
      s += c.attr("name");
      identities.push_back(std::move(s));
    } else if (c.is(ns::disco_info, "feature")) {
      features.emplace_back(c.attr("var"));
    } else if (c.is(data_ns, "x")) {
      std::string type;
      std::vector<std::pair<std::string, std::vector<std::string>>> fields;
      for (const auto& f : c.children()) {
        if (!f.is(data_ns, "field")) continue;
        std::vector<std::string> values;
        for (const auto& v : f.children())
          if (v.is(data_ns, "value")) values.push_back(v.text());
        if (f.attr("var") == "FORM_TYPE") {
          type = values.empty() ? std::string{} : values.front();
          continue;
        }
        std::sort(values.begin(), values.end());
        fields.emplace_back(std::string(f.attr("var")), std::move(values));
      }
      std::sort(fields.begin(), fields.end());
      std::string rest;
      for (const auto& [var, values] : fields) {
        rest += var + '<';
        for (const auto& v : values) rest += v + '<';
      }
      forms.emplace_back(type + '<', std::move(rest));
    }
  }
  std::sort(identities.begin(), identities.end());
  std::sort(features.begin(), features.end());
  std::sort(forms.begin(), forms.end());
  std::string s;
  for (const auto& i : identities) s += i + '<';
  for (const auto& f : features) s += f + '<';
  for (const auto& [type, rest] : forms) s += type + rest;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return base64::encode({reinterpret_cast<const char*>(digest), sizeof digest});
}

}  // namespace junction::xmpp
