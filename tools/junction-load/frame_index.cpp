#include "junction-load/frame_index.hpp"

#include <algorithm>

namespace junction::load {

namespace {
// How far back a search goes from `after`: a repeated or reordered frame is a recent one.
constexpr std::uint64_t backward_reach = 256;
}  // namespace

frame_index::frame_index(std::size_t capacity) : capacity_{std::max<std::size_t>(capacity, 16)} {
  audio_.slots = std::make_unique<slot[]>(capacity_);
  video_.slots = std::make_unique<slot[]>(capacity_);
}

void frame_index::record(media::track t, std::uint32_t index, std::uint32_t timestamp,
                         std::int64_t sent_ns) noexcept {
  auto& r = t == media::track::audio ? audio_ : video_;
  auto& s = r.slots[index % capacity_];
  s.sent_ns.store(sent_ns, std::memory_order_relaxed);
  s.index_and_timestamp.store(std::uint64_t{index} << 32 | timestamp, std::memory_order_release);
  r.recorded.store(std::uint64_t{index} + 1, std::memory_order_release);
}

std::optional<frame_index::entry> frame_index::match(const ring& r, std::uint64_t index,
                                                     std::uint32_t timestamp) const noexcept {
  const auto& s = r.slots[index % capacity_];
  const auto packed = s.index_and_timestamp.load(std::memory_order_acquire);
  if (packed != (std::uint64_t{static_cast<std::uint32_t>(index)} << 32 | timestamp)) return std::nullopt;
  return entry{static_cast<std::uint32_t>(index), s.sent_ns.load(std::memory_order_relaxed)};
}

std::optional<frame_index::entry> frame_index::find(media::track t, std::uint32_t timestamp,
                                                    std::optional<std::uint32_t> after) const noexcept {
  const ring& r = ring_of(t);
  const std::uint64_t recorded = r.recorded.load(std::memory_order_acquire);
  if (recorded == 0) return std::nullopt;
  const std::uint64_t oldest = recorded > capacity_ ? recorded - capacity_ : 0;
  if (!after) {
    for (std::uint64_t i = recorded; i-- > oldest;)
      if (auto e = match(r, i, timestamp)) return e;
    return std::nullopt;
  }
  for (std::uint64_t i = std::max<std::uint64_t>(std::uint64_t{*after} + 1, oldest); i < recorded; ++i)
    if (auto e = match(r, i, timestamp)) return e;
  const std::uint64_t from = std::min<std::uint64_t>(*after, recorded - 1);
  const std::uint64_t stop = std::max(oldest, from > backward_reach ? from - backward_reach : 0);
  for (std::uint64_t i = from + 1; i-- > stop;)
    if (auto e = match(r, i, timestamp)) return e;
  return std::nullopt;
}

}  // namespace junction::load
