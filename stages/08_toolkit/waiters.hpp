// Waiters: the coroutines waiting for one tool (a Lock, an Event, a job's
// end...), first come first served. Every tool of this stage is a little
// state plus one or two of these.
//
//   co_await waiters.wait();    // park until woken (or cancelled)
//   waiters.wake_one();         // the longest waiter runs on the next turn
//
// A waiter parks on 07's loop with no fd and no deadline, so only a wake
// ends its wait — and a cancel, like any other park (cancellation.hpp). The
// list just remembers who came first. (Not 07's waiting list: that one is the
// loop's, of every parked coroutine; this one is one tool's.)
#pragma once

#include "07_coroutines/loop.hpp"

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>

namespace ladder::coro {

class Waiters {
  public:
    Waiters() = default;
    Waiters(const Waiters&) = delete;
    Waiters& operator=(const Waiters&) = delete;

    std::size_t size() const noexcept { return queue_.size(); }
    bool empty() const noexcept { return queue_.empty(); }

    // What the tool does with a hand-over whose waiter died (or was
    // cancelled) before it could use it: a Lock passes itself on, a
    // Semaphore its permit... so that nothing is ever lost.
    std::function<void()> on_lost_wakeup;

    class Awaiter {
      public:
        Awaiter(Waiters& list, unsigned line) noexcept : list_(list) {
            waiter_.line = static_cast<std::uint16_t>(line);
        }
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        ~Awaiter() {
            std::erase(list_.queue_, this);
            if (handed_ && list_.on_lost_wakeup) list_.on_lost_wakeup(); // woken, never ran
        }
        bool await_ready() const noexcept { return false; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> self) {
            park(waiter_, self); // throws CancelledError if the job was cancelled
            list_.queue_.push_back(this);
        }
        void await_resume() {
            std::erase(list_.queue_, this); // cancelled: we were still in the queue
            handed_ = false;                // the hand-over, if any, is ours now
            if (waiter_.error) std::rethrow_exception(waiter_.error);
        }

      private:
        friend Waiters;
        Waiters& list_;
        Waiter waiter_;
        bool handed_ = false; // wake_one() chose us
    };
    Awaiter wait(unsigned line = __builtin_LINE()) noexcept { return Awaiter(*this, line); }

    // Wake the longest waiter; false if there is none.
    bool wake_one() noexcept {
        while (!queue_.empty()) {
            Awaiter* first = queue_.front();
            queue_.pop_front();
            if (!first->waiter_.parked) continue; // cancelled already: not a waiter any more
            first->handed_ = true;
            first->waiter_.loop->wake(first->waiter_);
            return true;
        }
        return false;
    }
    std::size_t wake(std::size_t n) noexcept {
        std::size_t woken = 0;
        while (woken < n && wake_one()) ++woken;
        return woken;
    }
    std::size_t wake_all() noexcept { return wake(static_cast<std::size_t>(-1)); }

  private:
    std::deque<Awaiter*> queue_;
};

} // namespace ladder::coro
