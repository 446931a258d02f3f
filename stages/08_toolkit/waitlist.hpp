// WaitList: the queue of coroutines waiting for one primitive (a Lock, an
// Event, a Queue...), first come first served. Every tool of stage 08 is a
// little state plus one or two of these.
//
//   co_await list.wait();    // park at the back until woken (or cancelled)
//   list.wake_one();         // the longest-waiting coroutine runs next turn
//
// The waiter lives in the waiting coroutine's frame (07's intrusive Waiter):
// parking allocates nothing, and a frame destroyed while parked leaves the list.
// Cancellation-safe: a waiter cancelled while parked just leaves the queue, and
// one destroyed after being woken but before it ran hands its wake-up on, so a
// wake-up is never lost (see `on_lost_wakeup`).
#pragma once

#include "07_coroutines/lists.hpp"
#include "07_coroutines/loop.hpp"

#include <coroutine>
#include <cstddef>
#include <functional>

namespace ladder::coro {

class WaitList {
  public:
    WaitList() = default;
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;
    ~WaitList() {
        while (head_.linked()) head_.next->unlink();
    }

    bool empty() const noexcept { return !head_.linked(); }
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const Link* l = head_.next; l != &head_; l = l->next) ++n;
        return n;
    }

    // What the owner does with a wake-up whose waiter died before running
    // (a Lock hands itself to the next waiter, a Semaphore its permit...).
    std::function<void()> on_lost_wakeup;

    class Awaiter {
      public:
        explicit Awaiter(WaitList& list) noexcept : list_(list) {}
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        ~Awaiter() {
            // Woken (on the ready list) but never resumed: pass it on.
            if (waiter_.outcome == Waiter::Outcome::ready && list_.on_lost_wakeup) {
                waiter_.unlink();
                waiter_.outcome = Waiter::Outcome::idle;
                list_.on_lost_wakeup();
            }
        }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> self) {
            waiter_.handle = self;
            Loop::current().park_elsewhere(waiter_); // throws if our task was cancelled
            list_.push_back(waiter_);
        }
        void await_resume() {
            bool cancelled = waiter_.outcome == Waiter::Outcome::cancelled;
            waiter_.outcome = Waiter::Outcome::idle;
            if (cancelled) throw CancelledError{};
        }

      private:
        WaitList& list_;
        Waiter waiter_;
    };
    Awaiter wait() noexcept { return Awaiter(*this); }

    // Wake the first waiter; false if there was none.
    bool wake_one() noexcept {
        if (empty()) return false;
        auto* w = static_cast<Waiter*>(head_.next);
        w->unlink();
        Loop::current().unpark_elsewhere(*w, Waiter::Outcome::ready);
        return true;
    }
    std::size_t wake(std::size_t n) noexcept {
        std::size_t woken = 0;
        while (woken < n && wake_one()) ++woken;
        return woken;
    }
    std::size_t wake_all() noexcept { return wake(static_cast<std::size_t>(-1)); }

  private:
    void push_back(Waiter& w) noexcept {
        w.prev = head_.prev;
        w.next = &head_;
        head_.prev->next = &w;
        head_.prev = &w;
    }
    Link head_;
};

} // namespace ladder::coro
