// run_in_executor with threads: 03's ThreadPool, joined to the loop by a
// Doorbell (doorbell.hpp).
//
//   ThreadExecutor threads(loop, 4);
//   Job<int> job = run_in_executor(threads, [] { return slow_blocking_call(); });
//   ... the loop keeps running other coroutines meanwhile ...
//   int x = co_await job;                 // its result, or the exception it threw
//
// Like asyncio's loop.run_in_executor(pool, f), the job starts at once: a
// pool thread runs f while the loop goes on. When f returns, the thread
// posts "it arrived" to the loop; on the loop's thread that sets an Event
// the job's coroutine waits on. Cancelling the Job stops the waiting, not
// the thread: a running function cannot be interrupted (asyncio's cannot
// either); its result is dropped.
#pragma once

#include "doorbell.hpp"
#include "03_thread_pool/thread_pool.hpp"
#include "08_toolkit/event.hpp"
#include "08_toolkit/job.hpp"
#include "08_toolkit/wait.hpp"

#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace ladder::coro {

class ThreadExecutor {
  public:
    ThreadExecutor(Loop& loop, int threads) : doorbell_(loop), pool_(threads) {}
    int size() const noexcept { return pool_.size(); }
    Doorbell& doorbell() noexcept { return doorbell_; }
    ThreadPool& pool() noexcept { return pool_; }

  private:
    // Declared first, destroyed last: the pool's destructor finishes every
    // queued job and joins its threads, so no thread posts to a doorbell that
    // is gone.
    Doorbell doorbell_;
    ThreadPool pool_;
};

namespace detail {

// What a pool thread hands to the loop: 08's Result (a value or an error)
// and an Event. The thread writes the result, then posts; the doorbell's
// mutex makes it visible to the loop's thread, which alone touches `arrived`.
template <class R>
struct ThreadResult : Result<R> {
    Event arrived;
};

template <class R>
Task<R> await_result(std::shared_ptr<ThreadResult<R>> result) {
    co_await result->arrived.wait();
    if (result->error) std::rethrow_exception(result->error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result->value);
}

} // namespace detail

// loop.run_in_executor(executor, f): run f() on one of the executor's
// threads; the Job (stage 08) gives its result when awaited.
template <class F>
[[nodiscard]] auto run_in_executor(ThreadExecutor& executor, F f) -> Job<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto result = std::make_shared<detail::ThreadResult<R>>();
    executor.pool().submit([result, &doorbell = executor.doorbell(), f = std::move(f)]() mutable {
        try { // on a pool thread
            if constexpr (std::is_void_v<R>) {
                f();
                result->value = true;
            } else {
                result->value.emplace(f());
            }
        } catch (...) {
            result->error = std::current_exception();
        }
        doorbell.post([result] { result->arrived.set(); }); // on the loop's thread
    });
    return create_task(detail::await_result<R>(std::move(result)));
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
