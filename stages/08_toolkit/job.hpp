// Job<T>: a Task running on its own, that can be cancelled — what
// asyncio.create_task() returns (an asyncio.Task).
//
//   Job<Page> job = create_task(fetch(...));   // starts now, runs concurrently
//   job.cancel();                               // CancelledError at its co_await
//   Page p = co_await job;                      // its result, or its exception
//
// How cancellation reaches the right co_await: every Job has an id; while its
// coroutines run, the loop's current_task() is that id, and every waiter they
// park on (a socket, a timer, a Lock...) is tagged with it. cancel() asks the
// loop to wake those waiters with Outcome::cancelled, and their await_resume
// throws CancelledError — which unwinds the coroutine like any exception:
// destructors run, sockets close, and the Job is done.
#pragma once

#include "event.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/task.hpp"

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace ladder::coro {

// What every Job has, whatever T is: wait.hpp works with these.
struct JobCore {
    std::uint32_t id = 0;
    bool done = false;
    std::uint64_t finished_seq = 0; // completion order (as_completed)
    std::exception_ptr error;       // set when it ended by an exception
    Event finished;                 // set when it ends
    std::vector<Event*> watchers;   // also set when it ends (wait, as_completed)

    bool cancelled() const {
        if (!error) return false;
        try {
            std::rethrow_exception(error);
        } catch (const CancelledError&) {
            return true;
        } catch (...) {
            return false;
        }
    }
};

namespace detail {
inline std::uint32_t last_job_id = 0;
inline std::uint64_t last_finished_seq = 0;

// Resume the runner when `inner` ends, leaving its result in its promise.
template <class T>
struct RunInner {
    Task<T>& inner;
    bool await_ready() const noexcept { return inner.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> runner) noexcept {
        inner.handle().promise().continuation = runner;
        return inner.handle();
    }
    void await_resume() const noexcept {}
};
} // namespace detail

template <class T>
class Job {
  public:
    Job() = default;
    bool valid() const noexcept { return bool(state_); }
    bool done() const noexcept { return state_->core.done; }
    bool cancelled() const { return state_->core.cancelled(); }
    JobCore& core() const noexcept { return state_->core; }

    // Ask the job to stop: CancelledError at the co_await where it is parked
    // (or at its next one). Await the job (or finished()) to see it end.
    void cancel() noexcept {
        if (!done()) Loop::current().cancel(state_->core.id);
    }

    // co_await job.finished(): until it ends, without taking its result.
    Event::Awaiter finished() const noexcept { return state_->core.finished.wait(); }

    struct Awaiter {
        Job& job;
        Event::Awaiter until_done;
        bool await_ready() const noexcept { return until_done.await_ready(); }
        void await_suspend(std::coroutine_handle<> self) { until_done.await_suspend(self); }
        T await_resume() {
            until_done.await_resume();
            return job.state_->inner.handle().promise().take_result();
        }
    };
    Awaiter operator co_await() noexcept { return Awaiter{*this, finished()}; }

    // Destroying an unfinished Job destroys its coroutines where they are
    // parked (no exception, no catch blocks): cancel and await it first.
    ~Job() {
        if (state_) {
            state_->runner = Task<void>();
            state_->inner = Task<T>();
        }
    }
    Job(Job&&) noexcept = default;
    Job& operator=(Job&&) noexcept = default;

  private:
    struct State {
        JobCore core;
        Task<T> inner;
        Task<void> runner;
    };
    static Task<void> run(State& s) {
        co_await detail::RunInner<T>{s.inner};
        s.core.done = true;
        s.core.error = s.inner.handle().promise().error;
        s.core.finished_seq = ++detail::last_finished_seq;
        Loop::current().forget_task(s.core.id); // a cancel that came too late
        s.core.finished.set();
        for (Event* e : s.core.watchers) e->set();
    }
    template <class U>
    friend Job<U> create_task(Task<U> task);

    std::unique_ptr<State> state_;
};

// asyncio.create_task(coro): start `task` now — it runs up to its first
// co_await — under a fresh id, and hand back the Job.
template <class T>
[[nodiscard]] Job<T> create_task(Task<T> task) {
    Job<T> job;
    job.state_ = std::make_unique<typename Job<T>::State>();
    auto& s = *job.state_;
    s.core.id = ++detail::last_job_id;
    s.inner = std::move(task);
    s.runner = Job<T>::run(s);
    Loop& loop = Loop::current();
    std::uint32_t outer = loop.current_task();
    loop.set_current_task(s.core.id); // what it parks on now is tagged with its id
    start(s.runner);
    loop.set_current_task(outer);
    return job;
}

} // namespace ladder::coro
