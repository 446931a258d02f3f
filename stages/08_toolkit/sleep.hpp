// sleep(ms): park the coroutine on the loop's timers (asyncio.sleep).
//
// The timers are 07's: a sleep is a Waiter with no fd, only a deadline, in
// the loop's DeadlineHeap; the loop sleeps in the selector exactly until
// the earliest. Its deadline passing is not an error here: it is the point.
#pragma once

#include "07_coroutines/loop.hpp"

#include <chrono>
#include <coroutine>
#include <exception>

namespace ladder::coro {

class Sleep {
  public:
    Sleep(Clock::time_point deadline, unsigned line) noexcept {
        waiter_.deadline = deadline;
        waiter_.line = static_cast<std::uint16_t>(line);
    }
    bool await_ready() const noexcept { return false; } // even sleep(0) lets the others run
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) {
        park(waiter_, self);
    }
    void await_resume() const {
        if (waiter_.error) std::rethrow_exception(waiter_.error); // cancelled
    }

  private:
    Waiter waiter_;
};

inline Sleep sleep_until(Clock::time_point deadline, unsigned line = __builtin_LINE()) noexcept {
    return Sleep(deadline, line);
}
inline Sleep sleep(std::chrono::milliseconds ms, unsigned line = __builtin_LINE()) noexcept {
    return Sleep(Clock::now() + ms, line);
}
// co_await yield_now(): let every other ready coroutine run first (Python:
// await asyncio.sleep(0)).
inline Sleep yield_now(unsigned line = __builtin_LINE()) noexcept {
    return Sleep(Clock::now(), line);
}

} // namespace ladder::coro
