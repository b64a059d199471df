#pragma once
// What the server says it is (XEP-0030: its identity and features, the same for every stream),
// and the entity capabilities that stand for them (XEP-0115), offered in the stream features so
// that clients ask once per version rather than once per login.
#include <string>
#include <string_view>
#include <vector>

namespace junction::xml {
class element;
}

namespace junction::xmpp {

inline constexpr std::string_view caps_node = "urn:xmpp:junction";

const std::vector<std::string_view>& server_features();
// XEP-0115 §5.1: base64(SHA-1("category/type/lang/name<" + each feature sorted + "<")).
std::string caps_ver(std::string_view category, std::string_view type, std::string_view name,
                     std::vector<std::string_view> features);
// The verification string of any entity's disco#info answer (`query`, XEP-0115 §5.1 and §5.4:
// identities, features and extended forms), to check the version a client's caps name.
std::string caps_ver_of(const xml::element& query);
// The <c/> element for the stream features, for a server named `name`.
std::string caps_element(std::string_view name);

}  // namespace junction::xmpp
