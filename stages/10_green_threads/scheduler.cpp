#include "scheduler.hpp"

#include <algorithm>
#include <exception>

namespace ladder::green {

// A fiber blocked in a call. It lives on that fiber's own stack, in
// wait_until_ready()'s frame: the selector's key and the deadline point at it.
struct Scheduler::Blocked {
    Fiber* fiber;
    bool woken = false;
    bool timed_out = false;
};

void Scheduler::spawn(int id, std::function<void()> body) {
    auto fiber = std::make_unique<Fiber>(id, stacks_, std::move(body));
    ready_.push_back(fiber.get());
    fibers_.emplace(fiber.get(), std::move(fiber));
}

Scheduler* Scheduler::of_this_fiber() noexcept {
    return Fiber::current() ? running_ : nullptr;
}

void Scheduler::run() {
    running_ = this;
    while (!fibers_.empty()) {
        // Run every fiber that can run; each goes until it would block (or ends).
        while (!ready_.empty()) {
            Fiber* fiber = ready_.front();
            ready_.pop_front();
            switch_to(*fiber);
        }
        if (fibers_.empty()) break;
        // Every fiber is blocked: sleep until a socket is ready or a deadline passes.
        for (const auto& [key, events] : selector_.select(time_to_next_deadline()))
            wake(*static_cast<Blocked*>(key.data), false);
        wake_overdue();
    }
    stacks_.release(); // no fiber left to need one: the stacks go back to the kernel
}

bool Scheduler::wait_until_ready(int fd, unsigned events, Clock::time_point deadline) {
    Blocked me{Fiber::current()};
    selector_.add(fd, events, &me);
    auto due =
        deadline == Clock::time_point::max() ? deadlines_.end() : deadlines_.emplace(deadline, &me);
    me.fiber->yield(); // ...the other fibers run; we are back once wake() queued us
    selector_.remove(fd);
    if (due != deadlines_.end()) deadlines_.erase(due);
    return !me.timed_out;
}

void Scheduler::wake(Blocked& blocked, bool timed_out) {
    if (blocked.woken) return; // ready and overdue in the same turn: the first one counts
    blocked.woken = true;
    blocked.timed_out = timed_out;
    ready_.push_back(blocked.fiber);
}

void Scheduler::wake_overdue() {
    auto now = Clock::now();
    for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it)
        wake(*it->second, true);
}

Timeout Scheduler::time_to_next_deadline() const {
    if (deadlines_.empty()) return std::nullopt;
    return std::max(deadlines_.begin()->first - Clock::now(), Clock::duration::zero());
}

void Scheduler::switch_to(Fiber& fiber) {
    ++switches_;
    fiber.resume();
    if (!fiber.finished()) return;
    std::exception_ptr escaped = fiber.error();
    fibers_.erase(&fiber); // its stack goes back to the pool, for the next fiber
    if (escaped) std::rethrow_exception(escaped);
}

} // namespace ladder::green
