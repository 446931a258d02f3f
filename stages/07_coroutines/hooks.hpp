// The loop's one extension point. A later stage attaches an object to a loop
// (loop.attach(hooks)) and the loop calls it at fixed points of every turn,
// the way libuv runs its prepare and check handles and asyncio's debug mode
// watches _run_once. A later stage can build cancellation on these calls, and
// a recorder can draw every turn from them. With nothing attached, each point
// costs one look at an empty list.
#pragma once

#include "selector.hpp"

#include <cstdint>
#include <vector>

namespace ladder::coro {

struct Waiter;

class LoopHooks {
  public:
    virtual ~LoopHooks() = default;

    // A turn begins (turns count from 1), before the selector.
    virtual void turn_began(std::uint64_t /*turn*/) {}
    // The selector answered: `ready_fds` are the fds it returned (key.data
    // is each one's Waiter); it was allowed to sleep `timeout` (nullopt: for
    // as long as it took).
    virtual void selected(const Timeout& /*timeout*/, const std::vector<Ready>& /*ready_fds*/) {}
    // w is about to be parked on the waiting list. Throwing stops it: the
    // exception comes out of the co_await that was parking.
    virtual void parking(Waiter& /*w*/) {}
    // w moved from the waiting list to the ready list: its fd is ready, or
    // its deadline passed (w.timed_out), or someone woke it with an error
    // (w.error).
    virtual void woken(Waiter& /*w*/) {}
    // w left the loop without being resumed: its frame was destroyed while it
    // was parked or ready, or parking it failed after parking().
    virtual void forgotten(Waiter& /*w*/) {}
    // The loop is about to resume w's coroutine; then the step runs until that
    // coroutine parks again or ends. w may be gone by the time the step ends.
    virtual void step_began(Waiter& /*w*/) {}
    virtual void step_ended() {}
    // The turn is over.
    virtual void turn_ended() {}
};

} // namespace ladder::coro
