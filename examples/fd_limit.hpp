#pragma once
// Servers and load generators hold a descriptor per connection: raise the soft
// RLIMIT_NOFILE to the hard limit, as servers usually do at start-up.

#include <sys/resource.h>

namespace weft_examples {

inline void raise_fd_limit() noexcept {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
  }
}

} // namespace weft_examples
