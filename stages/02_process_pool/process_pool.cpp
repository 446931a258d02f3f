// The lesson, in reading order: fork the workers, a worker's loop, hand out
// requests, collect the replies, wait for the children. What guards it when
// something goes wrong (a worker crashes, the parent dies, Ctrl-C) is in
// robustness.cpp; how a message crosses a socket, in framing.cpp.
#include "process_pool.hpp"
#include "error.hpp"
#include "framing.hpp"
#include "robustness.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace ladder {

namespace {

// The child's whole life, right after fork(). Never returns.
[[noreturn]] void worker_loop(int socket, const WorkerFunction& function, pid_t parent) {
    isolate_worker(socket, parent); // dies with the parent, ignores Ctrl-C, keeps only `socket`
    try {
        while (auto request = recv_message(socket))
            send_message(socket, run_caught(function, *request));
    } catch (...) {
        ::_exit(1); // the parent vanished in the middle of a message
    }
    // End of stream: the parent closed our socket, there is no more work.
    // _exit, not exit: no atexit handlers, no flushing stdio buffers copied from the parent.
    ::_exit(0);
}

} // namespace

ProcessPool::ProcessPool(int workers, WorkerFunction function) : function_(std::move(function)) {
    if (workers < 1) throw std::invalid_argument("a process pool needs at least one worker");
    const pid_t parent = ::getpid();
    try {
        for (int i = 0; i < workers; ++i) {
            // Two connected sockets: the parent keeps one end, the worker the
            // other. (CLOEXEC: a program either of them might exec gets neither.)
            int ends[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0)
                throw_errno("socketpair");
            Fd parent_end(ends[0]), child_end(ends[1]);
            pid_t pid = ::fork(); // returns twice: 0 in the new child, its pid in the parent
            if (pid < 0) throw_errno("fork", "worker " + std::to_string(i + 1));
            if (pid == 0) worker_loop(child_end.get(), function_, parent);
            // Parent: child_end closes at the end of this iteration, so the
            // worker holds the only copy; when it dies, our end reads end of stream.
            workers_.push_back(Worker{pid, std::move(parent_end)});
        }
    } catch (...) {
        stop();
        throw;
    }
}

bool ProcessPool::map(const std::vector<std::string>& requests, const Callbacks& callbacks,
                      int stop_fd) {
    const int total = static_cast<int>(requests.size());
    int next = 0, done = 0;
    while (done < total) {
        // Hand out: every idle worker gets the next request.
        for (int i = 0; i < size() && next < total; ++i) {
            if (!at(i).idle()) continue;
            callbacks.started(next, i);
            hand_out(i, next, requests[next]);
            ++next;
        }
        if (alive() == 0) { // every worker died (robustness.cpp)
            fail_unstarted(next, total, callbacks);
            return true;
        }

        // Collect: sleep until some busy worker's socket is readable (its
        // reply, or its death), or the stop pipe is (Ctrl-C). poll() skips
        // the entries whose fd is -1: the idle workers, and a missing stop_fd.
        std::vector<pollfd> watch;
        for (const auto& w : workers_)
            watch.push_back(pollfd{w.busy() ? w.socket.get() : -1, POLLIN, 0});
        watch.push_back(pollfd{stop_fd, POLLIN, 0});
        if (::poll(watch.data(), watch.size(), -1) < 0) {
            if (errno == EINTR) continue; // a signal; the stop pipe tells us if it matters
            throw_errno("poll");
        }
        if (watch.back().revents != 0) return false;
        for (int i = 0; i < size(); ++i) {
            if (watch[static_cast<std::size_t>(i)].revents == 0) continue;
            int request = at(i).request;
            callbacks.finished(request, take_reply(i));
            ++done;
        }
    }
    return true;
}

void ProcessPool::hand_out(int worker, int request, const std::string& message) {
    at(worker).request = request;
    send_request(at(worker).socket.get(), message);
}

Outcome ProcessPool::take_reply(int worker) {
    Worker& w = at(worker);
    w.request = -1;
    auto reply = recv_reply(w.socket.get());         // an Outcome, or nothing: the worker died
    return reply ? *reply : Outcome{false, reap(w)}; // reap() says how it died
}

void ProcessPool::shutdown() {
    for (auto& w : workers_) w.socket.reset(); // end of stream: each worker's loop ends
    for (auto& w : workers_)
        if (w.pid > 0) reap(w);
}

std::string ProcessPool::reap(Worker& w) {
    w.socket.reset();
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) continue; // a signal: wait on
    std::string how = describe_end(w.pid, status);
    w.pid = -1; // waited for: no zombie left
    return how;
}

} // namespace ladder
