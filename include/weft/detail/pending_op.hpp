#pragma once
// A suspended operation that shutdown must cancel: an Asio operation awaited through
// weft::use_task, or a task queued on a synchronisation primitive. The node lives in the
// awaiting frame; the runtime keeps the nodes in intrusive lists (sharded by worker, each
// under its own lock) so that shutdown can reach every one (docs/design.md, "Shutdown").

namespace weft::detail {

class cancel_state;
class scheduler;

struct pending_op_node {
  pending_op_node* prev = nullptr; // guarded by the registry shard's lock
  pending_op_node* next = nullptr; // guarded by the registry shard's lock
  unsigned shard = 0;              // which shard holds the node; set when it registers
  /// For runtime::dump(): what the task waits on, and the waiting task's state (its
  /// origin), or null when the awaiter is not a weft task.
  const char* what = "an operation";
  const cancel_state* owner = nullptr;
  /// Cancels the operation; called by shutdown with the node's shard lock held, so the
  /// node is alive (unregistering takes the same lock). Must not register or unregister.
  void (*cancel)(pending_op_node* self) noexcept = nullptr;
};

/// Registers node; false once shutdown has begun (the operation must not start). Compiled.
[[nodiscard]] bool register_pending_op(scheduler& sched, pending_op_node& node);
/// Registers the node of an operation that has already started, even once shutdown has
/// begun, so that shutdown waits for it. Returns false if shutdown's cancellation pass has
/// already run: the caller must then cancel the operation itself. Compiled.
[[nodiscard]] bool register_started_op(scheduler& sched, pending_op_node& node) noexcept;
/// Unregisters a node that register_pending_op() accepted. Compiled.
void unregister_pending_op(scheduler& sched, pending_op_node& node) noexcept;

} // namespace weft::detail
