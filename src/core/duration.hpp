#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace junction {

// "250ms", "10s", "5m", "1h" (a whole number and a unit) -> milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace junction
