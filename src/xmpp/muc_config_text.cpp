// A room's configuration and affiliations as text, for the user store (persistent rooms).
#include <charconv>

#include "xmpp/muc_room.hpp"

namespace junction::xmpp {

// One "key=value" per line; values are single lines (names and passwords come from a form
// field's one <value/>, newlines dropped).
std::string muc_config_text(const muc_config& c) {
  auto line = [](std::string_view k, std::string_view v) {
    std::string out(k);
    out += '=';
    for (char ch : v)
      if (ch != '\n' && ch != '\r') out += ch;
    out += '\n';
    return out;
  };
  auto b = [](bool v) { return v ? "1" : "0"; };
  return line("name", c.name) + line("description", c.description) + line("password", c.password) +
         line("persistent", b(c.persistent)) + line("public", b(c.public_room)) +
         line("members_only", b(c.members_only)) + line("moderated", b(c.moderated)) +
         line("non_anonymous", b(c.non_anonymous)) + line("change_subject", b(c.change_subject)) +
         line("allow_invites", b(c.allow_invites)) + line("max_history", std::to_string(c.max_history)) +
         line("max_occupants", std::to_string(c.max_occupants));
}

namespace {
template <class F>
void each_line(std::string_view text, F f) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) f(line.substr(0, eq), line.substr(eq + 1));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}
}  // namespace

muc_config muc_config_from(std::string_view text) {
  muc_config c;
  each_line(text, [&](std::string_view k, std::string_view v) {
    auto number = [&](std::size_t& out) { std::from_chars(v.data(), v.data() + v.size(), out); };
    if (k == "name") c.name = std::string(v);
    else if (k == "description") c.description = std::string(v);
    else if (k == "password") c.password = std::string(v);
    else if (k == "persistent") c.persistent = v == "1";
    else if (k == "public") c.public_room = v == "1";
    else if (k == "members_only") c.members_only = v == "1";
    else if (k == "moderated") c.moderated = v == "1";
    else if (k == "non_anonymous") c.non_anonymous = v == "1";
    else if (k == "change_subject") c.change_subject = v == "1";
    else if (k == "allow_invites") c.allow_invites = v == "1";
    else if (k == "max_history") number(c.max_history);
    else if (k == "max_occupants") number(c.max_occupants);
  });
  return c;
}

std::string muc_affiliations_text(const std::map<std::string, muc_affiliation>& a) {
  std::string out;
  for (const auto& [who, aff] : a) out += who + "=" + std::string(to_string(aff)) + "\n";
  return out;
}

std::map<std::string, muc_affiliation> muc_affiliations_from(std::string_view text) {
  std::map<std::string, muc_affiliation> out;
  each_line(text, [&](std::string_view k, std::string_view v) {
    if (auto a = affiliation_from(v)) out[std::string(k)] = *a;
  });
  return out;
}

}  // namespace junction::xmpp
