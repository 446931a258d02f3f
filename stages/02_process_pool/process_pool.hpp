// A pool of forked worker processes — the seed's ProcessPoolExecutor, by hand.
//
// Each worker is a copy of this process, forked once, that loops: read a
// request from its socketpair, run the worker function on it, write the reply back. The
// parent keeps every worker busy with one request at a time and waits on all
// their sockets with poll(). A socket that ends before its reply means the
// worker died: its request fails, the parent reaps the worker, and the
// remaining requests go to the workers still alive.
#pragma once

#include "net.hpp"

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace ladder {

// What a worker runs, inside its own process: one request in, one reply out.
// It may throw (the exception's text comes back) or even crash (the parent
// finds out and carries on).
using WorkerFunction = std::function<std::string(const std::string& request)>;

// A request's outcome, as the parent sees it.
struct Outcome {
    bool ok = false;
    std::string text; // the job's reply; or why it failed: what it threw, how its worker died
};

class ProcessPool {
  public:
    // Forks `workers` processes now, before the caller allocates much: each
    // child gets a copy of the parent's memory. Throws SysError if a fork
    // fails (after stopping the workers already started).
    ProcessPool(int workers, WorkerFunction function);
    ~ProcessPool(); // stop()s whatever is still running: never leaves a worker behind
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;

    struct Callbacks {
        std::function<void(int request, int worker)> started;      // handed to worker 0..size-1
        std::function<void(int request, const Outcome&)> finished; // its outcome is known
    };
    // Runs every request, each on some worker, at most one per worker at a
    // time. Returns true when all have finished; false, at once, when
    // `stop_fd` (e.g. StopSignals::fd()) becomes readable first.
    bool map(const std::vector<std::string>& requests, const Callbacks& callbacks,
             int stop_fd = -1);

    // The end of a run: close every worker's socket (an idle worker reads end
    // of stream and exits), then reap them all with waitpid().
    void shutdown();
    // The end of an interrupted run: SIGKILL every worker, then reap them all.
    void stop();

    int size() const noexcept { return static_cast<int>(workers_.size()); } // forked
    int alive() const noexcept;                                             // not yet reaped

    // The steps map() is made of, one worker at a time, for a caller that
    // waits on the workers' sockets in its own event loop (stage 09):
    // hand_out() a request to an idle worker, wait until socket_of() it is
    // readable (its reply, or its death), then take_reply(). Workers are
    // numbered 0..size-1.
    int idle_worker() const noexcept; // an idle worker's number, or -1 if none is idle
    void hand_out(int worker, int request, const std::string& message);
    int socket_of(int worker) const noexcept { return workers_[index(worker)].socket.get(); }
    Outcome take_reply(int worker);
    // SIGKILL one worker and reap it: for a reply nobody will take any more.
    void kill_worker(int worker);

  private:
    struct Worker {
        pid_t pid = -1;   // -1 once reaped
        Fd socket;        // the parent's end of the socketpair
        int request = -1; // the request it is working on, -1 when idle
        bool idle() const { return pid > 0 && request < 0; }
        bool busy() const { return pid > 0 && request >= 0; }
    };

    void start_worker();
    static std::size_t index(int worker) noexcept { return static_cast<std::size_t>(worker); }
    std::string reap(Worker& w); // waitpid; returns how the worker ended

    WorkerFunction function_;
    std::vector<Worker> workers_;
};

} // namespace ladder
