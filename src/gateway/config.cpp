#include "gateway/config.hpp"

namespace junction {

void read_config(config_section& gw, gateway_config& g) {
  gw.boolean("enabled", g.enabled);
  gw.string("app", g.app);
  gw.string("media_address", g.media_address);
  gw.integer("register_expires", g.register_expires, 60, 86400);
  gw.duration("ring_timeout", g.ring_timeout);
  gw.duration("rtp_timeout", g.rtp_timeout);
  gw.integer("transcode_threads", g.transcode_threads, 0, 256);
  gw.string("srtp", g.srtp);
  gw.finish();
  if (g.app.empty() || g.app.find('/') != std::string::npos) gw.fail("gateway.app must be one path segment");
  if (g.rtp_timeout < std::chrono::seconds(1)) gw.fail("gateway.rtp_timeout must be at least 1s");
  if (g.srtp != "off" && g.srtp != "answer" && g.srtp != "offer" && g.srtp != "required")
    gw.fail("gateway.srtp must be \"off\", \"answer\", \"offer\" or \"required\"");
}

}  // namespace junction
