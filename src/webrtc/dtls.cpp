#include "webrtc/dtls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>


namespace junction::webrtc {
namespace {

constexpr auto handshake_limit = std::chrono::seconds(30);

// OpenSSL's last error, in words, and the queue left empty for the next call.
std::string openssl_error(std::string_view what) {
  std::string out(what);
  if (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    out.append(": ").append(buffer);
  }
  ERR_clear_error();
  return out;
}

const EVP_MD* digest_named(std::string_view algorithm) {
  if (algorithm == "sha-1") return EVP_sha1();
  if (algorithm == "sha-224") return EVP_sha224();
  if (algorithm == "sha-256") return EVP_sha256();
  if (algorithm == "sha-384") return EVP_sha384();
  if (algorithm == "sha-512") return EVP_sha512();
  return nullptr;
}

std::vector<std::uint8_t> digest_of(X509* certificate, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(certificate, md, out, &n) != 1) return {};
  return {out, out + n};
}

// The outgoing side of an association: OpenSSL writes one record (or one flight's worth that
// fits the MTU) per call, and each write becomes one datagram, so nothing is merged past the
// MTU the way a memory BIO would merge a whole flight.
int outgoing_write(BIO* bio, const char* data, int length) {
  auto* out = static_cast<std::vector<std::vector<std::uint8_t>>*>(BIO_get_data(bio));
  if (!out || length <= 0) return 0;
  out->emplace_back(reinterpret_cast<const std::uint8_t*>(data), reinterpret_cast<const std::uint8_t*>(data) + length);
  return length;
}

long outgoing_ctrl(BIO*, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU: return static_cast<long>(dtls_transport::mtu);
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING: return 0;
    default: return 0;
  }
}

int outgoing_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* outgoing_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "junction dtls datagrams");
    if (m) {
      BIO_meth_set_write(m, outgoing_write);
      BIO_meth_set_ctrl(m, outgoing_ctrl);
      BIO_meth_set_create(m, outgoing_create);
    }
    return m;
  }();
  return method;
}

// The peer's certificate is self-signed: its fingerprint is what vouches for it
// (dtls_transport::verify_peer, per association).
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

int transport_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Retransmissions start at 400 ms (OpenSSL's own start is a second, long for a call's set-up)
// and double up to 8 s.
unsigned int retransmit_after(SSL*, unsigned int previous_us) {
  return previous_us == 0 ? 400'000u : std::min(previous_us * 2, 8'000'000u);
}

}  // namespace

struct dtls_certificate::handles {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  SSL_CTX* context = nullptr;
  ~handles() {
    SSL_CTX_free(context);
    X509_free(certificate);
    EVP_PKEY_free(key);
  }
};

dtls_certificate::~dtls_certificate() = default;

std::shared_ptr<const dtls_certificate> dtls_certificate::generate(std::string& error) {
  std::shared_ptr<dtls_certificate> c(new dtls_certificate);
  c->h_ = std::make_unique<handles>();
  auto& h = *c->h_;
  h.key = EVP_EC_gen("P-256");
  h.certificate = X509_new();
  if (!h.key || !h.certificate) {
    error = openssl_error("cannot make a DTLS key");
    return nullptr;
  }
  std::uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  X509_NAME* name = X509_get_subject_name(h.certificate);
  const bool made =
      X509_set_version(h.certificate, 2) == 1 &&
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(h.certificate), serial >> 1) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(h.certificate), -24 * 3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(h.certificate), 30L * 24 * 3600) != nullptr &&
      X509_set_pubkey(h.certificate, h.key) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("junction"), -1, -1, 0) == 1 &&
      X509_set_issuer_name(h.certificate, name) == 1 && X509_sign(h.certificate, h.key, EVP_sha256()) > 0;
  if (!made) {
    error = openssl_error("cannot make a DTLS certificate");
    return nullptr;
  }
  h.context = SSL_CTX_new(DTLS_method());
  if (!h.context || SSL_CTX_set_min_proto_version(h.context, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate(h.context, h.certificate) != 1 || SSL_CTX_use_PrivateKey(h.context, h.key) != 1 ||
      // Note the inverted result: 0 is success here.
      SSL_CTX_set_tlsext_use_srtp(h.context, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0) {
    error = openssl_error("cannot make a DTLS context");
    return nullptr;
  }
  SSL_CTX_set_verify(h.context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
  SSL_CTX_set_read_ahead(h.context, 1);
  // Idle record buffers go back: after the handshake an association only carries the odd alert
  // (media is SRTP, outside DTLS), and a shard holds thousands of them.
  SSL_CTX_set_mode(h.context, SSL_MODE_RELEASE_BUFFERS);

  const auto digest = digest_of(h.certificate, EVP_sha256());
  static constexpr char hex[] = "0123456789ABCDEF";
  c->fingerprint_ = "sha-256 ";
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i) c->fingerprint_.push_back(':');
    c->fingerprint_.push_back(hex[digest[i] >> 4]);
    c->fingerprint_.push_back(hex[digest[i] & 0xF]);
  }
  return c;
}

