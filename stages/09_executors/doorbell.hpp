// The doorbell: how a thread that is not the loop's hands a finished job to
// the loop — asyncio's call_soon_threadsafe() and its "self-pipe".
//
// The loop sleeps in the selector; a pool thread cannot touch the loop's
// lists (they are not locked: only the loop's thread uses them). So the
// thread leaves the job in a mailbox, under a mutex, and writes to an
// eventfd. The eventfd is one more fd in the loop's selector: the write wakes
// the loop, whose answering coroutine (answer()) empties the mailbox and puts
// every coroutine awaiting one of those jobs on the ready list.
//
// One eventfd serves every job of the executor. Nothing polls: while jobs
// run, the loop sleeps in epoll_wait like for any socket.
#pragma once

#include "07_coroutines/lists.hpp"
#include "07_coroutines/loop.hpp"
#include "net.hpp"
#include "07_coroutines/task.hpp"

#include <coroutine>
#include <memory>
#include <mutex>
#include <vector>

namespace ladder::coro {

// A job handed to another thread. That thread fills in the outcome (in a
// subclass), then post()s it; from then on only the loop's thread touches it.
struct Completion {
    virtual ~Completion() = default;
    bool arrived = false;     // loop thread: the doorbell has delivered it
    Waiter* waiter = nullptr; // loop thread: the coroutine parked until it arrives
};

class Doorbell {
  public:
    Doorbell(); // opens the eventfd; may be made before the loop runs
    ~Doorbell();
    Doorbell(const Doorbell&) = delete;
    Doorbell& operator=(const Doorbell&) = delete;

    // Loop thread, before handing a job to another thread: one more post()
    // to wait for. The answering coroutine runs while any is expected.
    void expect();
    // Loop thread: a job that will never be post()ed after all (submit failed).
    void unexpect() noexcept { --expected_; }

    // Any thread: hand `job` to the loop and ring (call_soon_threadsafe).
    void post(std::shared_ptr<Completion> job);

    int fd() const noexcept { return bell_.get(); }
    int expected() const noexcept { return expected_; }
    std::uint64_t rings() const noexcept { return rings_; } // times the loop woke for it

    // co_await doorbell.arrival(job): park until the doorbell delivers `job`.
    // Cancellable (stage 08): the job runs on, its outcome is dropped.
    class Arrival {
      public:
        explicit Arrival(std::shared_ptr<Completion> job) noexcept : job_(std::move(job)) {}
        Arrival(const Arrival&) = delete;
        Arrival& operator=(const Arrival&) = delete;
        ~Arrival() {
            if (job_->waiter == &waiter_) job_->waiter = nullptr; // left early: don't wake us
        }
        bool await_ready() const noexcept { return job_->arrived; }
        void await_suspend(std::coroutine_handle<> self) {
            waiter_.handle = self;
            Loop::current().park_elsewhere(waiter_); // throws CancelledError if cancelled
            job_->waiter = &waiter_;
        }
        void await_resume() {
            job_->waiter = nullptr;
            if (waiter_.outcome == Waiter::Outcome::cancelled) throw CancelledError{};
        }

      private:
        std::shared_ptr<Completion> job_;
        Waiter waiter_;
    };
    Arrival arrival(std::shared_ptr<Completion> job) { return Arrival(std::move(job)); }

  private:
    Task<void> answer(); // the loop side: wait for a ring, deliver what arrived
    void drop_stale_answer() noexcept;
    void deliver(Completion& job) noexcept;

    Fd bell_; // the eventfd
    std::mutex mutex_;
    std::vector<std::shared_ptr<Completion>> mailbox_; // guarded by mutex_
    int expected_ = 0;                                 // loop thread only
    std::uint64_t rings_ = 0;                          // loop thread only
    Waiter ring_; // answer() parks here, on bell_ (kept here: see drop_stale_answer)
    std::uint64_t answering_in_ = 0; // the serial of the loop answer() runs in
    Task<void> answering_;           // loop thread only
};

} // namespace ladder::coro
