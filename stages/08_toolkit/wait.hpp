// Waiting for several Jobs (job.hpp) at once — asyncio's wait, wait_for,
// as_completed and gather(return_exceptions=True).
//
//   auto [done, pending] = co_await wait(cores, Return::first_completed);
//   Page p = co_await wait_for(fetch(...), 500ms);    // TimeoutError, job cancelled
//   AsCompleted next(cores); while (next.left()) { std::size_t i = co_await next(); ... }
//   auto results = co_await gather(jobs, /*return_exceptions=*/true);
//
// All of them park on one Event that every watched Job sets when it ends.
#pragma once

#include "error.hpp"
#include "event.hpp"
#include "job.hpp"
#include "sleep.hpp"
#include "07_coroutines/task.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace ladder::coro {

namespace detail {

// While alive, `event` is set whenever one of `jobs` ends.
class Watch {
  public:
    Watch(const std::vector<JobCore*>& jobs, Event& event) : jobs_(jobs), event_(event) {
        for (JobCore* j : jobs_) j->watchers.push_back(&event_);
    }
    ~Watch() {
        for (JobCore* j : jobs_) std::erase(j->watchers, &event_);
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

  private:
    std::vector<JobCore*> jobs_;
    Event& event_;
};

inline Task<void> alarm(Event& event, bool& rang, std::chrono::milliseconds after) {
    co_await sleep(after);
    rang = true;
    event.set();
}

} // namespace detail

// asyncio.FIRST_COMPLETED / ALL_COMPLETED.
enum class Return { first_completed, all_completed };

struct WaitResult {
    std::vector<std::size_t> done, pending; // indexes into the jobs given
};

// Until the first (or every) job ends, or `timeout` passes (no error then:
// look at `pending`). The jobs still pending keep running.
inline Task<WaitResult> wait(std::vector<JobCore*> jobs, Return when,
                             std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    Event changed;
    detail::Watch watch(jobs, changed);
    bool rang = false;
    Job<void> timer;
    if (timeout) timer = create_task(detail::alarm(changed, rang, *timeout));
    for (;;) {
        WaitResult r;
        for (std::size_t i = 0; i < jobs.size(); ++i)
            (jobs[i]->done ? r.done : r.pending).push_back(i);
        bool enough = when == Return::first_completed ? !r.done.empty() : r.pending.empty();
        if (enough || rang || jobs.empty()) {
            if (timer.valid()) timer.cancel(); // its sleep leaves the timer queue at once
            co_return r;
        }
        changed.clear();
        co_await changed.wait();
    }
}

// asyncio.wait_for(aw, timeout): the task's result, or — if it is not done
// within `timeout` — cancel it, wait until it has cleaned up, and throw
// TimeoutError.
template <class T>
Task<T> wait_for(Task<T> task, std::chrono::milliseconds timeout) {
    Job<T> job = create_task(std::move(task));
    std::vector<JobCore*> just_it{
        &job.core()}; // (a named vector: g++ 12 trips on a braced one here)
    co_await wait(std::move(just_it), Return::first_completed, timeout);
    if (!job.done()) {
        job.cancel();
        co_await job.finished(); // its sockets are closed when this returns
        throw TimeoutError("wait_for: not done after " + std::to_string(timeout.count()) + " ms");
    }
    co_return co_await job;
}

// asyncio.as_completed(jobs): `co_await next()` gives the index of the next
// job to end, in the order they end (ties: the order they ended in).
class AsCompleted {
  public:
    explicit AsCompleted(std::vector<JobCore*> jobs)
        : jobs_(std::move(jobs)), watch_(jobs_, changed_), given_(jobs_.size(), false),
          left_(jobs_.size()) {}
    std::size_t left() const noexcept { return left_; }

    Task<std::size_t> operator()() {
        for (;;) {
            std::optional<std::size_t> first;
            for (std::size_t i = 0; i < jobs_.size(); ++i)
                if (!given_[i] && jobs_[i]->done &&
                    (!first || jobs_[i]->finished_seq < jobs_[*first]->finished_seq))
                    first = i;
            if (first) {
                given_[*first] = true;
                --left_;
                co_return *first;
            }
            changed_.clear();
            co_await changed_.wait();
        }
    }

  private:
    std::vector<JobCore*> jobs_;
    Event changed_;
    detail::Watch watch_;
    std::vector<bool> given_;
    std::size_t left_;
};

// One job's outcome, for gather(..., return_exceptions = true).
template <class T>
struct Result {
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
    std::exception_ptr error;
    bool ok() const noexcept { return !error; }
};

// asyncio.gather(*jobs, return_exceptions=...): every result, in the jobs'
// order. Without return_exceptions the first error (first in time) is
// rethrown at once and the other jobs go on running (as in asyncio); with
// it, errors are results like any other.
template <class T>
Task<std::vector<Result<T>>> gather(std::vector<Job<T>>& jobs, bool return_exceptions) {
    std::vector<JobCore*> cores;
    for (Job<T>& j : jobs) cores.push_back(&j.core());
    AsCompleted next(cores);
    while (next.left()) {
        std::size_t i = co_await next();
        if (cores[i]->error && !return_exceptions) std::rethrow_exception(cores[i]->error);
    }
    std::vector<Result<T>> results(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        try {
            if constexpr (std::is_void_v<T>) {
                co_await jobs[i];
                results[i].value.emplace();
            } else {
                results[i].value.emplace(co_await jobs[i]);
            }
        } catch (...) {
            results[i].error = std::current_exception();
        }
    }
    co_return results;
}

} // namespace ladder::coro
