#pragma once
// A call handed to the runtime's blocking pool by weft::to_thread. The node lives in the
// awaiting frame; the pool links it into its queue under the pool's mutex.

#include <cstdint>

namespace weft::detail {

class scheduler;

struct blocking_job {
  enum class state : std::uint8_t { queued, running, cancelled };

  blocking_job* prev = nullptr; // guarded by the pool's mutex
  blocking_job* next = nullptr; // guarded by the pool's mutex
  state status = state::queued; // guarded by the pool's mutex
  /// Runs the call on a blocking thread, stores its outcome and resumes the task; the
  /// pool touches the node no more once it has been called.
  void (*run)(blocking_job* self) noexcept = nullptr;
};

/// Queues job on sched's blocking pool; false once shutdown has begun. Throws:
/// std::system_error if a needed thread cannot be started. Compiled.
[[nodiscard]] bool submit_blocking(scheduler& sched, blocking_job& job);
/// Takes job out of the queue if it has not started: true if it was, and then it never
/// runs. Compiled.
bool cancel_blocking(scheduler& sched, blocking_job& job) noexcept;

} // namespace weft::detail
