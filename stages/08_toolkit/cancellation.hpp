// Cancellation, built on 07's loop hooks (07_coroutines/hooks.hpp).
//
// Python's Task knows the one future it waits on. Ours are chains of
// coroutine frames, and the awaitable at the bottom (a Socket's recv, a
// sleep, a Lock) knows nothing of the job at the top. So the hooks watch:
// a job's first step runs under run_as(); each later step resumes some
// Waiter, and the job that parked it is running again. Every park meanwhile
// is noted as that job's. cancel(job) wakes the job's waiters with
// CancelledError, which their co_await throws: from there it is an ordinary
// exception that unwinds the job (destructors run, sockets close).
#pragma once

#include "07_coroutines/hooks.hpp"
#include "07_coroutines/loop.hpp"
#include "intrusive_list.hpp"

#include <string>
#include <vector>

#include <unordered_map>
#include <utility>

namespace ladder::coro {

// Thrown at the co_await of a cancelled job. Like Python's CancelledError (a
// BaseException since 3.8) it is not a std::exception, so the usual
// `catch (const std::exception&)` of a page does not swallow it.
struct CancelledError {
    const char* what() const noexcept { return "cancelled"; }
};

class JobBase; // job.hpp

class Cancellation : public LoopHooks {
  public:
    // Attaches to `loop` and becomes this thread's current one until destroyed.
    explicit Cancellation(Loop& loop);
    ~Cancellation() override;
    Cancellation(const Cancellation&) = delete;
    Cancellation& operator=(const Cancellation&) = delete;
    static Cancellation& current(); // outside of one, std::logic_error

    JobBase* running() const noexcept { return running_; }
    // Run f() as `job`: whatever it parks on is the job's.
    template <class F>
    void run_as(JobBase* job, F f) {
        JobBase* outer = std::exchange(running_, job);
        struct Restore {
            JobBase*& running;
            JobBase* outer;
            ~Restore() { running = outer; }
        } restore{running_, outer};
        f();
    }
    // Wake every waiter of `job` with CancelledError; if none is parked (the
    // job is about to run), its next co_await throws it instead.
    void cancel(JobBase& job);

    // The jobs made on this loop and not yet done (all_tasks(), job.hpp).
    void started(JobBase& job);
    std::vector<JobBase*> live_jobs() const;
    std::string next_job_name() { return "Job-" + std::to_string(++jobs_made_); }

  private:
    void parking(Waiter& w) override;
    void forgotten(Waiter& w) override { disown(w); }
    void step_began(Waiter& w) override { running_ = disown(w); }
    void step_ended() override { running_ = nullptr; }
    JobBase* disown(Waiter& w) noexcept; // w is resumed or gone: no longer the job's

    Loop& loop_;
    Cancellation* outer_;
    JobBase* running_ = nullptr;
    std::unordered_map<const Waiter*, JobBase*> owner_; // every parked waiter of a job
    List<JobBase> jobs_;                                // made, not yet done
    int jobs_made_ = 0;
};

} // namespace ladder::coro
