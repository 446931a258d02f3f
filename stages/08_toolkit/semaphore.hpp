// Semaphore (asyncio.BoundedSemaphore): at most `n` coroutines inside at once.
//
//   { auto permit = co_await sem.acquire();  ...  }   // released at the }
//
// A released permit goes straight to the longest waiter (FIFO-fair: a
// newcomer never barges in ahead of it), and the semaphore is bounded:
// releasing more permits than it was given is a bug, a std::logic_error.
// A waiter cancelled in the queue leaves it; one destroyed after the
// hand-over passes the permit on. A Lock is one of these (lock.hpp).
#pragma once

#include "waiters.hpp"

#include <coroutine>
#include <stdexcept>
#include <utility>

namespace ladder::coro {

class Semaphore {
  public:
    explicit Semaphore(int permits) : free_(permits), bound_(permits) {
        if (permits < 1) throw std::invalid_argument("Semaphore: permits must be >= 1");
        waiters_.on_lost_wakeup = [this] { release(); };
    }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    int free() const noexcept { return free_; }
    int in_use() const noexcept { return bound_ - free_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }

    class [[nodiscard]] Permit {
      public:
        explicit Permit(Semaphore* sem) noexcept : sem_(sem) {}
        Permit(Permit&& other) noexcept : sem_(std::exchange(other.sem_, nullptr)) {}
        Permit& operator=(Permit&&) = delete;
        ~Permit() { release(); }
        void release() noexcept {
            if (sem_) std::exchange(sem_, nullptr)->release();
        }
        // Keep the permit taken: another Permit (the caller's) will release it.
        void keep() noexcept { sem_ = nullptr; }

      private:
        Semaphore* sem_;
    };

    struct Awaiter {
        Semaphore& sem;
        Waiters::Awaiter parked;
        bool await_ready() noexcept {
            if (sem.free_ == 0) return false;
            --sem.free_;
            return true;
        }
        template <class P>
        void await_suspend(std::coroutine_handle<P> self) {
            parked.await_suspend(self);
        }
        Permit await_resume() {
            parked.await_resume(); // handed over to us (or CancelledError)
            return Permit(&sem);
        }
    };
    Awaiter acquire(unsigned line = __builtin_LINE()) noexcept { return Awaiter{*this, waiters_.wait(line)}; }

    void release() {
        if (waiters_.wake_one()) return; // the permit goes straight to the first waiter
        if (free_ == bound_) throw std::logic_error("Semaphore released too many times");
        ++free_;
    }

  private:
    int free_, bound_;
    Waiters waiters_;
};

} // namespace ladder::coro
