#pragma once
// The completion handler for every detached coroutine: a session that ends by an exception is
// logged with its reason instead of vanishing (asio::detached would drop it).
#include <exception>

namespace junction {

struct log_failure {
  const char* what;
  void operator()(std::exception_ptr failure) const;
};

}  // namespace junction
