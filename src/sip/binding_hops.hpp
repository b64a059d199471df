#pragma once
// Where a registered binding is reached from this server: over the flow its REGISTER came on,
// or over UDP at its Contact or at the REGISTER's source address.
#include <cstddef>
#include <optional>

#include "sip/location.hpp"
#include "sip/shard_service.hpp"

namespace junction::sip {

std::optional<origin> next_hop_of(const binding& b, std::size_t socket);

}  // namespace junction::sip
