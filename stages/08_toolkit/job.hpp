// Job<T>: a Task running on its own, that can be cancelled — what
// asyncio.create_task() returns (an asyncio.Task).
//
//   Job<Page> job = create_task(fetch(...));   // starts now, runs concurrently
//   job.cancel();                               // CancelledError at its co_await
//   Page p = co_await job;                      // its result, or its exception
//
// A job is one more coroutine around the task: it awaits the task, keeps
// the outcome, and wakes whoever waits for the job to end.
#pragma once

#include "cancellation.hpp"
#include "intrusive_list.hpp"
#include "waiters.hpp"
#include "07_coroutines/task.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ladder::coro {

template <class T>
class Job;
template <class T>
Job<T> create_task(Task<T> task, std::string name = {});

// What every job has, whatever T is: wait.hpp works with these. A job is on
// its Cancellation's list of jobs (a Link) from create_task() to its end.
class JobBase : public Link {
  public:
    JobBase() = default;
    JobBase(const JobBase&) = delete;
    JobBase& operator=(const JobBase&) = delete;
    virtual ~JobBase() = default;

    const std::string& name() const noexcept { return name_; } // "Job-3", or the one given
    // "running", "ready", "waiting at fetch:29 (fd 9 to read)", "done",
    // "cancelled", "failed: <what>" — asyncio's Task repr, in words.
    std::string state() const;

    bool done() const noexcept { return done_; }
    bool cancelled() const noexcept { return done_ && cancelled_; }
    bool cancelling() const noexcept { return cancel_pending_; } // cancelled, not yet told
    std::exception_ptr error() const noexcept { return error_; } // how it failed, if it did
    std::uint64_t finished_seq() const noexcept { return finished_seq_; } // completion order

    // Ask it to stop: CancelledError at the co_await where it is parked (or
    // at its next one). co_await finished() to see it end.
    void cancel() { Cancellation::current().cancel(*this); }
    // co_await job.finished(): until it has ended, however it ended.
    Task<void> finished(unsigned line = __builtin_LINE()) {
        if (!done_) co_await finished_.wait(line);
    }
    // Called once it has ended (at once if it has); asyncio's add_done_callback.
    void add_done_callback(std::function<void()> f) {
        if (done_)
            f();
        else
            callbacks_.push_back(std::move(f));
    }

  protected:
    void finish(std::exception_ptr error); // the job's coroutine ended (job.cpp)

  private:
    friend class Cancellation;
    template <class U>
    friend Job<U> create_task(Task<U> task, std::string name);
    std::string name_;
    bool done_ = false, cancelled_ = false;
    bool cancel_pending_ = false;      // cancelled while not parked: its next park throws
    std::vector<Waiter*> parked_;      // where its coroutines are parked (Cancellation)
    std::exception_ptr error_;
    std::uint64_t finished_seq_ = 0;
    Waiters finished_;
    std::vector<std::function<void()>> callbacks_;
};

template <class T>
class [[nodiscard]] Job {
  public:
    Job() = default; // empty: no job
    bool valid() const noexcept { return bool(state_); }
    JobBase& base() const {
        if (!state_) throw std::logic_error("an empty Job (moved from, or never made)");
        return *state_;
    }
    bool done() const { return base().done(); }
    bool cancelled() const { return base().cancelled(); }
    void cancel() { base().cancel(); }
    Task<void> finished(unsigned line = __builtin_LINE()) { return base().finished(line); }

    // co_await job (or job.result()): until it ends; then its value, or its exception.
    Task<T> result() {
        co_await base().finished();
        if (state_->error()) std::rethrow_exception(state_->error());
        if constexpr (!std::is_void_v<T>) co_return std::move(*state_->value);
    }
    struct Awaiter { // result()'s Task, kept alive while it is awaited
        Task<T> task;
        typename Task<T>::Awaiter inner = task.operator co_await();
        bool await_ready() { return inner.await_ready(); }
        auto await_suspend(std::coroutine_handle<> h) { return inner.await_suspend(h); }
        T await_resume() { return inner.await_resume(); }
    };
    Awaiter operator co_await() { return Awaiter{result()}; }

  private:
    struct State : JobBase {
        using JobBase::finish;
        std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
        Task<void> runner; // last: destroyed first, while the rest of the state lives
    };
    static Task<void> run(Task<T> task, State& state) {
        try {
            if constexpr (std::is_void_v<T>)
                co_await task;
            else
                state.value.emplace(co_await task);
        } catch (...) {
            state.finish(std::current_exception());
            co_return;
        }
        state.finish(nullptr);
    }
    template <class U>
    friend Job<U> create_task(Task<U> task, std::string name);

    std::unique_ptr<State> state_;
};

// asyncio.create_task(coro, name=...): start `task` now, as a job of its own
// — it runs up to its first co_await — and hand back the Job. Destroying an
// unfinished Job destroys its coroutines where they are parked: cancel and
// await it first.
template <class T>
Job<T> create_task(Task<T> task, std::string name) {
    Cancellation& cancellation = Cancellation::current();
    Job<T> job;
    job.state_ = std::make_unique<typename Job<T>::State>();
    auto& state = *job.state_;
    state.name_ = name.empty() ? cancellation.next_job_name() : std::move(name);
    cancellation.started(state);
    state.runner = Job<T>::run(std::move(task), state);
    cancellation.run_as(&state, [&] { state.runner.start(); });
    return job;
}

// asyncio.current_task() and all_tasks(): the job running now (null: none),
// and every job not yet done, in the order they were made.
inline JobBase* current_task() {
    return Cancellation::current().running();
}
inline std::vector<JobBase*> all_tasks() {
    return Cancellation::current().live_jobs();
}

// asyncio.shield(job): an awaitable for the job's result whose cancellation
// stops only the waiting, never the job — `co_await wait_for(shield(job), ms)`
// times out, and the job goes on. The job belongs to the caller, who awaits
// it again later.
template <class T>
Task<T> shield(Job<T>& job) {
    co_return co_await job;
}

} // namespace ladder::coro
