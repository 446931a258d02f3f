// Waiting for several jobs (job.hpp) at once — asyncio's wait, wait_for,
// as_completed and gather(return_exceptions=True).
//
//   WaitResult r = co_await wait(jobs, Return::first_completed);   // r.done, r.pending
//   Page p = co_await wait_for(fetch(...), 500ms);    // TimeoutError, the task cancelled
//   AsCompleted next(jobs); while (next.left()) { std::size_t i = co_await next(); ... }
//   std::vector<Result<T>> all = co_await gather_results(jobs);
//
// Each of them parks on one Event that every watched job sets when it ends.
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
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ladder::coro {

// asyncio.FIRST_COMPLETED / ALL_COMPLETED.
enum class Return { first_completed, all_completed };

struct WaitResult {
    std::vector<std::size_t> done, pending; // indexes into the jobs given
};

// The jobs of a vector as wait() and AsCompleted take them: jobs of
// different T can be waited for together, through what every job has.
template <class T>
std::vector<JobBase*> bases(std::vector<Job<T>>& jobs) {
    std::vector<JobBase*> b;
    for (auto& j : jobs) b.push_back(&j.base());
    return b;
}

namespace detail {
// An Event set whenever one of `jobs` ends. Shared: a callback may run after
// the waiting coroutine has gone.
inline std::shared_ptr<Event> on_any_end(const std::vector<JobBase*>& jobs) {
    auto changed = std::make_shared<Event>();
    for (JobBase* j : jobs) j->add_done_callback([changed] { changed->set(); });
    return changed;
}
} // namespace detail

// Until the first (or every) job ends, or `timeout` passes — no error then:
// look at `pending`. The jobs still pending keep running.
inline Task<WaitResult> wait(std::vector<JobBase*> jobs, Return when,
                             std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    auto changed = detail::on_any_end(jobs);
    auto deadline = timeout ? Clock::now() + *timeout : never;
    for (;;) {
        WaitResult r;
        for (std::size_t i = 0; i < jobs.size(); ++i)
            (jobs[i]->done() ? r.done : r.pending).push_back(i);
        bool enough = when == Return::first_completed ? !r.done.empty() : r.pending.empty();
        if (enough || jobs.empty() || Clock::now() >= deadline) co_return r;
        changed->clear();
        if (timeout) { // whichever comes first: a job's end, or the deadline
            Job<void> alarm = create_task([](Clock::time_point d, Event& e) -> Task<void> {
                co_await sleep_until(d);
                e.set();
            }(deadline, *changed));
            co_await changed->wait();
            alarm.cancel(); // its sleep leaves the timers now
            co_await alarm.finished();
        } else {
            co_await changed->wait();
        }
    }
}

template <class T>
Task<WaitResult> wait(std::vector<Job<T>>& jobs, Return when,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return wait(bases(jobs), when, timeout);
}

// asyncio.wait_for(aw, timeout): the task's result, or — if it is not done
// within `timeout` — cancel it, wait until it has cleaned up, and throw
// TimeoutError.
template <class T>
Task<T> wait_for(Task<T> task, std::chrono::milliseconds timeout) {
    Job<T> job = create_task(std::move(task));
    std::vector<JobBase*> just_it{&job.base()}; // (named: g++ 12 trips on a braced list here)
    co_await wait(std::move(just_it), Return::first_completed, timeout);
    if (!job.done()) {
        job.cancel();
        co_await job.finished(); // its sockets are closed when this returns
        throw TimeoutError("wait_for: not done after " + std::to_string(timeout.count()) + " ms");
    }
    co_return co_await job;
}

// asyncio.as_completed(jobs): `co_await next()` gives the index of the next
// job to end, in the order they ended.
class AsCompleted {
  public:
    explicit AsCompleted(std::vector<JobBase*> jobs)
        : jobs_(std::move(jobs)), changed_(detail::on_any_end(jobs_)), given_(jobs_.size()) {}
    template <class T>
    explicit AsCompleted(std::vector<Job<T>>& jobs) : AsCompleted(bases(jobs)) {}
    std::size_t left() const noexcept { return jobs_.size() - given_count_; }

    Task<std::size_t> operator()() {
        for (;;) {
            std::optional<std::size_t> first;
            for (std::size_t i = 0; i < jobs_.size(); ++i)
                if (!given_[i] && jobs_[i]->done() &&
                    (!first || jobs_[i]->finished_seq() < jobs_[*first]->finished_seq()))
                    first = i;
            if (first) {
                given_[*first] = true;
                ++given_count_;
                co_return *first;
            }
            changed_->clear();
            co_await changed_->wait();
        }
    }

  private:
    std::vector<JobBase*> jobs_;
    std::shared_ptr<Event> changed_;
    std::vector<bool> given_;
    std::size_t given_count_ = 0;
};

// One job's outcome: a value, or the exception it ended with.
template <class T>
struct Result {
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    std::exception_ptr error;
    bool ok() const noexcept { return !error; }
};

// asyncio.gather(*jobs, return_exceptions=True): every job's outcome, in
// the jobs' order, once all have ended; an error is an outcome like any other.
// Cancelling the gathering cancels the jobs it gathers, as asyncio's does.
template <class T>
Task<std::vector<Result<T>>> gather_results(std::vector<Job<T>>& jobs) {
    std::vector<Result<T>> results(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        try {
            co_await jobs[i].finished();
        } catch (const CancelledError&) { // we are cancelled (not a job): so are they
            for (Job<T>& job : jobs) job.cancel();
            throw;
        }
        try {                        // the job has ended: what comes out now is its outcome
            if constexpr (std::is_void_v<T>) {
                co_await jobs[i];
                results[i].value.emplace(true);
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
