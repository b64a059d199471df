#pragma once
// Which simulcast layer a WHEP player is sent, from what its browser says it can take (REMB:
// the receiver's estimate of the path) against what it is being sent. Layers are ordered best
// first. Once a second:
//   - down one layer when the estimate stayed under 85 % of what was sent for two seconds in a
//     row (the path is full: frames would queue and freeze);
//   - up one layer when the estimate stayed over 130 % of that layer's own rate for five
//     seconds in a row (room for it with a margin; slower than going down, so a player does not
//     swing between two);
//   - nothing without an estimate (a browser that sends no REMB keeps the best layer).
// Pure: rates in, a layer index out.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace junction::whip {

class layer_chooser {
 public:
  // `rates`: each layer's bits per second as the hub last measured it, best first.
  explicit layer_chooser(std::vector<std::uint64_t> rates) : rates_(std::move(rates)) {}

  std::size_t current() const noexcept { return current_; }
  std::size_t layers() const noexcept { return rates_.size(); }

  // One second: the browser's latest estimate (nothing when none came) and the bits sent to it
  // in that second. The layer to send from now on.
  std::size_t second(std::optional<std::uint64_t> estimate, std::uint64_t sent_bits) {
    if (!estimate || rates_.size() < 2) {
      tight_ = roomy_ = 0;
      return current_;
    }
    if (sent_bits > 0) rates_[current_] = sent_bits;  // what the layer really costs now
    tight_ = *estimate * 100 < sent_bits * 85 ? tight_ + 1 : 0;
    roomy_ = current_ > 0 && *estimate * 100 > rates_[current_ - 1] * 130 ? roomy_ + 1 : 0;
    if (tight_ >= 2 && current_ + 1 < rates_.size()) {
      ++current_;
      tight_ = roomy_ = 0;
    } else if (roomy_ >= 5) {
      --current_;
      tight_ = roomy_ = 0;
    }
    return current_;
  }

 private:
  std::vector<std::uint64_t> rates_;
  std::size_t current_ = 0;
  unsigned tight_ = 0, roomy_ = 0;
};

}  // namespace junction::whip
