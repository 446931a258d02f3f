// Event (asyncio.Event): a flag coroutines can wait for. set() wakes every
// waiter at once; wait() on a set event returns at once; clear() resets it.
#pragma once

#include "waiters.hpp"

#include <coroutine>

namespace ladder::coro {

class Event {
  public:
    bool is_set() const noexcept { return set_; }
    void set() noexcept {
        set_ = true;
        waiters_.wake_all();
    }
    void clear() noexcept { set_ = false; }
    std::size_t waiting() const noexcept { return waiters_.size(); }

    struct Awaiter {
        Event& event;
        Waiters::Awaiter parked;
        bool await_ready() const noexcept { return event.set_; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> self) {
            parked.await_suspend(self);
        }
        void await_resume() { parked.await_resume(); } // throws if cancelled while waiting
    };
    Awaiter wait(unsigned line = __builtin_LINE()) noexcept { return Awaiter{*this, waiters_.wait(line)}; }

  private:
    bool set_ = false;
    Waiters waiters_; // no hand-over to lose: set() wakes them all
};

} // namespace ladder::coro
