#pragma once
// DTMF as RFC 4733 telephone-events: the payload format, a receiver that reports each key press
// once however many packets (updates, three end packets) carry it, and a sender that turns a key
// press into the packets a phone expects. Pure.
#include <cstdint>
#include <optional>
#include <vector>

#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

struct telephone_event {
  std::uint8_t event = 0;     // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash
  bool end = false;
  std::uint8_t volume = 10;   // -dBm0, 0..63
  std::uint16_t duration = 0; // in timestamp units since the event began
};

std::optional<telephone_event> parse_telephone_event(bytes payload) noexcept;
void write_telephone_event(const telephone_event& e, std::vector<std::uint8_t>& out);

// '0'..'9', '*', '#', 'A'..'D' and '!' (flash) <-> event codes.
std::optional<char> event_key(std::uint8_t event) noexcept;
std::optional<std::uint8_t> key_event(char key) noexcept;

class dtmf_receiver {
 public:
  struct press {
    char key;
    std::uint32_t timestamp;  // the event's RTP timestamp (when it began)
  };
  // A telephone-event packet; a key press the first time its event is seen.
  std::optional<press> on_packet(const packet& p) noexcept;

 private:
  bool have_last_ = false;
  std::uint32_t last_timestamp_ = 0;
  std::uint8_t last_event_ = 0;
};

// The packets for one key press at `timestamp`, lasting `duration_ms`: an update every
// `interval_ms` (the first with the marker bit), then the end packet three times (§2.5.1.4).
struct dtmf_packet {
  std::vector<std::uint8_t> payload;
  bool marker = false;
  std::uint32_t timestamp = 0;  // the same for every packet of the event
  std::uint32_t send_after_ms = 0;
};
std::vector<dtmf_packet> dtmf_packets(char key, std::uint32_t timestamp, std::uint32_t duration_ms,
                                      std::uint32_t clock_rate = 8000, std::uint32_t interval_ms = 50);

}  // namespace junction::media::rtp
