// run_in_executor with processes: 02's pool of forked workers, driven from
// the loop.
//
//   ProcessExecutor processes(2, {{"cpu", cpu_job_text}});   // fork now, early
//   Job<std::string> job = run_in_executor(processes, "cpu", "70000000 1");
//   std::string answer = co_await job;
//
// A function cannot travel to another process (Python pickles a reference to
// it), so functions are named: fork() copies the table of named functions into every
// worker, and a request says which one to run. A worker's socket turns
// readable when its reply arrives (or the worker dies), so the coroutine that
// handed the job out simply waits on it in the loop's selector.
#pragma once

#include "02_process_pool/stepped_pool.hpp"
#include "08_toolkit/job.hpp"
#include "08_toolkit/waiters.hpp"
#include "07_coroutines/task.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace ladder::coro {

// A process job that gave no answer: it threw (the text says what), or its
// worker died (how: "killed by signal 9 ...").
struct ProcessJobError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ProcessExecutor {
  public:
    using NamedFunctions = std::map<std::string, WorkerFunction>; // name -> what a worker runs

    // Forks `workers` processes now. Make it before any thread starts (a
    // ThreadExecutor): fork() copies only the calling thread, and a lock
    // another thread held at that moment would stay locked in the child.
    ProcessExecutor(int workers, NamedFunctions functions);

    int size() const noexcept { return pool_.size(); }
    int alive() const noexcept { return pool_.alive(); }

    // Run job `name` with `argument` in some worker, waiting in the loop for
    // an idle one if all are busy. Throws ProcessJobError.
    Task<std::string> run(std::string name, std::string argument);

    // Close the workers' sockets and reap them (the destructor kills instead).
    void shutdown() { pool_.shutdown(); }

  private:
    void worker_freed() noexcept; // a worker finished a job, or died

    SteppedProcessPool pool_;
    Waiters idle_; // coroutines waiting for an idle worker
    int requests_ = 0;
};

// loop.run_in_executor(process_pool, job, argument): starts now; await the Job.
[[nodiscard]] inline Job<std::string> run_in_executor(ProcessExecutor& executor, std::string name,
                                                      std::string argument) {
    return create_task(executor.run(std::move(name), std::move(argument)));
}

} // namespace ladder::coro
