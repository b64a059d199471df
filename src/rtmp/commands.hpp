#pragma once
// RTMP command messages (RTMP 1.0 section 7.2): decoding what clients send and building the
// replies FMS-era clients expect (_result, _error, onStatus).
#include "media/amf/value.hpp"
#include "rtmp/message.hpp"

#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace junction::media::amf {
struct decode_limits;
}

namespace junction::rtmp {

struct command {
  std::string name;
  double transaction_id = 0;
  media::amf::value object;             // the command object; null for most stream commands
  std::vector<media::amf::value> args;  // everything after it
  bool amf3 = false;             // arrived as an AMF3 command message (type 17)

  const media::amf::value* arg(std::size_t i) const noexcept { return i < args.size() ? &args[i] : nullptr; }
};

// Decodes a command message: type 20 (AMF0), or type 17, whose body is a format byte (0) then
// AMF0 values that may switch to AMF3. Also decodes data messages (types 18 and 15) the same way;
// their first value is the handler name and there is no transaction id.
std::error_code decode_command(const message& m, command& out, const media::amf::decode_limits& limits);
std::error_code decode_data(const message& m, std::vector<media::amf::value>& out,
                            const media::amf::decode_limits& limits);

// A command message ready to send: name, transaction id, command object, arguments. `amf3`
// writes a type 17 message (the reply type FMS uses for an AMF3 client's request).
message make_command(std::uint32_t stream_id, std::string_view name, double transaction_id,
                     const media::amf::value& object, std::span<const media::amf::value> args, bool amf3 = false);

// The info object of an onStatus / _result / _error: level, code, description, then `extra`.
media::amf::value status_info(std::string_view level, std::string_view code, std::string_view description,
                       std::vector<media::amf::member> extra = {});

message on_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                  std::string_view description, std::vector<media::amf::member> extra = {});

// A data message (onMetaData, |RtmpSampleAccess, ...): AMF0 values, type 18.
message make_data(std::uint32_t stream_id, std::span<const media::amf::value> values);

}  // namespace junction::rtmp
