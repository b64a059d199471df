#include "sip/binding_hops.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>

#include "sip/syntax.hpp"
#include "sip/uri.hpp"

namespace junction::sip {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// The address a binding's REGISTER came from ("udp 192.0.2.1:5060", as describe() writes it).
std::optional<udp::endpoint> endpoint_of(std::string_view source) {
  auto space = source.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  source.remove_prefix(space + 1);
  auto colon = source.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(source.substr(0, colon), ec);
  auto port = parse_decimal(source.substr(colon + 1), 65535);
  if (ec || !port) return std::nullopt;
  return udp::endpoint(address, static_cast<std::uint16_t>(*port));
}

transport transport_of(std::string_view source) {
  // The whole word: "wss ..." starts with "ws" too (a secure WebSocket binding was taken for a
  // plain one, and requests to it said SIP/2.0/WS).
  return transport_from_token(source.substr(0, source.find(' '))).value_or(transport::udp);
}

}  // namespace

// Where a binding is reached. Over the flow its REGISTER came on, if it came on one (RFC 5626:
// the only way to reach a phone behind NAT over TCP or WebSocket). Over UDP: its Contact's
// address when that is where the REGISTER came from (same host, maybe another port: no NAT in
// between), else the REGISTER's source address and port, which is what gets through a NAT.
std::optional<origin> next_hop_of(const binding& b, std::size_t socket) {
  auto source = endpoint_of(b.source);
  if (!source) return std::nullopt;
  origin o{transport_of(b.source), socket, *source, b.flow};
  if (b.flow) return o;
  if (auto contact = parse_uri(b.contact); contact && contact->is_sip_family()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(std::string(contact->host), ec);
    if (!ec && address == source->address()) o.peer = udp::endpoint(address, contact->port_or_default());
  }
  return o;
}

}  // namespace junction::sip
