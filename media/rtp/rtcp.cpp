#include "media/rtp/rtcp.hpp"

#include <algorithm>

#include "media/rtp/big_endian.hpp"
#include "media/rtp/rtcp_writer.hpp"

namespace junction::media::rtp {
namespace {

report_block read_block(const std::uint8_t* p) {
  report_block b;
  b.ssrc = read32(p);
  b.fraction_lost = p[4];
  std::int32_t lost = static_cast<std::int32_t>(std::uint32_t{p[5]} << 16 | std::uint32_t{p[6]} << 8 | p[7]);
  if (lost & 0x800000) lost -= 0x1000000;  // 24-bit two's complement
  b.cumulative_lost = lost;
  b.highest_sequence = read32(p + 8);
  b.jitter = read32(p + 12);
  b.last_sr = read32(p + 16);
  b.delay_since_last_sr = read32(p + 20);
  return b;
}

void put_block(std::vector<std::uint8_t>& out, const report_block& b) {
  put32(out, b.ssrc);
  out.push_back(b.fraction_lost);
  std::int32_t lost = std::clamp(b.cumulative_lost, -0x800000, 0x7FFFFF);
  auto wire = static_cast<std::uint32_t>(lost) & 0xFFFFFF;
  out.push_back(static_cast<std::uint8_t>(wire >> 16));
  out.push_back(static_cast<std::uint8_t>(wire >> 8));
  out.push_back(static_cast<std::uint8_t>(wire));
  put32(out, b.highest_sequence);
  put32(out, b.jitter);
  put32(out, b.last_sr);
  put32(out, b.delay_since_last_sr);
}

}  // namespace

rtcp_result parse_rtcp(bytes d, std::size_t max_packets) {
  rtcp_result r;
  if (d.size() < 4) {
    r.error = rtcp_errc::too_short;
    return r;
  }
  std::size_t at = 0;
  while (at < d.size()) {
    if (r.packets.size() >= max_packets) {
      r.error = rtcp_errc::too_many_packets;
      return r;
    }
    if (d.size() - at < 4) {
      r.error = rtcp_errc::trailing_bytes;
      return r;
    }
    const std::uint8_t* p = &d[at];
    if ((p[0] >> 6) != 2) {
      r.error = rtcp_errc::bad_version;
      return r;
    }
    const bool padded = p[0] & 0x20;
    const std::uint8_t count = p[0] & 0x1F;
    const std::uint8_t type = p[1];
    const std::size_t length = (std::size_t{read16(p + 2)} + 1) * 4;
    if (length > d.size() - at) {
      r.error = rtcp_errc::bad_length;
      return r;
    }
    std::size_t body_end = length;
    if (padded) {
      // Only the last packet of a compound may be padded (RFC 3550 A.2).
      if (at + length != d.size() || p[length - 1] == 0 || p[length - 1] > length - 4) {
        r.error = rtcp_errc::bad_padding;
        return r;
      }
      body_end -= p[length - 1];
    }
    switch (type) {
      case rtcp_type_sr: {
        if (body_end < 28 + 24u * count) {
          r.error = rtcp_errc::short_sender_report;
          return r;
        }
        sender_report sr;
        sr.ssrc = read32(p + 4);
        sr.ntp_time = std::uint64_t{read32(p + 8)} << 32 | read32(p + 12);
        sr.rtp_timestamp = read32(p + 16);
        sr.packet_count = read32(p + 20);
        sr.octet_count = read32(p + 24);
        for (std::size_t i = 0; i < count; ++i) sr.reports.push_back(read_block(p + 28 + 24 * i));
        r.packets.emplace_back(std::move(sr));
        break;
      }
      case rtcp_type_rr: {
        if (body_end < 8 + 24u * count) {
          r.error = rtcp_errc::short_receiver_report;
          return r;
        }
        receiver_report rr;
        rr.ssrc = read32(p + 4);
        for (std::size_t i = 0; i < count; ++i) rr.reports.push_back(read_block(p + 8 + 24 * i));
        r.packets.emplace_back(std::move(rr));
        break;
      }
      case rtcp_type_sdes: {
        // Chunks: SSRC, then items (type, length, text) up to a zero type, padded to 32 bits.
        std::size_t q = 4;
        for (std::size_t chunk = 0; chunk < count; ++chunk) {
          if (q + 4 > body_end) {
            r.error = rtcp_errc::bad_sdes;
            return r;
          }
          source_description sd;
          sd.ssrc = read32(p + q);
          q += 4;
          for (;;) {
            if (q >= body_end) {
              r.error = rtcp_errc::bad_sdes;
              return r;
            }
            std::uint8_t item = p[q];
            if (item == 0) {
              q = (q + 4) & ~std::size_t{3};  // the terminating null, then padding to a word
              break;
            }
            if (q + 2 > body_end || q + 2 + p[q + 1] > body_end) {
              r.error = rtcp_errc::bad_sdes;
              return r;
            }
            if (item == 1) sd.cname.assign(reinterpret_cast<const char*>(p + q + 2), p[q + 1]);
            q += 2 + p[q + 1];
          }
          r.packets.emplace_back(std::move(sd));
        }
        break;
      }
      case rtcp_type_bye: {
        if (body_end < 4 + 4u * count) {
          r.error = rtcp_errc::bad_bye;
          return r;
        }
        goodbye bye;
        for (std::size_t i = 0; i < count; ++i) bye.ssrcs.push_back(read32(p + 4 + 4 * i));
        std::size_t q = 4 + 4u * count;
        if (q < body_end) {
          std::size_t n = p[q];
          if (q + 1 + n > body_end) {
            r.error = rtcp_errc::bad_bye;
            return r;
          }
          bye.reason.assign(reinterpret_cast<const char*>(p + q + 1), n);
        }
        r.packets.emplace_back(std::move(bye));
        break;
      }
      case rtcp_type_rtpfb:
      case rtcp_type_psfb: {
        if (body_end < 12) {
          r.error = rtcp_errc::short_feedback;
          return r;
        }
        feedback fb;
        fb.packet_type = type;
        fb.format = count;
        fb.sender_ssrc = read32(p + 4);
        fb.media_ssrc = read32(p + 8);
        if (type == rtcp_type_rtpfb && count == 1) {
          fb.what = feedback::kind::nack;
          // Each FCI: a packet id and a bitmask of the 16 that follow (RFC 4585 §6.2.1).
          for (std::size_t q = 12; q + 4 <= body_end && fb.lost.size() < 1024; q += 4) {
            std::uint16_t pid = read16(p + q), mask = read16(p + q + 2);
            fb.lost.push_back(pid);
            for (int bit = 0; bit < 16; ++bit)
              if (mask & (1u << bit)) fb.lost.push_back(static_cast<std::uint16_t>(pid + bit + 1));
          }
        } else if (type == rtcp_type_psfb && count == 1) {
          fb.what = feedback::kind::pli;
        } else if (type == rtcp_type_psfb && count == 15) {
          if (auto r = read_remb(fb.sender_ssrc, bytes(p + 12, body_end - 12))) {
            fb.what = feedback::kind::remb;
            fb.estimate = std::move(*r);
          }
        } else if (type == rtcp_type_rtpfb && count == 15) {
          if (auto t = read_transport_feedback(fb.sender_ssrc, fb.media_ssrc, bytes(p + 12, body_end - 12))) {
            fb.what = feedback::kind::transport_cc;
            fb.transport = std::move(*t);
          }
        } else if (type == rtcp_type_psfb && count == 4) {
          fb.what = feedback::kind::fir;
          // FCI entries name the SSRC the request is for (RFC 5104 §4.3.1.1).
          if (body_end >= 20) fb.media_ssrc = read32(p + 12);
        }
        r.packets.emplace_back(std::move(fb));
        break;
      }
      default:
        break;  // APP, XR and types this gateway does not act on
    }
    at += length;
  }
  return r;
}

void write_sender_report(const sender_report& sr, std::vector<std::uint8_t>& out) {
  std::size_t at =
      begin_rtcp_packet(out, static_cast<std::uint8_t>(std::min<std::size_t>(sr.reports.size(), 31)), rtcp_type_sr);
  put32(out, sr.ssrc);
  put32(out, static_cast<std::uint32_t>(sr.ntp_time >> 32));
  put32(out, static_cast<std::uint32_t>(sr.ntp_time));
  put32(out, sr.rtp_timestamp);
  put32(out, sr.packet_count);
  put32(out, sr.octet_count);
  for (std::size_t i = 0; i < sr.reports.size() && i < 31; ++i) put_block(out, sr.reports[i]);
  finish_rtcp_packet(out, at);
}

void write_receiver_report(const receiver_report& rr, std::vector<std::uint8_t>& out) {
  std::size_t at =
      begin_rtcp_packet(out, static_cast<std::uint8_t>(std::min<std::size_t>(rr.reports.size(), 31)), rtcp_type_rr);
  put32(out, rr.ssrc);
  for (std::size_t i = 0; i < rr.reports.size() && i < 31; ++i) put_block(out, rr.reports[i]);
  finish_rtcp_packet(out, at);
}

void write_sdes(const source_description& sdes, std::vector<std::uint8_t>& out) {
  std::size_t at = begin_rtcp_packet(out, 1, rtcp_type_sdes);
  put32(out, sdes.ssrc);
  std::size_t n = std::min<std::size_t>(sdes.cname.size(), 255);
  out.push_back(1);
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), sdes.cname.begin(), sdes.cname.begin() + static_cast<std::ptrdiff_t>(n));
  out.push_back(0);  // end of items; finish pads to the word
  finish_rtcp_packet(out, at);
}

