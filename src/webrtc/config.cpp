#include "webrtc/config.hpp"

#include <boost/asio/ip/address.hpp>

namespace junction {

void read_config(config_section& s, webrtc_config& w) {
  s.boolean("enabled", w.enabled);
  s.string("address", w.address, &w.address_given);
  s.string("announce", w.announce);
  s.integer("port", w.port, 0, 65535);
  s.integer("max_peers", w.max_peers, 1, 1 << 20);
  s.boolean("ice_tcp", w.ice_tcp);
  s.finish();
  boost::system::error_code ec;
  boost::asio::ip::make_address(w.address, ec);
  if (ec) s.fail("webrtc.address must be an IP address: \"" + w.address + "\"");
  if (!w.announce.empty()) {
    auto a = boost::asio::ip::make_address(w.announce, ec);
    if (ec || a.is_unspecified()) s.fail("webrtc.announce must be an IP address: \"" + w.announce + "\"");
  }
}

}  // namespace junction
