#pragma once
// Who may publish and play, beyond addresses and hooks: the `token=` an application asks for (in
// the stream name's query or the tcUrl's), compared in constant time, and who may play
// recordings (video on demand).
#include <string>
#include <string_view>

namespace junction::rtmp {

// True when `wanted` is empty or one of the two queries carries token=`wanted`. Constant time:
// how long a refusal takes says nothing of how much of a guess was right.
bool token_ok(const std::string& wanted, std::string_view stream_query, std::string_view tc_query);

// Why a recording may not be played, or nullptr. `admin_token`: http.admin_token (recordings
// are the admin's); `authorized_by_app`: the application authorizes its plays itself (a play
// token, an on_play hook or allow_play), which it has done already.
const char* vod_refusal(const std::string& admin_token, bool authorized_by_app, bool loopback_client,
                        std::string_view stream_query, std::string_view tc_query);

}  // namespace junction::rtmp
