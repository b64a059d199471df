#include "media/h264/rtp_payload.hpp"

#include <algorithm>
#include <functional>

namespace junction::media::h264 {
namespace {

constexpr std::uint8_t type_stap_a = 24, type_fu_a = 28;

bytes as_u8(std::span<const std::byte> b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

// FLV video tag body for AVC: frame type and codec id, AVCPacketType, composition time (0:
// RTP carries none), then the payload.
shared_buffer flv_avc(bool keyframe, bool config, std::size_t payload_size,
                      const std::function<void(std::uint8_t*)>& fill) {
  return shared_buffer::build(5 + payload_size, [&](std::span<std::byte> out) {
    auto* p = reinterpret_cast<std::uint8_t*>(out.data());
    p[0] = static_cast<std::uint8_t>((keyframe ? 0x10 : 0x20) | 7);
    p[1] = config ? 0 : 1;
    p[2] = p[3] = p[4] = 0;
    fill(p + 5);
  });
}

}  // namespace

void rtp_packetizer::send(std::vector<std::uint8_t>&& payload, std::uint32_t timestamp, bool marker,
                          std::vector<std::vector<std::uint8_t>>& out) {
  rtp::header h;
  h.payload_type = s_.payload_type;
  h.ssrc = s_.ssrc;
  h.sequence = sequence_++;
  h.timestamp = timestamp;
  h.marker = marker;
  std::vector<std::uint8_t> packet;
  packet.reserve(12 + payload.size());
  rtp::write_packet(h, payload, packet);
  out.push_back(std::move(packet));
}

void rtp_packetizer::payloads(const frame& f, std::vector<rtp_payload>& out) {
  bytes body = as_u8(f.payload.bytes());
  if (f.codec != codec::h264 || body.size() < 5) return;
  bytes data = body.subspan(5);
  if (body[1] == 0) {  // sequence header
    if (auto s = parse_avc_config(data)) sets_ = std::move(*s);
    return;
  }
  if (body[1] != 1) return;  // end of sequence
  auto nals = split_avcc(data, sets_.length_size);
  if (!nals || nals->empty()) return;
  std::vector<bytes> units;
  const bool keyframe = std::any_of(nals->begin(), nals->end(), [](bytes n) { return nal_type(n) == nal_idr; });
  if (keyframe) {
    for (const auto& n : sets_.sps) units.emplace_back(n);
    for (const auto& n : sets_.pps) units.emplace_back(n);
  }
  for (bytes n : *nals)
    if (nal_type(n) != nal_sps && nal_type(n) != nal_pps && nal_type(n) != nal_aud) units.push_back(n);
  const std::size_t mtu = std::max<std::size_t>(s_.mtu, 64);
  for (std::size_t i = 0; i < units.size();) {
    bytes n = units[i];
    const bool last = i + 1 == units.size();
    if (s_.packetization_mode == 0 || n.size() <= mtu) {
      // STAP-A (mode 1): as many following small units as fit with their 2-byte sizes.
      std::size_t j = i + 1, size = 1 + 2 + n.size();
      if (s_.packetization_mode == 1)
        while (j < units.size() && size + 2 + units[j].size() <= mtu) size += 2 + units[j++].size();
      if (j - i >= 2) {
        std::vector<std::uint8_t> p;
        p.reserve(size);
        std::uint8_t nri = 0;
        for (std::size_t k = i; k < j; ++k) nri = std::max<std::uint8_t>(nri, units[k][0] & 0x60);
        p.push_back(static_cast<std::uint8_t>(nri | type_stap_a));
        for (std::size_t k = i; k < j; ++k) {
          p.push_back(static_cast<std::uint8_t>(units[k].size() >> 8));
          p.push_back(static_cast<std::uint8_t>(units[k].size()));
          p.insert(p.end(), units[k].begin(), units[k].end());
        }
        out.push_back({std::move(p), j == units.size()});
        i = j;
        continue;
      }
      out.push_back({std::vector<std::uint8_t>(n.begin(), n.end()), last});
      ++i;
      continue;
    }
    // FU-A: the NAL header becomes the FU indicator (type 28) and FU header (S, E, type).
    const std::uint8_t indicator = static_cast<std::uint8_t>((n[0] & 0xE0) | type_fu_a);
    const std::size_t chunk = mtu - 2;
    for (std::size_t at = 1; at < n.size(); at += chunk) {
      const std::size_t len = std::min(chunk, n.size() - at);
      const bool start = at == 1, end = at + len == n.size();
      std::vector<std::uint8_t> p;
      p.reserve(2 + len);
      p.push_back(indicator);
      p.push_back(static_cast<std::uint8_t>((start ? 0x80 : 0) | (end ? 0x40 : 0) | (n[0] & 0x1F)));
      p.insert(p.end(), n.begin() + static_cast<std::ptrdiff_t>(at), n.begin() + static_cast<std::ptrdiff_t>(at + len));
      out.push_back({std::move(p), last && end});
    }
    ++i;
  }
}

void rtp_packetizer::packetize(const frame& f, std::vector<std::vector<std::uint8_t>>& out) {
  std::vector<rtp_payload> parts;
  payloads(f, parts);
  const std::uint32_t ts = rtp::timestamp_mapper::to_rtp(f.timestamp, 90000, s_.first_timestamp);
  for (auto& p : parts) send(std::move(p.bytes), ts, p.marker, out);
}

void rtp_depacketizer::set_parameter_sets(parameter_sets sets) { sets_ = std::move(sets); }

void rtp_depacketizer::discard() {
  unit_.clear();
  unit_bytes_ = 0;
  fragment_.clear();
  in_fragment_ = false;
  have_unit_ = false;
}

void rtp_depacketizer::add_nal(bytes nal) {
  if (nal.empty()) return;
  switch (nal_type(nal)) {
    case nal_sps:
      if (sets_.sps.empty() || sets_.sps.front() != nal_unit(nal.begin(), nal.end())) sets_.sps = {nal_unit(nal.begin(), nal.end())};
      return;
    case nal_pps:
      if (sets_.pps.empty() || sets_.pps.front() != nal_unit(nal.begin(), nal.end())) sets_.pps = {nal_unit(nal.begin(), nal.end())};
      return;
    case nal_aud:
      return;  // FLV frames carry no access unit delimiters
    default:
      break;
  }
  if (unit_bytes_ + nal.size() > max_access_unit_) {
    broken_ = true;
    return;
  }
  unit_bytes_ += nal.size();
  unit_.emplace_back(nal.begin(), nal.end());
}

void rtp_depacketizer::finish_access_unit(std::vector<frame>& out) {
  if (!have_unit_) return;
  const bool keyframe = std::any_of(unit_.begin(), unit_.end(), [](const nal_unit& n) { return nal_type(n) == nal_idr; });
  const std::uint32_t ms = clock_.to_milliseconds(unit_timestamp_);
  if (broken_ || unit_.empty() || (waiting_for_idr_ && !keyframe) || sets_.empty()) {
    if (broken_ || !unit_.empty()) ++counters_.dropped_access_units;
    if (broken_ && !keyframe) waiting_for_idr_ = true;
    broken_ = false;
    discard();
    return;
  }
  waiting_for_idr_ = false;
  if (!(sets_ == sent_sets_)) {
    auto record = make_avc_config(sets_);
    out.push_back(make_frame(track::video, ms, flv_avc(true, true, record.size(), [&](std::uint8_t* p) {
      std::copy(record.begin(), record.end(), p);
    })));
    sent_sets_ = sets_;
  }
  std::size_t size = 0;
  for (const auto& n : unit_) size += 4 + n.size();
  out.push_back(make_frame(track::video, ms, flv_avc(keyframe, false, size, [&](std::uint8_t* p) {
    for (const auto& n : unit_) {
      const auto len = static_cast<std::uint32_t>(n.size());
      *p++ = static_cast<std::uint8_t>(len >> 24);
      *p++ = static_cast<std::uint8_t>(len >> 16);
      *p++ = static_cast<std::uint8_t>(len >> 8);
      *p++ = static_cast<std::uint8_t>(len);
      p = std::copy(n.begin(), n.end(), p);
    }
  })));
  ++counters_.access_units;
  discard();
}

void rtp_depacketizer::push(const rtp::packet& p, std::vector<frame>& out) {
  ++counters_.packets;
  if (started_ && p.header.sequence != expected_sequence_) {
    // A gap: the access unit in progress (if it is the one the gap was in) cannot be decoded.
    if (!rtp::sequence_after(p.header.sequence, expected_sequence_)) return;  // late or duplicate
    if (have_unit_ && p.header.timestamp == unit_timestamp_) broken_ = true;
    else {
      finish_access_unit(out);
      waiting_for_idr_ = true;  // what was lost may have been a reference
    }
    fragment_.clear();
    in_fragment_ = false;
  }
  started_ = true;
  expected_sequence_ = static_cast<std::uint16_t>(p.header.sequence + 1);
  if (have_unit_ && p.header.timestamp != unit_timestamp_) finish_access_unit(out);  // marker lost
  if (!have_unit_) {
    have_unit_ = true;
    unit_timestamp_ = p.header.timestamp;
  }
  bytes payload = p.payload;
  if (payload.empty()) {
    ++counters_.malformed;
    return;
  }
  const std::uint8_t type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) {
    add_nal(payload);
  } else if (type == type_stap_a) {
    std::size_t at = 1;
    while (at + 2 <= payload.size()) {
      std::size_t n = std::size_t{payload[at]} << 8 | payload[at + 1];
      at += 2;
      if (n == 0 || at + n > payload.size()) {
        ++counters_.malformed;
        broken_ = true;
        break;
      }
      add_nal(payload.subspan(at, n));
      at += n;
    }
  } else if (type == type_fu_a) {
    if (payload.size() < 3) {
      ++counters_.malformed;
      broken_ = true;
    } else {
      const bool start = payload[1] & 0x80, end = payload[1] & 0x40;
      if (start) {
        fragment_.assign(1, static_cast<std::uint8_t>((payload[0] & 0xE0) | (payload[1] & 0x1F)));
        in_fragment_ = true;
      }
      if (!in_fragment_) {
        broken_ = true;  // a middle or end without its start: the start was lost
      } else if (fragment_.size() + payload.size() > max_access_unit_) {
        broken_ = true;
        in_fragment_ = false;
        fragment_.clear();
      } else {
        fragment_.insert(fragment_.end(), payload.begin() + 2, payload.end());
        if (end) {
          add_nal(fragment_);
          fragment_.clear();
          in_fragment_ = false;
        }
      }
    }
  } else {
    ++counters_.malformed;  // STAP-B, MTAP, FU-B: not in packetization modes 0 and 1
  }
  if (p.header.marker) finish_access_unit(out);
}

void rtp_depacketizer::flush(std::vector<frame>& out) { finish_access_unit(out); }

}  // namespace junction::media::h264
