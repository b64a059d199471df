#include "core/spawn.hpp"

#include "core/log.hpp"

namespace junction {

void log_failure::operator()(std::exception_ptr failure) const {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    log::error("{} ended by an exception: {}", what, e.what());
  } catch (...) {
    log::error("{} ended by an unknown exception", what);
  }
}

}  // namespace junction
