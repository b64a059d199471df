#include "core/byte_stream.hpp"

#include "core/config_section.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace junction {
namespace {
namespace asio = boost::asio;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

void shutdown_fd(asio::ip::tcp::socket& s) noexcept {
  if (s.is_open()) ::shutdown(s.native_handle(), SHUT_RDWR);
}

std::size_t bytes_in(asio::ip::tcp::socket& s) noexcept {
  boost::system::error_code ec;
  const auto n = s.available(ec);
  return ec ? 0 : n;
}

class plain_stream final : public byte_stream {
 public:
  explicit plain_stream(asio::ip::tcp::socket s) : socket_{std::move(s)} {}
  asio::awaitable<boost::system::error_code> handshake() override { co_return boost::system::error_code{}; }
  asio::awaitable<result> read_some(std::span<std::byte> into) override {
    co_return co_await socket_.async_read_some(asio::buffer(into.data(), into.size()), no_throw);
  }
  asio::awaitable<result> read_shared(std::span<std::byte> scratch) override {
    boost::system::error_code ec;
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    for (;;) {
      const std::size_t n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
      if (ec != asio::error::would_block && ec != asio::error::try_again) co_return result{ec, n};
      auto [waited] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, no_throw);
      if (waited) co_return result{waited, 0};
    }
  }
  asio::awaitable<result> write(std::span<const asio::const_buffer> buffers) override {
    co_return co_await asio::async_write(socket_, buffers, no_throw);
  }
  void shutdown() noexcept override { shutdown_fd(socket_); }
  // A plain read takes everything the socket holds, up to the buffer: the reader's "filled the
  // buffer" says all there is to say.
  bool more_waiting() noexcept override { return false; }
  asio::ip::tcp::socket& socket() noexcept override { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
};

class tls_stream final : public byte_stream {
 public:
  tls_stream(asio::ip::tcp::socket s, asio::ssl::context& tls, asio::ssl::stream_base::handshake_type role)
      : stream_{std::move(s), tls}, role_(role) {}
  asio::awaitable<boost::system::error_code> handshake() override {
    auto [ec] = co_await stream_.async_handshake(role_, no_throw);
    co_return ec;
  }
  // The name the client asks for (SNI), for a server that has certificates for several.
  void server_name(const std::string& name) { SSL_set_tlsext_host_name(stream_.native_handle(), name.c_str()); }
  asio::awaitable<result> read_some(std::span<std::byte> into) override {
    co_return co_await stream_.async_read_some(asio::buffer(into.data(), into.size()), no_throw);
  }
  asio::awaitable<result> read_shared(std::span<std::byte> scratch) override {
    // The TLS engine writes into the buffer after the await begins, when `scratch` may be
    // another stream's: a buffer of its own, then a copy. A small one (what a stanza usually
    // needs; a larger record is read in parts, OpenSSL keeping the rest): an idle stream holds it
    // while it waits, and OpenSSL's record buffers go meanwhile (SSL_MODE_RELEASE_BUFFERS).
    if (!own_) own_ = std::make_unique_for_overwrite<std::byte[]>(own_size);
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(own_.get(), std::min(own_size, scratch.size())), no_throw);
    std::copy_n(own_.get(), n, scratch.data());
    co_return result{ec, n};
  }
  asio::awaitable<result> write(std::span<const asio::const_buffer> buffers) override {
    co_return co_await asio::async_write(stream_, buffers, no_throw);
  }
  void shutdown() noexcept override { shutdown_fd(stream_.next_layer()); }
  // One record per read: read again while records wait, taken from the socket or still in it.
  bool more_waiting() noexcept override {
    SSL* ssl = stream_.native_handle();
    return SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0 || bytes_in(stream_.next_layer()) > 0;
  }
  asio::ip::tcp::socket& socket() noexcept override { return stream_.next_layer(); }
  std::string channel_binding(std::string_view type) override {
    SSL* ssl = stream_.native_handle();
    if (type == "tls-exporter") {
      if (SSL_version(ssl) != TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) return {};
      static constexpr char label[] = "EXPORTER-Channel-Binding";
      unsigned char out[32];
      if (SSL_export_keying_material(ssl, out, sizeof out, label, sizeof label - 1, nullptr, 0, 0) != 1) return {};
      return std::string(reinterpret_cast<const char*>(out), sizeof out);
    }
    if (type == "tls-server-end-point") {
      X509* cert = role_ == asio::ssl::stream_base::server ? SSL_get_certificate(ssl) : SSL_get0_peer_certificate(ssl);
      if (!cert) return {};
      // The certificate's signature hash, SHA-256 in place of MD5 or SHA-1 (RFC 5929 §4.1).
      int digest_nid = NID_undef;
      OBJ_find_sigid_algs(X509_get_signature_nid(cert), &digest_nid, nullptr);
      const EVP_MD* md = EVP_get_digestbynid(digest_nid);
      if (!md || digest_nid == NID_md5 || digest_nid == NID_sha1) md = EVP_sha256();
      unsigned char out[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      if (X509_digest(cert, md, out, &length) != 1) return {};
      return std::string(reinterpret_cast<const char*>(out), length);
    }
    if (type == "tls-unique") {
      unsigned char out[EVP_MAX_MD_SIZE];
      // The first Finished message: the client's, unless the session was resumed.
      const bool ours = SSL_session_reused(ssl) == (role_ == asio::ssl::stream_base::server);
      const std::size_t length = ours ? SSL_get_finished(ssl, out, sizeof out) : SSL_get_peer_finished(ssl, out, sizeof out);
      return std::string(reinterpret_cast<const char*>(out), std::min(length, sizeof out));
    }
    return {};
  }

 private:
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  asio::ssl::stream_base::handshake_type role_;
  static constexpr std::size_t own_size = 4096;
  std::unique_ptr<std::byte[]> own_;  // read_shared's
};

}  // namespace

