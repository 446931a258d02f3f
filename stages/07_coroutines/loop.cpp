#include "loop.hpp"

#include <chrono>
#include <cstdio>

namespace ladder::coro {

namespace {
thread_local Loop* current_loop = nullptr;
}

Loop::Loop(std::string_view selector) : selector_(make_selector(selector)), outer_(current_loop) {
    current_loop = this;
}

Loop::~Loop() {
    current_loop = outer_;
    // Coroutines should not outlive their loop (run() destroys the main task
    // first). Any that do are cut loose, so their frames never touch this
    // loop again, and we say so: they will never resume.
    std::size_t stranded = 0;
    for (List<Waiter>* list : {&waiting_, &ready_})
        for (; Waiter* w = list->pop_front(); ++stranded) w->loop = nullptr, w->parked = false;
    deadlines_.clear();
    if (stranded)
        std::fprintf(stderr, "event loop destroyed with %zu coroutine(s) still on it; they will "
                             "never resume (destroy their Tasks before the loop)\n", stranded);
}

Loop& Loop::current() {
    if (!current_loop) throw std::logic_error("no event loop: call this inside run()");
    return *current_loop;
}

void Loop::call_soon(Waiter& w) noexcept {
    w.loop = this;
    ready_.push_back(w);
}

void Loop::park(Waiter& w) {
    for (LoopHooks* h : hooks_) h->parking(w); // a hook may refuse: then nothing is parked
    try {
        if (w.fd >= 0) selector_->add(w.fd, w.events, &w); // the selector hands &w back
        if (w.deadline != never) deadlines_.push(w);
    } catch (...) {
        if (w.fd >= 0 && selector_->contains(w.fd) && selector_->key(w.fd).data == &w)
            selector_->remove(w.fd);
        for (LoopHooks* h : hooks_) h->forgotten(w);
        throw;
    }
    w.timed_out = false;
    w.error = nullptr;
    w.loop = this;
    w.parked = true;
    waiting_.push_back(w);
}

void Loop::leave_waiting_list(Waiter& w) noexcept {
    if (w.fd >= 0) selector_->remove(w.fd); // watched only while someone waits on it
    if (w.heap_index != DeadlineHeap<Waiter>::none) deadlines_.erase(w);
    w.parked = false;
}

void Loop::wake(Waiter& w, std::exception_ptr error) noexcept {
    if (!w.parked) return;
    leave_waiting_list(w);
    w.error = std::move(error);
    ready_.push_back(w);
    for (LoopHooks* h : hooks_) h->woken(w);
}

void Loop::forget(Waiter& w) noexcept {
    if (w.parked) leave_waiting_list(w);
    w.unlink();
    w.loop = nullptr;
    for (LoopHooks* h : hooks_) h->forgotten(w);
}

bool Loop::run_once() {
    if (ready_.empty() && waiting_.empty()) return false;
    ++turns_;
    for (LoopHooks* h : hooks_) h->turn_began(turns_);

    // 1. Sleep in the selector: not at all if a coroutine is ready, otherwise
    //    until an fd is ready or the nearest deadline (nullopt: no deadline).
    Timeout timeout;
    if (!ready_.empty())
        timeout = std::chrono::nanoseconds(0);
    else if (!deadlines_.empty())
        timeout = deadlines_.top().deadline - Clock::now();
    const std::vector<Ready>& ready_fds = selector_->select(timeout);
    for (LoopHooks* h : hooks_) h->selected(timeout, ready_fds);

    // 2. Waiting list -> ready list: the waiters whose fd is ready...
    for (const Ready& r : ready_fds) wake(*static_cast<Waiter*>(r.key.data));
    // ...and those whose deadline has passed.
    for (auto now = Clock::now(); !deadlines_.empty() && deadlines_.top().deadline <= now;) {
        deadlines_.top().timed_out = true;
        wake(deadlines_.top());
    }

    // 3. Resume every coroutine that is ready now. Each runs until its next
    //    co_await parks it again; what they make ready runs next turn.
    List<Waiter> now_ready;
    now_ready.take_all(ready_);
    while (Waiter* w = now_ready.pop_front()) {
        w->loop = nullptr; // off the loop: from here on it belongs to its coroutine
        for (LoopHooks* h : hooks_) h->step_began(*w);
        w->handle.resume();
        for (LoopHooks* h : hooks_) h->step_ended();
    }
    for (LoopHooks* h : hooks_) h->turn_ended();
    return true;
}

} // namespace ladder::coro
