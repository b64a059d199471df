#include "core/tls_options.hpp"

#include <openssl/ssl.h>

#include <fmt/format.h>

namespace junction {

int tls_version_number(const std::string& version) {
  if (version == "1.0") return TLS1_VERSION;
  if (version == "1.1") return TLS1_1_VERSION;
  if (version == "1.2") return TLS1_2_VERSION;
  if (version == "1.3") return TLS1_3_VERSION;
  return 0;
}

void read_tls_options(config_section& section, const char* name, tls_options& out) {
  section.string("tls_min_version", out.min_version);
  section.string("tls_max_version", out.max_version);
  section.string("tls_ciphers", out.ciphers);
  section.string("tls_ciphersuites", out.ciphersuites);
  const int low = tls_version_number(out.min_version), high = tls_version_number(out.max_version);
  if (!low) section.fail(fmt::format("{}.tls_min_version: '{}' is not \"1.0\", \"1.1\", \"1.2\" or \"1.3\"", name, out.min_version));
  if (!high) section.fail(fmt::format("{}.tls_max_version: '{}' is not \"1.0\", \"1.1\", \"1.2\" or \"1.3\"", name, out.max_version));
  if (low > high) section.fail(fmt::format("{}.tls_min_version is above {}.tls_max_version", name, name));
}

}  // namespace junction
