#pragma once
// A connected byte stream, plain TCP or TLS, behind one small interface: protocol sessions
// (RTMP, later SIP over TCP/TLS) are written once, compile without the TLS headers, and the two
// transports live in byte_stream.cpp. A virtual call per read or write costs nothing next to the
// system call behind it.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>

#include "core/tls_options.hpp"

namespace boost::asio::ssl {
class context;
}

namespace junction {

class byte_stream {
 public:
  using result = std::tuple<boost::system::error_code, std::size_t>;
  virtual ~byte_stream() = default;
  // TLS: the server handshake; plain: nothing.
  virtual boost::asio::awaitable<boost::system::error_code> handshake() = 0;
  virtual boost::asio::awaitable<result> read_some(std::span<std::byte> into) = 0;
  // Reads what has arrived into `scratch`, a buffer its thread shares among many streams: the
  // bytes must be used before the caller awaits anything else. A plain stream waits for the
  // socket to be readable holding no buffer at all, then reads what is there (an idle
  // connection then costs no read buffer); TLS reads into a buffer of its own and copies.
  virtual boost::asio::awaitable<result> read_shared(std::span<std::byte> scratch) = 0;
  // Writes every byte of every buffer (one gathered write where the transport allows).
  virtual boost::asio::awaitable<result> write(std::span<const boost::asio::const_buffer> buffers) = 0;
  // Shuts the socket down: whatever the session awaits completes with an error.
  virtual void shutdown() noexcept = 0;
  // Whether a read now would find more at once that the last read could not have taken: TLS gives
  // one record per read however much has arrived, so records waiting (taken from the socket or
  // still in it) say so; a plain read takes what the socket holds up to the buffer (false). A
  // reader that waits between reads (merged writes) reads again at once instead.
  virtual bool more_waiting() noexcept = 0;
  virtual boost::asio::ip::tcp::socket& socket() noexcept = 0;
  // Channel binding data of a TLS stream after its handshake, for SASL's -PLUS mechanisms:
  // "tls-exporter" (RFC 9266: 32 bytes exported as "EXPORTER-Channel-Binding"; TLS 1.3, or 1.2
  // with the extended master secret), "tls-server-end-point" (RFC 5929 §4: the hash of this
  // server's certificate) or "tls-unique" (RFC 5929 §3: the first Finished message, as clients
  // that predate RFC 9266 compute it). Empty for a plain stream or a type that does not apply.
  virtual std::string channel_binding(std::string_view type) { return {}; }
};

// A TLS server context with a PEM certificate chain and private key, the versions and ciphers of
// `options` (TLS 1.2 and 1.3 by default). Throws config_error naming `section`'s keys when
// something cannot be loaded or is not understood.
std::unique_ptr<boost::asio::ssl::context> make_tls_server_context(std::string_view section,
                                                                   const std::string& certificate,
                                                                   const std::string& private_key,
                                                                   const tls_options& options = {});

std::unique_ptr<byte_stream> make_plain_stream(boost::asio::ip::tcp::socket socket);
std::unique_ptr<byte_stream> make_tls_stream(boost::asio::ip::tcp::socket socket,
                                             boost::asio::ssl::context& tls);

// The client side, for connections Junction makes (XMPP federation): TLS 1.2 or later, and no
// check of the server's certificate (the protocol above authenticates the peer its own way, as
// XMPP's dialback does). `server_name` is sent as SNI.
std::unique_ptr<boost::asio::ssl::context> make_tls_client_context();
std::unique_ptr<byte_stream> make_tls_client_stream(boost::asio::ip::tcp::socket socket,
                                                    boost::asio::ssl::context& tls, const std::string& server_name);

}  // namespace junction
