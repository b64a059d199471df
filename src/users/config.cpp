#include "users/config.hpp"

namespace junction {

void read_config(config_section& users, users_config& u) {
  users.string("database", u.database);
  users.finish();
  if (u.database.empty()) users.fail("users.database must name a file");
}

}  // namespace junction
