// run_in_executor with threads: 03's ThreadPool, joined to the loop by a
// Doorbell (doorbell.hpp).
//
//   ThreadExecutor threads(4);
//   Job<int> job = run_in_executor(threads, [] { return slow_blocking_call(); });
//   ... the loop keeps running other coroutines meanwhile ...
//   int x = co_await job;                 // its result, or the exception it threw
//
// Like asyncio's loop.run_in_executor(pool, f), the job starts at once: a
// pool thread runs f while the loop goes on. When f returns, the thread
// post()s the outcome and rings; the loop wakes the awaiting coroutine.
// Cancelling the Job stops the waiting, not the thread: a running function
// cannot be interrupted (asyncio cannot either); its result is dropped.
#pragma once

#include "doorbell.hpp"
#include "08_toolkit/job.hpp"
#include "03_thread_pool/thread_pool.hpp"

#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace ladder::coro {

class ThreadExecutor {
  public:
    explicit ThreadExecutor(int threads) : pool_(threads) {}
    int size() const noexcept { return pool_.size(); }
    Doorbell& doorbell() noexcept { return doorbell_; }
    ThreadPool& pool() noexcept { return pool_; }

  private:
    // Declared first, destroyed last: the pool's destructor finishes every
    // queued job and joins its threads, so no thread can post() to a
    // doorbell that is gone.
    Doorbell doorbell_;
    ThreadPool pool_;
};

namespace detail {

// A job's outcome, as the pool thread leaves it for the loop.
template <class R>
struct ThreadCompletion : Completion {
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
    std::exception_ptr error;

    R take() {
        if (error) std::rethrow_exception(error);
        if constexpr (!std::is_void_v<R>) return std::move(*value);
    }
};

template <class R>
Task<R> await_completion(Doorbell& doorbell, std::shared_ptr<ThreadCompletion<R>> job) {
    co_await doorbell.arrival(job);
    co_return job->take();
}

} // namespace detail

// loop.run_in_executor(executor, f): run f() on one of the executor's
// threads; the returned Job (stage 08) gives its result when awaited.
template <class F>
[[nodiscard]] auto run_in_executor(ThreadExecutor& executor, F f) -> Job<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto job = std::make_shared<detail::ThreadCompletion<R>>();
    Doorbell& doorbell = executor.doorbell();
    doorbell.expect();
    try {
        executor.pool().submit([job, &doorbell, f = std::move(f)]() mutable {
            // On a pool thread. Only `job` is written here, and post()'s
            // mutex hands it to the loop: nothing else is shared.
            try {
                if constexpr (std::is_void_v<R>) {
                    f();
                    job->value = true;
                } else {
                    job->value.emplace(f());
                }
            } catch (...) {
                job->error = std::current_exception();
            }
            doorbell.post(job);
        });
    } catch (...) {
        doorbell.unexpect();
        throw;
    }
    return create_task(detail::await_completion<R>(doorbell, std::move(job)));
}

// asyncio.wrap_future(future): an awaitable for a std::future. A std::future
// has no "call me when done" (concurrent.futures.Future has
// add_done_callback), so one of the executor's threads blocks in get() —
// the price of the wrapping — and the doorbell carries the result over.
template <class T>
[[nodiscard]] Job<T> wrap_future(ThreadExecutor& executor, std::future<T> future) {
    return run_in_executor(executor, [f = std::move(future)]() mutable { return f.get(); });
}

} // namespace ladder::coro
