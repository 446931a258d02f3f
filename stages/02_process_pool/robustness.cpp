#include "robustness.hpp"
#include "framing.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <exception>

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

} // namespace

void isolate_worker(int socket, pid_t parent) {
    // If the parent dies without reaping us (even by SIGKILL), the kernel
    // kills this worker too. The check after it covers a parent that died
    // before the prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Ctrl-C goes to the whole process group. Workers ignore it: the parent
    // alone decides, and it kills and reaps them.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_DFL);
    close_fds_except(socket);
}

std::string run_caught(const WorkerFunction& function, const std::string& request) {
    try {
        return "+" + function(request);
    } catch (const std::exception& e) {
        return std::string("-") + e.what();
    } catch (...) {
        return "-the worker function threw something that is not a std::exception";
    }
}

void send_request(int socket, const std::string& request) {
    try {
        send_message(socket, request);
    } catch (const std::exception&) {
        // The worker is gone (EPIPE, ECONNRESET); take_reply() will say how.
    }
}

std::optional<Outcome> recv_reply(int socket) {
    try {
        auto reply = recv_message(socket);
        if (reply && !reply->empty()) // a whole reply has at least its '+' or '-'
            return Outcome{reply->front() == '+', reply->substr(1)};
    } catch (const std::exception&) {
        // Cut short: the worker died halfway through its reply.
    }
    return std::nullopt;
}

std::string describe_end(pid_t pid, int status) {
    std::string who = "worker process " + std::to_string(pid);
    if (WIFSIGNALED(status))
        return who + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ") before it replied";
    return who + " exited with status " + std::to_string(WEXITSTATUS(status)) +
           " before it replied";
}

void fail_unstarted(int next, int total, const ProcessPool::Callbacks& callbacks) {
    for (; next < total; ++next) {
        callbacks.started(next, -1);
        callbacks.finished(next, Outcome{false, "no worker process left to run it"});
    }
}

// Ctrl-C, a failed fork, or a pool destroyed mid-run: don't wait for replies.
void ProcessPool::stop() {
    for (auto& w : workers_)
        if (w.pid > 0) ::kill(w.pid, SIGKILL);
    for (auto& w : workers_)
        if (w.pid > 0) reap(w);
}

int ProcessPool::alive() const noexcept {
    int n = 0;
    for (const auto& w : workers_) n += w.pid > 0;
    return n;
}

} // namespace ladder
