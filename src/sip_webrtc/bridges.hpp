#pragma once
// The WebRTC <-> SIP bridges of one shard (sip::media_bridges): a browser calling a phone through
// the SIP proxy, or a phone a browser. The browser's WebRTC offer becomes a plain offer for the
// phone (bridge_sdp.hpp) pointing at a bridged call's RTP endpoint, and the phone's answer the
// browser's answer (ICE-lite on the shard's WebRTC port, Junction's DTLS fingerprint, the codec
// the two share or Opus); a phone's plain offer becomes a WebRTC offer for the browser (the
// browser's peer waits on the port for its answer's fingerprint), and the browser's answer the
// phone's. The call's media flows through the bridged_call until the BYE, a failed INVITE, the
// browser's transport ending, or nothing coming from either side for the SIP media timeout. A
// call whose media stopped keeps its dialog; its BYE still goes through the proxy. Re-INVITEs
// (hold, resume) from either side are carried to the other (an ICE restart is not).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

#include "sip/media_bridge.hpp"
#include "sip_webrtc/bridged_call.hpp"

namespace junction {
class worker_pool;
}
namespace junction::webrtc {
class shard_ports;
}

namespace junction::sip_webrtc {

class shard_bridges final : public sip::media_bridges {
 public:
  // `phone_address`: where phones are sent to (the SIP anchor address).
  shard_bridges(junction::shard& home, webrtc::shard_ports& ports, worker_pool& pool, const bridge_metrics& metrics,
                std::string phone_address, std::chrono::milliseconds idle_timeout);
  ~shard_bridges() override;

  std::optional<std::string> bridge_offer(const std::string& call_id, std::string_view caller_tag,
                                          std::string_view offer, bool callee_webrtc) override;
  std::optional<std::string> bridge_answer(const std::string& call_id, std::string_view answer, int status) override;
  std::optional<std::string> bridge_reoffer(const std::string& call_id, std::string_view from_tag,
                                            std::string_view offer) override;
  std::optional<std::string> bridge_reanswer(const std::string& call_id, std::string_view offerer_tag,
                                             std::string_view answer) override;
  bool bridges(const std::string& call_id) const override { return calls_.count(call_id) != 0; }
  void end(const std::string& call_id) override;
  std::size_t size() const noexcept { return calls_.size(); }

 private:
  struct call {
    bool browser_calls = true;  // else the phone calls the browser
    std::string caller_tag;     // the caller's From tag: which side a re-INVITE comes from
    std::size_t plain_section = 0;   // the audio section of the phone's SDP (the phone calls)
    media::sdp::session_description phone_sdp;  // the phone's offer (the phone calls)
    webrtc::offer browser;      // the browser's offer (the browser calls)
    std::size_t section = 0;    // its audio section
    std::shared_ptr<bridged_call> media;
    webrtc::ice_credentials local;
    std::string to_browser;     // the last description Junction gave the browser
    std::string to_phone;       // and the phone
    bool answered = false;      // a 18x's answer and the 2xx's are one
    std::uint64_t version = 1;
    std::optional<media::sdp::direction> pending;  // a re-INVITE from the browser in flight
    std::optional<media::sdp::session_description> phone_pending;  // one from the phone
    std::uint64_t phone_session = 0;  // the session id of Junction's descriptions to the phone
  };
  std::shared_ptr<bridged_call> open_media(const std::string& call_id);
  std::optional<std::string> offer_to_browser(const std::string& call_id, std::string_view caller_tag,
                                              std::string_view offer);
  std::optional<std::string> answer_from_browser(std::unordered_map<std::string, call>::iterator it,
                                                 std::string_view answer);
  void expire();
  void erase(std::unordered_map<std::string, call>::iterator it, const std::string& why);

  junction::shard& home_;
  webrtc::shard_ports& ports_;
  worker_pool& pool_;
  const bridge_metrics& metrics_;
  std::string phone_address_;
  std::chrono::milliseconds idle_timeout_;
  std::unordered_map<std::string, call> calls_;
  boost::asio::steady_timer sweep_;
};

// The factory the SIP server takes (sip::server::set_media_bridges).
sip::media_bridge_factory make_bridge_factory(webrtc::shard_ports& ports, worker_pool& pool,
                                              const bridge_metrics& metrics, std::string phone_address,
                                              std::chrono::milliseconds idle_timeout);

}  // namespace junction::sip_webrtc
