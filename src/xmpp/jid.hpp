#pragma once
// XMPP addresses (RFC 7622): [localpart@]domainpart[/resourcepart].
//
// Comparison needs one spelling per address. The localpart and domain are case-folded (ASCII
// lowercase; a non-ASCII letter is kept as sent, which is exact for the ASCII names Junction's
// user store allows), the resource is kept exactly. Refused: empty parts where a part is
// present, parts over 1023 bytes, the characters RFC 7622 forbids in a localpart
// (" & ' / : < > @ and whitespace), control characters anywhere, and invalid UTF-8.
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace junction::xmpp {

class jid {
 public:
  jid() = default;
  static std::optional<jid> parse(std::string_view text);
  // From parts already checked (the user store's names): nothing when one is not valid.
  static std::optional<jid> make(std::string_view local, std::string_view domain, std::string_view resource = {});

  const std::string& local() const noexcept { return local_; }
  const std::string& domain() const noexcept { return domain_; }
  const std::string& resource() const noexcept { return resource_; }
  bool empty() const noexcept { return domain_.empty(); }
  bool is_bare() const noexcept { return resource_.empty(); }
  jid bare() const;
  jid with_resource(std::string_view resource) const;  // the resource must be valid
  std::string str() const;        // as written: "alice@example.com/phone"
  std::string bare_str() const;   // "alice@example.com"

  friend bool operator==(const jid&, const jid&) = default;

 private:
  std::string local_, domain_, resource_;
};

// Whether `who` matches an item of a blocklist (XEP-0191 §3.2, RFC 6121's privacy lists: a full
// JID, a bare JID (any of its resources), a domain with a resource, or a domain (anyone there)).
bool is_blocked(const std::set<std::string>& blocked, const jid& who);

// A resource part a client may ask for, as RFC 7622 §3.4 allows it (checked as above).
bool valid_resource(std::string_view resource) noexcept;

}  // namespace junction::xmpp
