#pragma once
// [users]: the user store every protocol authenticates against.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"

namespace junction {

struct users_config {
  // SQLite file holding the users every protocol authenticates (derived secrets only).
  std::string database = "junction-users.sqlite";
  friend bool operator==(const users_config&, const users_config&) = default;
};

void read_config(config_section& s, users_config& out);

}  // namespace junction
