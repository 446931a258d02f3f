// Condition (asyncio.Condition): wait, holding a Lock, until another
// coroutine says something changed.
//
//   { auto held = co_await cond.acquire();
//     while (!ready) co_await cond.wait();   // releases the lock while parked
//     ... }
//   { auto held = co_await cond.acquire(); ready = true; cond.notify(2); }
//
// notify(n) wakes the n longest waiters (notify_all: all of them); each one
// then takes the lock back before wait() returns — even when it was
// cancelled, so the caller's Guard always holds the lock it will release.
#pragma once

#include "lock.hpp"
#include "07_coroutines/task.hpp"
#include "waiters.hpp"

#include <cstddef>
#include <exception>
#include <stdexcept>

namespace ladder::coro {

class Condition {
  public:
    Condition() {
        waiters_.on_lost_wakeup = [this] { waiters_.wake_one(); };
    }
    Semaphore::Awaiter acquire(unsigned line = __builtin_LINE()) noexcept { return lock_.acquire(line); }
    bool locked() const noexcept { return lock_.locked(); }
    std::size_t waiting() const noexcept { return waiters_.size(); }

    // Call it holding the lock (through acquire()'s Guard).
    Task<void> wait(unsigned line = __builtin_LINE()) {
        if (!lock_.locked()) throw std::logic_error("Condition.wait(): lock not held");
        lock_.release();
        std::exception_ptr error;
        try {
            co_await waiters_.wait(line);
        } catch (...) {
            error = std::current_exception(); // cancelled: still take the lock back first
        }
        auto held = co_await lock_.acquire(line);
        held.keep(); // the caller's Guard releases it
        if (error) std::rethrow_exception(error);
    }

    // Wake up to n waiters; returns how many it woke.
    std::size_t notify(std::size_t n = 1) {
        if (!lock_.locked()) throw std::logic_error("Condition.notify(): lock not held");
        return waiters_.wake(n);
    }
    std::size_t notify_all() { return notify(static_cast<std::size_t>(-1)); }

  private:
    Lock lock_;
    Waiters waiters_;
};

} // namespace ladder::coro
