#include "loop.hpp"

#include <cstdio>

namespace ladder::uring {

namespace {
thread_local Loop* current_loop = nullptr;
constexpr unsigned sq_entries = 4096; // requests queued between two enters, at most
} // namespace

Loop::Loop() : ring_(sq_entries), outer_(current_loop) {
    current_loop = this;
}

Loop::~Loop() {
    current_loop = outer_;
    // Coroutines should not outlive their loop (as in 07). Those that do
    // cannot be cut loose as 07 does: the kernel still holds their requests,
    // which may write into their frames. Cancel each and wait.
    std::size_t stranded = 0;
    for (; Operation* op = in_flight_.pop_front(); ++stranded) forget(*op);
    for (; Operation* op = ready_.pop_front(); ++stranded) op->loop = nullptr;
    if (stranded)
        std::fprintf(stderr,
                     "event loop destroyed with %zu coroutine(s) still on it; they will "
                     "never resume (destroy their Tasks before the loop)\n",
                     stranded);
    // Requests nobody waits for (closes, timeouts) end soon: wait for them,
    // so no socket is left open and no request outlives the ring.
    try {
        while (owed_ > 0) {
            ring_.enter(true);
            take_completions();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "event loop: %s while waiting for its last completions\n", e.what());
    }
}

Loop& Loop::current() {
    if (!current_loop) throw std::logic_error("no event loop: call this inside run()");
    return *current_loop;
}

Loop* Loop::current_or_null() noexcept {
    return current_loop;
}

void Loop::take_completions() {
    ring_.for_each_completion([this](std::uint64_t data, int res) {
        --owed_;
        if (data == 0) return; // a close, a timeout or a cancel: nobody waits for it
        auto& op = *reinterpret_cast<Operation*>(data);
        op.result = res;
        op.in_flight = false;
        --in_flight_count_;
        ready_.push_back(op); // off the in-flight list, onto the ready list
    });
}

// noexcept: if the ring fails here, the frame must not be freed under the
// kernel's feet, and there is no way back: terminate.
void Loop::forget(Operation& op) noexcept {
    if (op.in_flight) {
        submit_unwatched([&op](io_uring_sqe& sqe) { io_uring_prep_cancel(&sqe, &op, 0); });
        // Until its completion arrives, the kernel may still write into the
        // frame (a recv's buffer) and will post a completion naming op.
        while (op.in_flight) {
            ring_.enter(true);
            take_completions(); // the others go to the ready list, as in any turn
        }
    }
    op.unlink();
    op.loop = nullptr;
}

bool Loop::run_once() {
    if (ready_.empty() && in_flight_.empty()) return false;
    ++turns_;

    // 1. One enter: submit what the last turn queued and, unless a coroutine
    //    is ready, sleep until a completion arrives.
    ring_.enter(ready_.empty());
    // 2. In flight -> ready: every completion that has arrived.
    take_completions();
    // 3. Resume every coroutine that is ready now (07's step 3). Each runs
    //    until its next co_await queues a request; those go in next turn.
    List<Operation> now_ready;
    now_ready.take_all(ready_);
    while (Operation* op = now_ready.pop_front()) {
        op->loop = nullptr; // off the loop: from here on it belongs to its coroutine
        op->handle.resume();
    }
    return true;
}

} // namespace ladder::uring
