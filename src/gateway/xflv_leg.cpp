#include "gateway/xflv_leg.hpp"

namespace junction::gateway {

void xflv_leg::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (!running()) return;
  auto payloads = packetizer_.packetize(frame);  // none for a message over 64 KiB (counted)
  const std::uint32_t ts = timestamp_base_ + frame.timestamp * 90;
  for (std::size_t i = 0; i < payloads.size(); ++i) send_rtp(payload_type_, payloads[i], ts, i + 1 == payloads.size());
}

void xflv_leg::on_packet(const media::rtp::packet& p) {
  if (p.header.payload_type != payload_type_) return;
  if (auto frame = depacketizer_.push(p.payload); frame && ctx_.to_client) ctx_.to_client(std::move(*frame));
}

}  // namespace junction::gateway
