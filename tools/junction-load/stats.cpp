#include "junction-load/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

namespace junction::load {

void track_sequence::on_frame(std::uint32_t sequence) noexcept {
  ++frames;
  if (!started) {
    started = true;
    first = last = sequence;
    return;
  }
  if (sequence > last) {
    missing += sequence - last - 1;
    last = sequence;
  } else {
    ++out_of_order;
  }
}

std::uint64_t frames_short(const track_sequence& t, std::uint64_t published_at_play,
                           std::uint64_t published) noexcept {
  const std::uint64_t from = t.started ? t.first : published_at_play;
  const std::uint64_t expected = published > from ? published - from : 0;
  const std::uint64_t received = t.started ? t.received() : 0;
  return expected > received ? expected - received : 0;
}

std::size_t latency_histogram::bucket_of(std::uint64_t us) noexcept {
  if (us < exact) return static_cast<std::size_t>(us);
  const unsigned octave = static_cast<unsigned>(std::bit_width(us)) - 1;  // >= 6
  if (octave >= 6 + octaves) return buckets - 1;
  const std::size_t sub = static_cast<std::size_t>(us >> (octave - 5)) & (per_octave - 1);
  return exact + (octave - 6) * per_octave + sub;
}

std::uint64_t latency_histogram::bucket_low(std::size_t bucket) noexcept {
  if (bucket < exact) return bucket;
  const std::size_t octave = 6 + (bucket - exact) / per_octave;
  const std::size_t sub = (bucket - exact) % per_octave;
  return (std::uint64_t{1} << octave) + (std::uint64_t{sub} << (octave - 5));
}

void latency_histogram::record_ns(std::int64_t ns) noexcept {
  const std::uint64_t us = ns > 0 ? static_cast<std::uint64_t>(ns) / 1000 : 0;
  ++counts_[bucket_of(us)];
  ++count_;
  max_us_ = std::max(max_us_, us);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < buckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
}

double latency_histogram::percentile_ms(double p) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen < rank) continue;
    const double low = static_cast<double>(bucket_low(i));
    const double high = i + 1 < buckets ? static_cast<double>(bucket_low(i + 1)) : low;
    const double middle = i < exact ? low : (low + high) / 2;
    return std::min(middle, static_cast<double>(max_us_)) / 1000;
  }
  return max_ms();
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

spread spread_of(const std::vector<std::uint64_t>& values) {
  if (values.empty()) return {};
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  return {*lo, sum / static_cast<double>(values.size()), *hi};
}

}  // namespace junction::load
