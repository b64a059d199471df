#include "xmpp/server_caps.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "core/base64.hpp"
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

}  // namespace junction::xmpp
