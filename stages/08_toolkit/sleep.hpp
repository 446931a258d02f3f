// sleep(ms): park the coroutine on the loop's timer queue (asyncio.sleep).
//
// The timer queue is 07's DeadlineHeap: a binary min-heap of waiters keyed by
// deadline, so adding or removing a timer is O(log n) and the loop sleeps in
// the selector exactly until the earliest one. A sleep is a Waiter with no fd.
#pragma once

#include "07_coroutines/lists.hpp"
#include "07_coroutines/loop.hpp"

#include <chrono>
#include <coroutine>

namespace ladder::coro {

class Sleep {
  public:
    explicit Sleep(Clock::time_point deadline) noexcept { waiter_.deadline = deadline; }
    bool await_ready() const noexcept { return false; } // even sleep(0) lets the others run
    void await_suspend(std::coroutine_handle<> self) {
        waiter_.handle = self;
        Loop::current().wait(waiter_);
    }
    void await_resume() const {
        if (waiter_.outcome == Waiter::Outcome::cancelled) throw CancelledError{};
    }

  private:
    Waiter waiter_;
};

inline Sleep sleep_until(Clock::time_point deadline) noexcept {
    return Sleep(deadline);
}
inline Sleep sleep(std::chrono::milliseconds ms) noexcept {
    return Sleep(Clock::now() + ms);
}

} // namespace ladder::coro