std::optional<fingerprint_value> parse_fingerprint(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  const auto space = text.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  fingerprint_value v;
  for (char c : text.substr(0, space)) v.algorithm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const EVP_MD* md = digest_named(v.algorithm);
  if (!md) return std::nullopt;
  std::string_view hex = text.substr(space + 1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front()))) hex.remove_prefix(1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.remove_suffix(1);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 3) {
    if (i + 2 > hex.size() || (i + 2 < hex.size() && hex[i + 2] != ':')) return std::nullopt;
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    v.digest.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  if (v.digest.size() != static_cast<std::size_t>(EVP_MD_get_size(md))) return std::nullopt;
  return v;
}

struct dtls_transport::handles {
  SSL* ssl = nullptr;
  BIO* incoming = nullptr;  // owned by ssl once set
  clock::time_point started;
  ~handles() { SSL_free(ssl); }
};

dtls_transport::dtls_transport(std::shared_ptr<const dtls_certificate> certificate, role r, fingerprint_value expected)
    : certificate_(std::move(certificate)), role_(r), expected_(std::move(expected)), h_(std::make_unique<handles>()) {
  BIO* out = nullptr;
  if (certificate_ && (h_->ssl = SSL_new(certificate_->h_->context)) && (h_->incoming = BIO_new(BIO_s_mem())) &&
      outgoing_method() && (out = BIO_new(outgoing_method()))) {
    BIO_set_mem_eof_return(h_->incoming, -1);  // an empty buffer means "wait", not end of stream
    BIO_set_data(out, &outgoing_);
    SSL_set_bio(h_->ssl, h_->incoming, out);
    SSL_set_ex_data(h_->ssl, transport_index(), this);
    SSL_set_verify(h_->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_peer);
    SSL_set_options(h_->ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(h_->ssl, static_cast<long>(mtu));
    DTLS_set_link_mtu(h_->ssl, static_cast<long>(mtu));
    DTLS_set_timer_cb(h_->ssl, retransmit_after);
    if (role_ == role::client)
      SSL_set_connect_state(h_->ssl);
    else
      SSL_set_accept_state(h_->ssl);
    return;
  }
  if (!h_->ssl) BIO_free(h_->incoming);
  BIO_free(out);
  fail(openssl_error("cannot start DTLS"));
}

dtls_transport::~dtls_transport() = default;

void dtls_transport::fail(std::string why) {
  if (state_ == state::failed) return;
  state_ = state::failed;
  failure_ = std::move(why);
  timeout_.reset();
  ERR_clear_error();
}

void dtls_transport::start(clock::time_point now) {
  h_->started = now;
  if (state_ != state::handshaking || role_ != role::client) return;
  const int r = SSL_do_handshake(h_->ssl);
  if (r != 1 && SSL_get_error(h_->ssl, r) != SSL_ERROR_WANT_READ) return fail(openssl_error("the DTLS handshake failed"));
  after_io(now);
}

void dtls_transport::after_io(clock::time_point now) {
  timeval left{};
  if (state_ == state::handshaking && DTLSv1_get_timeout(h_->ssl, &left) == 1)
    timeout_ = now + std::chrono::seconds(left.tv_sec) + std::chrono::microseconds(left.tv_usec);
  else
    timeout_.reset();
}

bool dtls_transport::certificate_matches(void* x509) const {
  const EVP_MD* md = digest_named(expected_.algorithm);
  if (!md) return false;
  const auto digest = digest_of(static_cast<X509*>(x509), md);
  return !digest.empty() && digest == expected_.digest;
}

int dtls_transport::verify_peer(int, x509_store_ctx_st* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;  // a chain's issuers: only the peer's own counts
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl ? static_cast<dtls_transport*>(SSL_get_ex_data(ssl, transport_index())) : nullptr;
  X509* certificate = X509_STORE_CTX_get_current_cert(store);
  if (!self || !certificate) return 0;
  if (self->certificate_matches(certificate)) return 1;
  self->fingerprint_mismatch_ = true;
  return 0;
}

bool dtls_transport::finish_handshake() {
  X509* peer = SSL_get1_peer_certificate(h_->ssl);
  if (!peer) {
    fail("the peer sent no certificate");
    return false;
  }
  const bool matches = certificate_matches(peer);
  X509_free(peer);
  if (!matches) {
    fail("the peer's certificate does not match the fingerprint in its SDP");
    return false;
  }
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(h_->ssl);
  if (!profile) {
    fail("no SRTP profile agreed (use_srtp)");
    return false;
  }
  srtp_keying k;
  std::size_t key = 16, salt = 14;
  if (profile->id == SRTP_AEAD_AES_128_GCM) {
    k.suite = media::srtp::suite::aead_aes_128_gcm;
    salt = 12;
  } else if (profile->id != SRTP_AES128_CM_SHA1_80) {
    fail("an SRTP profile Junction does not offer");
    return false;
  }
  // RFC 5764 §4.2: client key, server key, client salt, server salt.
  std::vector<std::uint8_t> m(2 * (key + salt));
  static constexpr char label[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(h_->ssl, m.data(), m.size(), label, sizeof label - 1, nullptr, 0, 0) != 1) {
    fail(openssl_error("cannot export the SRTP keys"));
    return false;
  }
  auto master = [&](bool client) {
    std::vector<std::uint8_t> out(m.begin() + (client ? 0 : key), m.begin() + (client ? 0 : key) + key);
    const auto at = m.begin() + static_cast<std::ptrdiff_t>(2 * key + (client ? 0 : salt));
    out.insert(out.end(), at, at + static_cast<std::ptrdiff_t>(salt));
    return out;
  };
  k.local_master = master(role_ == role::client);
  k.remote_master = master(role_ != role::client);
  keying_ = std::move(k);
  state_ = state::connected;
  return true;
}

void dtls_transport::on_datagram(std::span<const std::uint8_t> datagram, clock::time_point now) {
  if (state_ == state::failed || state_ == state::closed || datagram.empty()) return;
  if (released_) {
    // DTLS 1.2 record header (RFC 6347 §4.1): the content type first, in clear; 21 is an alert,
    // which after the handshake is the peer's close_notify or a fatal one. The rest (a late
    // retransmission, application data) has nobody to read it.
    if (datagram.size() >= 13 && datagram[0] == 21) state_ = state::closed;
    return;
  }
  if (BIO_write(h_->incoming, datagram.data(), static_cast<int>(datagram.size())) <= 0)
    return fail(openssl_error("cannot take a DTLS datagram"));
  if (state_ == state::handshaking) {
    const int r = SSL_do_handshake(h_->ssl);
    if (r == 1) {
      if (!finish_handshake()) return;
    } else {
      const int e = SSL_get_error(h_->ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return fail(fingerprint_mismatch_ ? (ERR_clear_error(), "the peer's certificate does not match the fingerprint in its SDP")
                                          : openssl_error("the DTLS handshake failed"));
      // What OpenSSL could not use of this datagram stays behind: drop it, so that the next
      // datagram is read on its own.
      BIO_reset(h_->incoming);
      return after_io(now);
    }
  }
  // Connected: application data (and the peer's alerts).
  // One buffer per thread, not per association: what is read is copied out at once, and a
  // shard holds thousands of associations.
  thread_local std::vector<std::uint8_t> read_buffer(16384);
  for (;;) {
    const int n = SSL_read(h_->ssl, read_buffer.data(), static_cast<int>(read_buffer.size()));
    if (n > 0) {
      received_.emplace_back(read_buffer.begin(), read_buffer.begin() + n);
      continue;
    }
    const int e = SSL_get_error(h_->ssl, n);
    if (e == SSL_ERROR_ZERO_RETURN) {
      state_ = state::closed;
    } else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      fail(openssl_error("DTLS failed"));
    }
    break;
  }
  BIO_reset(h_->incoming);
  ERR_clear_error();
  after_io(now);
}

void dtls_transport::on_timer(clock::time_point now) {
  if (state_ != state::handshaking) return;
  if (now - h_->started >= handshake_limit) return fail("the DTLS handshake timed out");
  if (DTLSv1_handle_timeout(h_->ssl) < 0) return fail(openssl_error("the DTLS handshake timed out"));
  after_io(now);
}

bool dtls_transport::send(std::span<const std::uint8_t> data) {
  if (state_ != state::connected || released_ || data.empty()) return false;
  const int n = SSL_write(h_->ssl, data.data(), static_cast<int>(data.size()));
  ERR_clear_error();
  return n == static_cast<int>(data.size());
}

void dtls_transport::release() {
  if (state_ != state::connected || released_) return;
  const auto before = outgoing_.size();
  SSL_shutdown(h_->ssl);  // written, not sent: kept for close()
  ERR_clear_error();
  close_notify_.assign(std::make_move_iterator(outgoing_.begin() + static_cast<std::ptrdiff_t>(before)),
                       std::make_move_iterator(outgoing_.end()));
  outgoing_.resize(before);
  h_.reset();
  released_ = true;
}

void dtls_transport::close() {
  if (released_) {
    if (state_ == state::connected) {
      for (auto& d : close_notify_) outgoing_.push_back(std::move(d));
      close_notify_.clear();
      state_ = state::closed;
    }
    return;
  }
  if (state_ == state::connected || state_ == state::handshaking) {
    SSL_shutdown(h_->ssl);
    ERR_clear_error();
    state_ = state::closed;
    timeout_.reset();
  }
}

}  // namespace junction::webrtc
