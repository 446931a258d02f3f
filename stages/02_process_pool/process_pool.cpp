#include "process_pool.hpp"
#include "error.hpp"
#include "framing.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace ladder {

namespace {

// A worker keeps stdin, stdout, stderr and its own socket — nothing else: not
// the other workers' sockets, not the parent's signal pipe, not any socket the
// parent had open. (A stray copy of another worker's socket would also keep
// that worker from ever seeing end of stream.)
void close_fds_except(int keep) {
    if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
    ::close_range(static_cast<unsigned>(keep) + 1, ~0u, 0);
}

// A reply starts with '+' (the function's answer follows) or '-' (what it threw).
std::string run_job(const WorkerFunction& function, const std::string& request) {
    try {
        return "+" + function(request);
    } catch (const std::exception& e) {
        return std::string("-") + e.what();
    } catch (...) {
        return "-the worker function threw something that is not a std::exception";
    }
}

// The child's whole life, right after fork(). Never returns.
[[noreturn]] void worker_main(int socket, const WorkerFunction& function, pid_t parent) {
    // Second line of defence: if the parent dies without reaping us (even by
    // SIGKILL), the kernel kills this worker too. The check after it covers a
    // parent that died before the prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Ctrl-C goes to the whole process group. Workers ignore it: the parent
    // alone decides, and it kills and reaps them.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_DFL);
    close_fds_except(socket);
    try {
        // The worker loop: wait for a request, run it, send the reply.
        while (auto request = recv_message(socket))
            send_message(socket, run_job(function, *request));
    } catch (...) {
        ::_exit(1); // the parent vanished in the middle of a message
    }
    // End of stream: the parent closed our socket, there is no more work.
    // _exit, not exit: no atexit handlers, no flushing stdio buffers copied from the parent.
    ::_exit(0);
}

std::string describe_end(pid_t pid, int status) {
    std::string who = "worker process " + std::to_string(pid);
    if (WIFSIGNALED(status))
        return who + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ") before it replied";
    return who + " exited with status " + std::to_string(WEXITSTATUS(status)) +
           " before it replied";
}

} // namespace

ProcessPool::ProcessPool(int workers, WorkerFunction function) : function_(std::move(function)) {
    if (workers < 1) throw std::invalid_argument("a process pool needs at least one worker");
    workers_.reserve(static_cast<std::size_t>(workers));
    try {
        for (int i = 0; i < workers; ++i) start_worker();
    } catch (...) {
        stop();
        throw;
    }
}

ProcessPool::~ProcessPool() {
    stop();
}

void ProcessPool::start_worker() {
    int ends[2];
    // Close-on-exec, and closed in every other worker by close_fds_except.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0) throw_errno("socketpair");
    Fd parent_end(ends[0]), child_end(ends[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork", "worker " + std::to_string(workers_.size() + 1));
    if (pid == 0) worker_main(child_end.get(), function_, parent);
    // Parent: child_end closes when this function returns, so the worker holds
    // the only copy; when it dies, our end reads end of stream.
    workers_.push_back(Worker{pid, std::move(parent_end)});
}

int ProcessPool::alive() const noexcept {
    int n = 0;
    for (const auto& w : workers_) n += w.pid > 0;
    return n;
}

int ProcessPool::idle_worker() const noexcept {
    for (std::size_t i = 0; i < workers_.size(); ++i)
        if (workers_[i].idle()) return static_cast<int>(i);
    return -1;
}

void ProcessPool::hand_out(int worker, int request, const std::string& message) {
    Worker& w = workers_[index(worker)];
    w.request = request;
    try {
        send_message(w.socket.get(), message);
    } catch (const std::exception&) {
        // The worker died while idle. Its socket reads end of stream, so the
        // poll() below hands it to take_reply(), like any other death.
    }
}

Outcome ProcessPool::take_reply(int worker) {
    Worker& w = workers_[index(worker)];
    std::optional<std::string> reply;
    try {
        reply = recv_message(w.socket.get());
    } catch (const std::exception&) {
        // Cut short: the worker died halfway through its reply.
    }
    w.request = -1;
    if (reply && !reply->empty()) return Outcome{reply->front() == '+', reply->substr(1)};
    return Outcome{false, reap(w)}; // end of stream and no reply: the worker is dead
}

std::string ProcessPool::reap(Worker& w) {
    w.socket.reset();
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) continue; // a signal: wait on
    std::string how = describe_end(w.pid, status);
    w.pid = -1; // reaped: no zombie left
    return how;
}

bool ProcessPool::map(const std::vector<std::string>& requests, const Callbacks& callbacks,
                      int stop_fd) {
    const int total = static_cast<int>(requests.size());
    int next = 0, done = 0;
    while (done < total) {
        // Keep every idle worker busy with the next request.
        for (std::size_t i = 0; i < workers_.size() && next < total; ++i) {
            if (!workers_[i].idle()) continue;
            callbacks.started(next, static_cast<int>(i));
            hand_out(static_cast<int>(i), next, requests[next]);
            ++next;
        }

        if (alive() == 0) { // every worker died: nobody is left to run the rest
            for (; next < total; ++next, ++done) {
                callbacks.started(next, -1);
                callbacks.finished(next, Outcome{false, "no worker process left to run it"});
            }
            break;
        }

        // Wait until some busy worker has something to say (a reply, or its
        // death), or until a stop is requested.
        std::vector<pollfd> watch;
        std::vector<int> owner;
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            if (!workers_[i].busy()) continue;
            watch.push_back(pollfd{workers_[i].socket.get(), POLLIN, 0});
            owner.push_back(static_cast<int>(i));
        }
        if (stop_fd >= 0) watch.push_back(pollfd{stop_fd, POLLIN, 0});
        if (::poll(watch.data(), watch.size(), -1) < 0) {
            if (errno == EINTR) continue; // a signal; the stop pipe tells us if it matters
            throw_errno("poll");
        }
        if (stop_fd >= 0 && watch.back().revents != 0) return false;
        for (std::size_t i = 0; i < owner.size(); ++i) {
            if (watch[i].revents == 0) continue;
            int request = workers_[index(owner[i])].request;
            callbacks.finished(request, take_reply(owner[i]));
            ++done;
        }
    }
    return true;
}

void ProcessPool::kill_worker(int worker) {
    Worker& w = workers_[index(worker)];
    if (w.pid <= 0) return;
    ::kill(w.pid, SIGKILL);
    reap(w);
    w.request = -1;
}

void ProcessPool::shutdown() {
    for (auto& w : workers_) w.socket.reset(); // end of stream: each worker's loop ends
    for (auto& w : workers_)
        if (w.pid > 0) reap(w);
}

void ProcessPool::stop() {
    for (auto& w : workers_)
        if (w.pid > 0) ::kill(w.pid, SIGKILL);
    for (auto& w : workers_)
        if (w.pid > 0) reap(w);
}

} // namespace ladder
