#include "core/byte_stream.hpp"

#include "core/config_section.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

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

// TLS with OpenSSL reading and writing the socket itself (a socket BIO on the non-blocking
// descriptor), driven by waits for readiness: no buffer between the socket and OpenSSL, whose
// own record buffers go back while the connection is idle (SSL_MODE_RELEASE_BUFFERS). An idle
// TLS connection costs the SSL object alone, where Asio's ssl::stream kept about 70 KiB of
// buffers (docs/benchmarks.md, issue 19). Reads and writes may wait at the same time (one
// coroutine each); every OpenSSL call itself runs to its end on the shard's thread.
class tls_stream final : public byte_stream {
 public:
  tls_stream(asio::ip::tcp::socket s, asio::ssl::context& tls, bool server)
      : socket_{std::move(s)}, ssl_{SSL_new(tls.native_handle())}, server_{server} {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (!ssl_) return;
    SSL_set_fd(ssl_.get(), static_cast<int>(socket_.native_handle()));
    SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (server) SSL_set_accept_state(ssl_.get());
    else SSL_set_connect_state(ssl_.get());
  }
  asio::awaitable<boost::system::error_code> handshake() override {
    auto [ec, n] = co_await run(step::handshake, nullptr, 0);
    co_return ec;
  }
  // The name the client asks for (SNI), for a server that has certificates for several.
  void server_name(const std::string& name) {
    if (ssl_) SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
  }
  asio::awaitable<result> read_some(std::span<std::byte> into) override {
    co_return co_await run(step::read, into.data(), into.size());
  }
  // OpenSSL writes into `scratch` only inside SSL_read, after the wait: nothing is held while the
  // stream waits, and the bytes are the caller's before it awaits anything else.
  asio::awaitable<result> read_shared(std::span<std::byte> scratch) override {
    co_return co_await run(step::read, scratch.data(), scratch.size());
  }
  // Small buffers go out together (one record for many stanzas), each run of them up to a
  // record's size; a large buffer goes as it is.
  asio::awaitable<result> write(std::span<const asio::const_buffer> buffers) override {
    std::size_t total = 0;
    if (buffers.size() == 1) {
      auto ec = co_await write_all(static_cast<const char*>(buffers[0].data()), buffers[0].size());
      co_return result{ec, ec ? 0 : buffers[0].size()};
    }
    std::string gathered;
    for (const auto& b : buffers) {
      if (!gathered.empty() && (b.size() >= record_size || gathered.size() + b.size() > record_size)) {
        auto ec = co_await write_all(gathered.data(), gathered.size());
        if (ec) co_return result{ec, total};
        total += gathered.size();
        gathered.clear();
      }
      if (b.size() >= record_size) {
        auto ec = co_await write_all(static_cast<const char*>(b.data()), b.size());
        if (ec) co_return result{ec, total};
        total += b.size();
        continue;
      }
      gathered.append(static_cast<const char*>(b.data()), b.size());
    }
    if (!gathered.empty()) {
      auto ec = co_await write_all(gathered.data(), gathered.size());
      if (ec) co_return result{ec, total};
      total += gathered.size();
    }
    co_return result{boost::system::error_code{}, total};
  }
  void shutdown() noexcept override { shutdown_fd(socket_); }
  // Decrypted bytes OpenSSL holds, or bytes in the socket.
  bool more_waiting() noexcept override { return (ssl_ && SSL_has_pending(ssl_.get())) || bytes_in(socket_) > 0; }
  asio::ip::tcp::socket& socket() noexcept override { return socket_; }
  std::string channel_binding(std::string_view type) override {
    SSL* ssl = ssl_.get();
    if (type == "tls-exporter") {
      if (SSL_version(ssl) != TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) return {};
      static constexpr char label[] = "EXPORTER-Channel-Binding";
      unsigned char out[32];
      if (SSL_export_keying_material(ssl, out, sizeof out, label, sizeof label - 1, nullptr, 0, 0) != 1) return {};
      return std::string(reinterpret_cast<const char*>(out), sizeof out);
    }
    if (type == "tls-server-end-point") {
      X509* cert = server_ ? SSL_get_certificate(ssl) : SSL_get0_peer_certificate(ssl);
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
      const bool ours = SSL_session_reused(ssl) == (server_);
      const std::size_t length = ours ? SSL_get_finished(ssl, out, sizeof out) : SSL_get_peer_finished(ssl, out, sizeof out);
      return std::string(reinterpret_cast<const char*>(out), std::min(length, sizeof out));
    }
    return {};
  }


 private:
  enum class step { handshake, read, write };
  static constexpr std::size_t record_size = 16384;

  // One OpenSSL call, again after each wait it asks for, until it does something or fails.
  asio::awaitable<result> run(step what, void* data, std::size_t size) {
    if (!ssl_) co_return result{asio::error::no_memory, 0};
    for (;;) {
      ERR_clear_error();
      std::size_t done = 0;
      int r = 0;
      switch (what) {
        case step::handshake: r = SSL_do_handshake(ssl_.get()); break;
        case step::read: r = SSL_read_ex(ssl_.get(), data, size, &done); break;
        case step::write: r = SSL_write_ex(ssl_.get(), data, size, &done); break;
      }
      if (r > 0) co_return result{boost::system::error_code{}, done};
      const int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        auto [ec] = co_await socket_.async_wait(
            e == SSL_ERROR_WANT_READ ? asio::ip::tcp::socket::wait_read : asio::ip::tcp::socket::wait_write, no_throw);
        if (ec) co_return result{ec, 0};
        continue;
      }
      co_return result{error_of(e), 0};
    }
  }

  asio::awaitable<boost::system::error_code> write_all(const char* data, std::size_t size) {
    std::size_t at = 0;
    while (at < size) {
      auto [ec, n] = co_await run(step::write, const_cast<char*>(data) + at, size - at);
      if (ec) co_return ec;
      at += n;
    }
    co_return boost::system::error_code{};
  }

  static boost::system::error_code error_of(int e) {
    if (e == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // the peer's close_notify
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL) {
      if (const unsigned long code = ERR_get_error())
        return {static_cast<int>(code), asio::error::get_ssl_category()};
      if (e == SSL_ERROR_SYSCALL && errno != 0 && errno != EAGAIN) return {errno, boost::system::system_category()};
      return asio::error::eof;  // the connection ended without close_notify
    }
    return asio::error::operation_aborted;
  }

  struct ssl_free {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
  };
  asio::ip::tcp::socket socket_;             // declared first: closed after SSL_free
  std::unique_ptr<SSL, ssl_free> ssl_;
  bool server_;
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
  return std::make_unique<tls_stream>(std::move(socket), tls, true);
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
  auto stream = std::make_unique<tls_stream>(std::move(socket), tls, false);
  if (!server_name.empty()) stream->server_name(server_name);
  return stream;
}

}  // namespace junction