std::unique_ptr<asio::ssl::context> make_tls_server_context(std::string_view section,
                                                            const std::string& certificate,
                                                            const std::string& private_key,
                                                            const tls_options& options) {
  namespace ssl = asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  // OpenSSL's record buffers (about 34 KiB a connection) go back while a connection is idle.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // TLS 1.0 and 1.1 need OpenSSL's security level 0 on Debian 12 (its default, 2, refuses them).
  if (tls_version_number(options.min_version) < TLS1_2_VERSION) SSL_CTX_set_security_level(native, 0);
  if (!SSL_CTX_set_min_proto_version(native, tls_version_number(options.min_version)) ||
      !SSL_CTX_set_max_proto_version(native, tls_version_number(options.max_version)))
    throw config_error(fmt::format("{}.tls_min_version/tls_max_version: not supported by this OpenSSL", section));
  if (!options.ciphers.empty() && !SSL_CTX_set_cipher_list(native, options.ciphers.c_str()))
    throw config_error(fmt::format("{}.tls_ciphers: OpenSSL knows no cipher in '{}'", section, options.ciphers));
  if (!options.ciphersuites.empty() && !SSL_CTX_set_ciphersuites(native, options.ciphersuites.c_str()))
    throw config_error(fmt::format("{}.tls_ciphersuites: OpenSSL knows no suite in '{}'", section, options.ciphersuites));
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(certificate, ec);
  if (ec)
    throw config_error(fmt::format("{}.tls_certificate: cannot load {}: {}", section, certificate,
                                   ec.message()));
  ctx->use_private_key_file(private_key, ssl::context::pem, ec);
  if (ec)
    throw config_error(fmt::format("{}.tls_private_key: cannot load {}: {}", section, private_key,
                                   ec.message()));
  return ctx;
}

std::unique_ptr<byte_stream> make_plain_stream(asio::ip::tcp::socket socket) {
  return std::make_unique<plain_stream>(std::move(socket));
}
std::unique_ptr<byte_stream> make_tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& tls) {
  return std::make_unique<tls_stream>(std::move(socket), tls, asio::ssl::stream_base::server);
}

std::unique_ptr<asio::ssl::context> make_tls_client_context() {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  ctx->set_verify_mode(asio::ssl::verify_none);
  return ctx;
}

std::unique_ptr<byte_stream> make_tls_client_stream(asio::ip::tcp::socket socket, asio::ssl::context& tls,
                                                    const std::string& server_name) {
  auto stream = std::make_unique<tls_stream>(std::move(socket), tls, asio::ssl::stream_base::client);
  if (!server_name.empty()) stream->server_name(server_name);
  return stream;
}

}  // namespace junction