void write_bye(const goodbye& bye, std::vector<std::uint8_t>& out) {
  std::size_t at =
      begin_rtcp_packet(out, static_cast<std::uint8_t>(std::min<std::size_t>(bye.ssrcs.size(), 31)), rtcp_type_bye);
  for (std::size_t i = 0; i < bye.ssrcs.size() && i < 31; ++i) put32(out, bye.ssrcs[i]);
  if (!bye.reason.empty()) {
    std::size_t n = std::min<std::size_t>(bye.reason.size(), 255);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), bye.reason.begin(), bye.reason.begin() + static_cast<std::ptrdiff_t>(n));
  }
  finish_rtcp_packet(out, at);
}

void write_pli(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, std::vector<std::uint8_t>& out) {
  std::size_t at = begin_rtcp_packet(out, 1, rtcp_type_psfb);
  put32(out, sender_ssrc);
  put32(out, media_ssrc);
  finish_rtcp_packet(out, at);
}

void write_fir(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, std::uint8_t sequence,
               std::vector<std::uint8_t>& out) {
  std::size_t at = begin_rtcp_packet(out, 4, rtcp_type_psfb);
  put32(out, sender_ssrc);
  put32(out, 0);  // RFC 5104 §4.3.1.2: the media source field is unused
  put32(out, media_ssrc);
  out.push_back(sequence);
  out.insert(out.end(), 3, 0);
  finish_rtcp_packet(out, at);
}

void write_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, const std::vector<std::uint16_t>& lost,
                std::vector<std::uint8_t>& out) {
  std::size_t at = begin_rtcp_packet(out, 1, rtcp_type_rtpfb);
  put32(out, sender_ssrc);
  put32(out, media_ssrc);
  for (std::size_t i = 0; i < lost.size();) {
    std::uint16_t pid = lost[i++];
    std::uint16_t mask = 0;
    while (i < lost.size()) {
      auto d = static_cast<std::uint16_t>(lost[i] - pid);
      if (d == 0 || d > 16) break;
      mask = static_cast<std::uint16_t>(mask | (1u << (d - 1)));
      ++i;
    }
    put16(out, pid);
    put16(out, mask);
  }
  finish_rtcp_packet(out, at);
}

}  // namespace junction::media::rtp
