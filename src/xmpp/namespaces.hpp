#pragma once
// The XML namespaces Junction's XMPP server speaks.
#include <string_view>

namespace junction::xmpp::ns {

inline constexpr std::string_view client = "jabber:client";
inline constexpr std::string_view server = "jabber:server";
inline constexpr std::string_view streams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view stream_errors = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view stanza_errors = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view tls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view bind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view session = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr std::string_view roster = "jabber:iq:roster";
inline constexpr std::string_view ping = "urn:xmpp:ping";
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view carbons = "urn:xmpp:carbons:2";
inline constexpr std::string_view forward = "urn:xmpp:forward:0";
inline constexpr std::string_view hints = "urn:xmpp:hints";
inline constexpr std::string_view mam = "urn:xmpp:mam:2";
inline constexpr std::string_view sid = "urn:xmpp:sid:0";
inline constexpr std::string_view sm = "urn:xmpp:sm:3";
inline constexpr std::string_view blocking = "urn:xmpp:blocking";
inline constexpr std::string_view vcard = "vcard-temp";
inline constexpr std::string_view private_xml = "jabber:iq:private";
inline constexpr std::string_view csi = "urn:xmpp:csi:0";
inline constexpr std::string_view iq_register = "jabber:iq:register";

}  // namespace junction::xmpp::ns
