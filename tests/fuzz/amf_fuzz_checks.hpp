#pragma once
// What the AMF fuzz targets share: a check that aborts with a reason (libFuzzer keeps the input),
// and NaN detection (a NaN makes value equality meaningless).
#include "media/amf/value.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace junction::media::amf::fuzz {

inline void require(bool ok, const char* target, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "%s fuzz: %s\n", target, what);
  std::abort();
}

inline bool has_nan(const value& v) {
  if (std::isnan(v.number)) return true;
  for (const auto& m : v.members)
    if (has_nan(m.value)) return true;
  for (const auto& item : v.items)
    if (has_nan(item)) return true;
  return false;
}

}  // namespace junction::media::amf::fuzz
