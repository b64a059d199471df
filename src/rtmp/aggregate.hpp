#pragma once
// Aggregate messages (RTMP 1.0 section 7.1.6): FMS packs several audio/video/data messages into
// one, as FLV-style tags whose timestamps are rebased onto the aggregate's.
#include "rtmp/message.hpp"

#include <vector>

namespace junction::rtmp {

// The audio, video and data messages inside `m`, in order; other tag types and a truncated tail
// are dropped.
std::vector<message> split_aggregate(const message& m);

}  // namespace junction::rtmp
