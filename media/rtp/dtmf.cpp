#include "media/rtp/dtmf.hpp"

#include <algorithm>

namespace junction::media::rtp {

std::optional<telephone_event> parse_telephone_event(bytes p) noexcept {
  if (p.size() < 4) return std::nullopt;
  telephone_event e;
  e.event = p[0];
  e.end = p[1] & 0x80;
  e.volume = p[1] & 0x3F;
  e.duration = static_cast<std::uint16_t>(p[2] << 8 | p[3]);
  return e;
}

void write_telephone_event(const telephone_event& e, std::vector<std::uint8_t>& out) {
  out.push_back(e.event);
  out.push_back(static_cast<std::uint8_t>((e.end ? 0x80 : 0) | (e.volume & 0x3F)));
  out.push_back(static_cast<std::uint8_t>(e.duration >> 8));
  out.push_back(static_cast<std::uint8_t>(e.duration));
}

std::optional<char> event_key(std::uint8_t event) noexcept {
  static constexpr char keys[] = "0123456789*#ABCD!";
  if (event > 16) return std::nullopt;
  return keys[event];
}

std::optional<std::uint8_t> key_event(char key) noexcept {
  if (key >= '0' && key <= '9') return static_cast<std::uint8_t>(key - '0');
  switch (key) {
    case '*': return 10;
    case '#': return 11;
    case 'A': case 'a': return 12;
    case 'B': case 'b': return 13;
    case 'C': case 'c': return 14;
    case 'D': case 'd': return 15;
    case '!': return 16;
    default: return std::nullopt;
  }
}

std::optional<dtmf_receiver::press> dtmf_receiver::on_packet(const packet& p) noexcept {
  auto e = parse_telephone_event(p.payload);
  if (!e) return std::nullopt;
  auto key = event_key(e->event);
  if (!key) return std::nullopt;
  // Every packet of one event carries the timestamp of its start (RFC 4733 §2.5.1.2).
  if (have_last_ && p.header.timestamp == last_timestamp_ && e->event == last_event_) return std::nullopt;
  have_last_ = true;
  last_timestamp_ = p.header.timestamp;
  last_event_ = e->event;
  return press{*key, p.header.timestamp};
}

std::vector<dtmf_packet> dtmf_packets(char key, std::uint32_t timestamp, std::uint32_t duration_ms,
                                      std::uint32_t clock_rate, std::uint32_t interval_ms) {
  std::vector<dtmf_packet> out;
  auto event = key_event(key);
  if (!event || interval_ms == 0) return out;
  auto units = [clock_rate](std::uint32_t ms) {
    return static_cast<std::uint16_t>(std::min<std::uint64_t>(std::uint64_t{ms} * clock_rate / 1000, 0xFFFF));
  };
  for (std::uint32_t t = interval_ms; t < duration_ms; t += interval_ms) {
    dtmf_packet p{{}, out.empty(), timestamp, t - interval_ms};
    write_telephone_event({*event, false, 10, units(t)}, p.payload);
    out.push_back(std::move(p));
  }
  for (int i = 0; i < 3; ++i) {
    dtmf_packet p{{}, out.empty(), timestamp, duration_ms};
    write_telephone_event({*event, true, 10, units(duration_ms)}, p.payload);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace junction::media::rtp
