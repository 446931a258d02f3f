#include "signals.hpp"
#include "error.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>

namespace ladder {
namespace {

int pipe_fds[2] = {-1, -1};
volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_stop_signal(int) {
    stop_requested = 1;
    int saved = errno;
    [[maybe_unused]] auto n = ::write(pipe_fds[1], "x", 1); // non-blocking: a full pipe is fine
    errno = saved;
}

} // namespace

void ignore_sigpipe() {
    std::signal(SIGPIPE, SIG_IGN);
}

StopSignals::StopSignals() {
    ignore_sigpipe();
    if (pipe_fds[0] >= 0) return;
    if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) < 0) throw_errno("pipe2");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int StopSignals::fd() const noexcept {
    return pipe_fds[0];
}
bool StopSignals::requested() const noexcept {
    return stop_requested != 0;
}

} // namespace ladder
