// A pool of forked worker processes — the seed's ProcessPoolExecutor, by hand.
//
// Each worker is a copy of this process, forked once, that loops: read a
// request from its socketpair, run the worker function on it, write the reply
// back. The parent keeps every worker busy with one request at a time and
// sleeps in poll() on all their sockets until a reply comes.
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
    std::string text; // the reply; or why it failed: what it threw, how its worker died
};

class ProcessPool {
  public:
    // Forks `workers` processes now, before the caller allocates much: each
    // child starts as a copy of the parent's memory. Throws SysError if a fork
    // fails (after stopping the workers already started).
    ProcessPool(int workers, WorkerFunction function);
    ~ProcessPool() { stop(); } // never leaves a worker behind
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

    // The end of a run: close every worker's socket (each reads end of stream
    // and exits), then wait for them all with waitpid().
    void shutdown();
    // The end of an interrupted run: SIGKILL every worker, then wait for them
    // all (robustness.cpp).
    void stop();

    int size() const noexcept { return static_cast<int>(workers_.size()); } // forked
    int alive() const noexcept; // not yet reaped (robustness.cpp: workers can die)

  protected: // stage 09's SteppedProcessPool (stepped_pool.hpp) drives these itself
    struct Worker {
        pid_t pid = -1;   // -1 once reaped
        Fd socket;        // the parent's end of the socketpair
        int request = -1; // the request it is working on, -1 when idle
        bool idle() const { return pid > 0 && request < 0; }
        bool busy() const { return pid > 0 && request >= 0; }
    };

    void hand_out(int worker, int request, const std::string& message);
    Outcome take_reply(int worker); // the worker's socket is readable: its reply, or its death
    std::string reap(Worker& w);    // waitpid(); returns how the worker ended
    Worker& at(int worker) { return workers_[static_cast<std::size_t>(worker)]; }

    WorkerFunction function_;
    std::vector<Worker> workers_;
};

} // namespace ladder
