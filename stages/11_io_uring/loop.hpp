// The event loop of completion I/O: 07's loop (07_coroutines/loop.hpp) with
// the ring where the selector was.
//
//   the READY list      coroutines that can run now (as in 07)
//   the IN-FLIGHT list  coroutines parked on an operation the kernel is
//                       doing for them; its completion names their
//                       Operation (user_data), so nobody searches the list
//
// and run_once(), one turn: ONE io_uring_enter hands the kernel every request
// queued since the last turn and, unless a coroutine is ready, sleeps until a
// completion arrives; each completion moves its coroutine to the ready list;
// then every coroutine that was ready at that moment runs.
//
// Deadlines are the kernel's job here: a request with a deadline is linked to
// a timeout (submit()), and the kernel cancels it when the deadline passes.
#pragma once

#include "ring.hpp"

#include "07_coroutines/task.hpp"
#include "intrusive_list.hpp"
#include "net.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace ladder::uring {

class Loop;
using coro::Task;

inline constexpr Clock::time_point never = Clock::time_point::max();

// A coroutine parked on one request it submitted (07's Waiter, for
// completions). It lives in the coroutine's frame, in the awaitable, and the
// request names it, so the frame must outlive the request's completion: if
// the frame is destroyed first, ~Operation cancels the request and waits for
// its completion (Loop::forget).
struct Operation : Link {
    std::coroutine_handle<> handle; // the coroutine to resume
    int result = 0;                 // the completion's res: bytes (>= 0) or -errno
    Loop* loop = nullptr;           // the loop it is on (in flight or ready), or null
    bool in_flight = false;         // submitted; its completion has not arrived
    __kernel_timespec deadline{};   // its timeout's; the kernel reads it when submitted

    Operation() noexcept = default;
    ~Operation(); // at the end of this file
};

class Loop {
  public:
    // Opens the ring (throws RingUnavailable) and becomes this thread's
    // current loop until it is destroyed.
    Loop();
    // Waits for every completion still owed (a close, a timeout), then closes the ring.
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    static Loop& current();
    static Loop* current_or_null() noexcept;

    // Queue a request for op's coroutine: prep(sqe) writes it. With a
    // deadline, a timeout is linked to it: if the deadline passes first, the
    // kernel cancels the request, which completes with -ECANCELED.
    template <class Prep>
    void submit(Operation& op, std::coroutine_handle<> self, Clock::time_point deadline, Prep prep);
    // Queue a request nobody waits for (a close): its completion is only counted.
    template <class Prep>
    void submit_unwatched(Prep prep);
    // Take op off the loop without resuming it (~Operation). If the kernel
    // still has its request, cancel that and wait for the completion first.
    void forget(Operation& op) noexcept;

    // One turn. Returns false, doing nothing, when no coroutine is ready or in flight.
    bool run_once();
    template <class T>
    T run_until_complete(Task<T> main) { // 07's, word for word
        main.start();
        while (!main.done())
            if (!run_once())
                throw std::logic_error("the loop has nothing left to run or wait for, but the "
                                       "main task is not done (it awaits what nothing will end)");
        return main.result();
    }

    std::size_t in_flight() const noexcept { return in_flight_count_; }
    std::size_t owed() const noexcept { return owed_; } // completions still to come, of any request
    std::uint64_t turns() const noexcept { return turns_; }

  private:
    void take_completions();

    Ring ring_;
    List<Operation> ready_, in_flight_;
    std::size_t in_flight_count_ = 0, owed_ = 0;
    std::uint64_t turns_ = 0;
    Loop* outer_;
};

template <class Prep>
void Loop::submit(Operation& op, std::coroutine_handle<> self, Clock::time_point deadline,
                  Prep prep) {
    bool timed = deadline != never;
    io_uring_sqe& sqe = ring_.next_sqe(timed ? 1 : 0);
    prep(sqe);
    io_uring_sqe_set_data(&sqe, &op); // the completion will name op
    if (timed) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
        op.deadline = {ns.count() / 1'000'000'000, ns.count() % 1'000'000'000};
        io_uring_sqe_set_flags(&sqe, IOSQE_IO_LINK); // the next request is linked to this one
        io_uring_sqe& timeout = ring_.next_sqe();
        io_uring_prep_link_timeout(&timeout, &op.deadline, IORING_TIMEOUT_ABS); // CLOCK_MONOTONIC
        io_uring_sqe_set_data64(&timeout, 0); // its own completion is only counted
        ++owed_;
    }
    op.handle = self;
    op.loop = this;
    op.in_flight = true;
    in_flight_.push_back(op);
    ++in_flight_count_;
    ++owed_;
}

template <class Prep>
void Loop::submit_unwatched(Prep prep) {
    io_uring_sqe& sqe = ring_.next_sqe();
    prep(sqe);
    io_uring_sqe_set_data64(&sqe, 0);
    ++owed_;
}

inline Operation::~Operation() {
    if (loop) loop->forget(*this); // the loop it is on: never "whichever loop is current"
}

} // namespace ladder::uring
