// When something goes wrong — what keeps the pool from leaking a process or a
// file descriptor, or from hanging:
//   - a worker dies with its parent, even one killed by SIGKILL (death signal);
//   - a worker inherits only its own socket (fd closing);
//   - a worker function that throws: its text comes back as the reply;
//   - a worker that crashes fails its own request and is reaped; the others
//     carry on, and when none is left the rest fail (crash recovery);
//   - Ctrl-C is the parent's alone: it kills and reaps every worker
//     (ProcessPool::stop(), defined here, with ProcessPool::alive()).
#pragma once

#include "process_pool.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace ladder {

// In the child, first thing after fork(): ask the kernel to kill it when the
// parent dies, ignore Ctrl-C, and close every fd but stdin/out/err and `socket`.
void isolate_worker(int socket, pid_t parent);

// Runs the worker function on a request, in the worker. What it throws must
// not take the worker down, so it becomes the reply: "+" and the answer, or
// "-" and what was thrown.
std::string run_caught(const WorkerFunction& function, const std::string& request);

// Sends a request to a worker. If the worker died while idle, the send fails
// quietly: its socket reads end of stream, so poll() hands it to take_reply(),
// like any other death.
void send_request(int socket, const std::string& request);

// A worker's reply as an Outcome, or std::nullopt when its socket ended
// before a whole reply came: the worker died (before replying, or halfway
// through).
std::optional<Outcome> recv_reply(int socket);

// How a worker ended, from waitpid()'s status, as the error of the request it
// never answered: "worker process 4711 was killed by signal 9 (Killed) ...".
std::string describe_end(pid_t pid, int status);

// Every worker died: requests next..total-1 fail, for nobody is left to run them.
void fail_unstarted(int next, int total, const ProcessPool::Callbacks& callbacks);

} // namespace ladder
