#include "loop.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace ladder::coro {

namespace {
thread_local Loop* current_loop = nullptr;
}

Loop::Loop(std::string_view selector) : selector_(make_selector(selector)), outer_(current_loop) {
    current_loop = this;
}

Loop::~Loop() {
    current_loop = outer_;
    // Tasks should not outlive their loop (run() destroys the root first);
    // if one does, at least leave nothing pointing into this loop.
    ready_.clear();
    deadlines_.clear();
}

Loop& Loop::current() {
    if (!current_loop) throw std::logic_error("no event loop: call this inside run()");
    return *current_loop;
}

Loop* Loop::current_or_null() noexcept {
    return current_loop;
}

void Loop::wait(Waiter& w) {
    if (current_task_) note_parked(w); // may throw CancelledError: then nothing is parked
    if (w.deadline != never) deadlines_.push(w);
    if (w.fd >= 0) {
        try {
            watch(w);
        } catch (...) {
            if (w.heap_index != Waiter::no_index) deadlines_.erase(w);
            note_unparked(w);
            throw;
        }
    }
    w.outcome = Waiter::Outcome::waiting;
    ++parked_;
}

// Point the selector's key for w.fd at w: the selector hands &w back when the
// fd is ready. A Socket's fd may still be watched since its last wait, with no
// waiter; then a modify does, and costs a syscall only if the events differ.
void Loop::watch(Waiter& w) {
    if (!selector_->contains(w.fd)) return selector_->add(w.fd, w.events, &w);
    if (selector_->key(w.fd).data)
        throw std::logic_error("fd " + std::to_string(w.fd) + " already has a coroutine waiting");
    selector_->modify(w.fd, w.events, &w);
}

void Loop::leave_waiting_list(Waiter& w, bool keep_watching) noexcept {
    if (w.fd >= 0 && selector_->contains(w.fd) && selector_->key(w.fd).data == &w) {
        if (keep_watching)
            selector_->modify(w.fd, w.events, nullptr); // no waiter now; no syscall either
        else
            selector_->remove(w.fd);
    }
    if (w.heap_index != Waiter::no_index) deadlines_.erase(w);
    note_unparked(w);
    --parked_;
}

void Loop::wake(Waiter& w, Waiter::Outcome outcome) noexcept {
    leave_waiting_list(w, w.keep_watching);
    w.outcome = outcome;
    ready_.push_back(w);
}

void Loop::forget(Waiter& w) noexcept {
    if (w.outcome == Waiter::Outcome::waiting) leave_waiting_list(w, false);
    if (w.outcome == Waiter::Outcome::elsewhere) note_unparked(w);
    w.unlink(); // off the ready list too, if it was woken but not yet resumed
    w.outcome = Waiter::Outcome::idle;
}

void Loop::unwatch(int fd) noexcept {
    if (selector_->contains(fd)) selector_->remove(fd);
}

bool Loop::run_once() {
    if (ready_.empty() && parked_ == 0) return false;
    ++turns_;

    // 1. Sleep in the selector: not at all if something is ready, otherwise
    //    until an fd is ready or the nearest deadline (nullopt: no deadline).
    Timeout timeout;
    if (!ready_.empty())
        timeout = std::chrono::nanoseconds(0);
    else if (!deadlines_.empty())
        timeout = deadlines_.top().deadline - Clock::now();

    // 2. Waiting list -> ready list: the waiters whose fd is ready...
    for (const Ready& r : selector_->select(timeout)) {
        if (auto* w = static_cast<Waiter*>(r.key.data))
            wake(*w, Waiter::Outcome::ready);
        else
            selector_->remove(r.key.fd); // watched, ready, but nobody waits: stop watching
    }
    // ...and those whose deadline has passed.
    Clock::time_point now = Clock::now();
    while (!deadlines_.empty() && deadlines_.top().deadline <= now)
        wake(deadlines_.top(), Waiter::Outcome::timed_out);

    // 3. Run everything that is ready now. Each coroutine runs until its next
    //    co_await parks it again; what they make ready runs on the next turn.
    ReadyList now_ready;
    now_ready.splice(ready_);
    while (Wakeup* w = now_ready.pop_front()) {
        current_task_ = w->task; // whose turn it is: what it parks on is tagged with it
        w->handle.resume();
    }
    current_task_ = 0;
    return true;
}

void Loop::note_parked(Waiter& w) {
    w.task = current_task_;
    if (cancel_pending_.erase(w.task)) throw CancelledError{}; // cancelled while running
    parked_tasks_.emplace(w.task, &w);
}

void Loop::note_unparked(Waiter& w) noexcept {
    if (!w.task) return;
    auto [first, last] = parked_tasks_.equal_range(w.task);
    for (auto it = first; it != last; ++it)
        if (it->second == &w) {
            parked_tasks_.erase(it);
            return;
        }
}

void Loop::park_elsewhere(Waiter& w) {
    if (current_task_) note_parked(w);
    w.outcome = Waiter::Outcome::elsewhere;
}

void Loop::unpark_elsewhere(Waiter& w, Waiter::Outcome outcome) noexcept {
    note_unparked(w);
    w.outcome = outcome;
    ready_.push_back(w);
}

void Loop::cancel(std::uint32_t task) noexcept {
    if (!task) return;
    auto [first, last] = parked_tasks_.equal_range(task);
    if (first == last) {
        cancel_pending_.insert(task);
        return;
    }
    std::vector<Waiter*> waiters;
    for (auto it = first; it != last; ++it) waiters.push_back(it->second);
    for (Waiter* w : waiters) {
        if (w->outcome == Waiter::Outcome::waiting) {
            leave_waiting_list(*w, false);
        } else {
            note_unparked(*w);
            w->unlink(); // off the other list (a Lock's queue...)
        }
        w->outcome = Waiter::Outcome::cancelled;
        ready_.push_back(*w);
    }
}

Waiter::~Waiter() {
    if (outcome == Outcome::waiting || outcome == Outcome::elsewhere)
        if (Loop* loop = Loop::current_or_null()) loop->forget(*this);
    // ~Link then takes it off the ready list, if it is on it.
}

} // namespace ladder::coro
