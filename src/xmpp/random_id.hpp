#pragma once
// Unguessable identifiers (stream ids, session ids, archive ids): `bytes` random bytes as
// URL-safe base64 without padding. Should OpenSSL ever fail to give random bytes, an id unique
// to the process (not unguessable) is returned rather than none.
#include <cstddef>
#include <string>

namespace junction::xmpp {

std::string random_id(std::size_t bytes);

}  // namespace junction::xmpp
