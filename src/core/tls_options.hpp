#pragma once
// The TLS settings every TLS listener takes (http, rtmp, sip): protocol versions and ciphers.
// Read from the listener's section as tls_min_version, tls_max_version, tls_ciphers and
// tls_ciphersuites (conf/junction.toml says which clients need what).
#include <string>

#include "core/config_section.hpp"

namespace junction {

struct tls_options {
  std::string min_version = "1.2";  // "1.0", "1.1", "1.2" or "1.3"
  std::string max_version = "1.3";  // "1.2" for clients whose TLS 1.3 fails (rtmpdump, say)
  std::string ciphers;              // OpenSSL cipher list for TLS 1.2 and older; empty: OpenSSL's
  std::string ciphersuites;         // TLS 1.3 suites ("TLS_AES_128_GCM_SHA256:..."); empty: OpenSSL's
  friend bool operator==(const tls_options&, const tls_options&) = default;
};

// Reads the four keys of `section` (named `name` in messages) and checks the versions.
void read_tls_options(config_section& section, const char* name, tls_options& out);

// OpenSSL's number for "1.0".."1.3", or 0 for anything else.
int tls_version_number(const std::string& version);

}  // namespace junction
