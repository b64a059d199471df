#include "rtmp/commands.hpp"

#include "media/amf/amf0.hpp"
#include "media/amf/error.hpp"

namespace junction::rtmp {

namespace {

// Type 17 and 15 bodies start with a format selector byte; 0 means AMF0 values follow (with
// AVM+ switches for AMF3 values). Some clients omit it for data messages; Red5 tolerates that.
std::span<const std::byte> amf0_body(const message& m) {
  auto body = m.payload.bytes();
  if ((m.kind() == message_type::command_amf3 || m.kind() == message_type::data_amf3) &&
      !body.empty() && body[0] == std::byte{0})
    body = body.subspan(1);
  return body;
}

}  // namespace

std::error_code decode_command(const message& m, command& out, const media::amf::decode_limits& limits) {
  std::vector<media::amf::value> values;
  if (auto ec = media::amf::decode_amf0(amf0_body(m), values, limits)) return ec;
  if (values.size() < 2 || !values[0].is(media::amf::type::string)) return make_error_code(media::amf::amf_errc::unsupported_type);
  out.name = std::move(values[0].text);
  out.transaction_id = values[1].number_or(0);
  out.object = values.size() > 2 ? std::move(values[2]) : media::amf::value::make_null();
  out.args.clear();
  for (std::size_t i = 3; i < values.size(); ++i) out.args.push_back(std::move(values[i]));
  out.amf3 = m.kind() == message_type::command_amf3;
  return {};
}

std::error_code decode_data(const message& m, std::vector<media::amf::value>& out,
                            const media::amf::decode_limits& limits) {
  out.clear();
  return media::amf::decode_amf0(amf0_body(m), out, limits);
}

message make_command(std::uint32_t stream_id, std::string_view name, double transaction_id,
                     const media::amf::value& object, std::span<const media::amf::value> args, bool amf3) {
  std::vector<std::byte> body;
  if (amf3) body.push_back(std::byte{0});
  media::amf::encode_amf0(media::amf::value::make_string(std::string{name}), body);
  media::amf::encode_amf0(media::amf::value::make_number(transaction_id), body);
  media::amf::encode_amf0(object, body);
  for (const auto& a : args) media::amf::encode_amf0(a, body);
  message m;
  m.chunk_stream_id = csid::command;
  m.type = static_cast<std::uint8_t>(amf3 ? message_type::command_amf3 : message_type::command_amf0);
  m.stream_id = stream_id;
  m.payload = shared_buffer::copy_of(body);
  return m;
}

media::amf::value status_info(std::string_view level, std::string_view code, std::string_view description,
                       std::vector<media::amf::member> extra) {
  std::vector<media::amf::member> members{
      {"level", media::amf::value::make_string(std::string{level})},
      {"code", media::amf::value::make_string(std::string{code})},
      {"description", media::amf::value::make_string(std::string{description})},
  };
  for (auto& e : extra) members.push_back(std::move(e));
  return media::amf::value::make_object(std::move(members));
}

message on_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                  std::string_view description, std::vector<media::amf::member> extra) {
  const media::amf::value info = status_info(level, code, description, std::move(extra));
  // onStatus goes on the stream's own message stream; transaction id 0, null command object.
  auto m = make_command(stream_id, "onStatus", 0, media::amf::value::make_null(), std::span{&info, 1});
  m.chunk_stream_id = stream_id ? csid::data : csid::command;
  return m;
}

message make_data(std::uint32_t stream_id, std::span<const media::amf::value> values) {
  std::vector<std::byte> body;
  for (const auto& v : values) media::amf::encode_amf0(v, body);
  message m;
  m.chunk_stream_id = csid::data;
  m.type = static_cast<std::uint8_t>(message_type::data_amf0);
  m.stream_id = stream_id;
  m.payload = shared_buffer::copy_of(body);
  return m;
}

}  // namespace junction::rtmp
