// Lock (asyncio.Lock): one coroutine at a time in a critical section.
//
//   { auto held = co_await lock.acquire();  ...  }   // released at the }
//
// FIFO-fair: release() hands the lock straight to the longest waiter, so a
// newcomer can never barge in ahead of it. Cancellation-safe: a cancelled
// waiter leaves the queue; one destroyed after the hand-over passes it on.
#pragma once

#include "waitlist.hpp"

#include <coroutine>
#include <stdexcept>
#include <utility>

namespace ladder::coro {

class Lock {
  public:
    Lock() {
        waiters_.on_lost_wakeup = [this] { release(); };
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    bool locked() const noexcept { return locked_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }

    // Releases the lock when it goes out of scope (or at unlock()).
    class [[nodiscard]] Guard {
      public:
        explicit Guard(Lock* lock) noexcept : lock_(lock) {}
        Guard(Guard&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
        Guard& operator=(Guard&&) = delete;
        ~Guard() { unlock(); }
        void unlock() noexcept {
            if (lock_) std::exchange(lock_, nullptr)->release();
        }
        // Leave the lock held: another Guard (the caller's) will release it.
        void keep() noexcept { lock_ = nullptr; }

      private:
        Lock* lock_;
    };

    struct Awaiter {
        Lock& lock;
        WaitList::Awaiter parked;
        bool await_ready() noexcept {
            if (lock.locked_) return false;
            lock.locked_ = true; // free, and nobody queued (release() hands it over)
            return true;
        }
        template <class P>
        void await_suspend(std::coroutine_handle<P> self) {
            parked.await_suspend(self);
        }
        Guard await_resume() {
            parked.await_resume(); // handed over to us (or CancelledError)
            return Guard(&lock);
        }
    };
    Awaiter acquire(unsigned line = __builtin_LINE()) noexcept { return Awaiter{*this, waiters_.wait(line)}; }

    void release() {
        if (!locked_) throw std::logic_error("Lock.release(): not locked");
        if (!waiters_.wake_one()) locked_ = false; // else it stays locked: theirs now
    }

  private:
    bool locked_ = false;
    WaitList waiters_;
};

} // namespace ladder::coro
