#pragma once
// Who may publish and play, beyond addresses and hooks: the `token=` an application asks for (in
// the stream name's query or the tcUrl's), compared in constant time, and who may play
// recordings (video on demand).
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

namespace junction::http {
class request_context;
}

namespace junction::rtmp {

struct app_policy;

// True when `wanted` is empty or one of the two queries carries token=`wanted`. Constant time:
// how long a refusal takes says nothing of how much of a guess was right.
bool token_ok(const std::string& wanted, std::string_view stream_query, std::string_view tc_query);

// `given` is `wanted` (compared in constant time), or `wanted` is empty.
bool same_token(const std::string& wanted, std::string_view given);

// Why an HTTP client (HTTP-FLV, WHIP, WHEP: `protocol`) may not publish or play `name` in the
// application `app_name`, or nullptr: the application's address ranges, its token (the client
// presented `token`), its on_publish or on_play hook.
boost::asio::awaitable<const char*> http_refusal(const app_policy& app, bool publish, const http::request_context& ctx,
                                                 std::string_view token, std::string_view app_name,
                                                 std::string_view name, std::string_view protocol);

// Why a recording may not be played, or nullptr. `admin_token`: http.admin_token (recordings
// are the admin's); `authorized_by_app`: the application authorizes its plays itself (a play
// token, an on_play hook or allow_play), which it has done already.
const char* vod_refusal(const std::string& admin_token, bool authorized_by_app, bool loopback_client,
                        std::string_view stream_query, std::string_view tc_query);

}  // namespace junction::rtmp
