// gevent's monkey.patch_all(), done by the linker. 01's fetch_page() calls the
// blocking helpers in common/net.cpp, and they call connect(), send() and
// recv(). This file defines functions of those very names; a definition in the
// program comes before the C library's, so every call in the process lands here.
// Off a fiber (or on a socket its owner made non-blocking) each one simply
// calls the real function. On a fiber, a call that would block becomes: try
// without blocking; if the kernel says "not yet", let the scheduler run the
// other fibers until the socket is ready, then try again.
//
// What this cannot reach: code that makes the system call itself, glibc's own
// internal calls, any other blocking call (read, poll, sleep, a disk read, a
// mutex) — those still stop every fiber at once. See notes/10_green_threads.md.
#include "real.hpp"
#include "scheduler.hpp"
#include "selector.hpp"
#include "socket_timeouts.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>

namespace {

using ladder::Clock;
using ladder::green::real;
using ladder::green::Scheduler;
using ladder::green::tell_the_kernel;

const auto real_connect = real<int (*)(int, const sockaddr*, socklen_t)>("connect");
const auto real_send = real<ssize_t (*)(int, const void*, size_t, int)>("send");
const auto real_recv = real<ssize_t (*)(int, void*, size_t, int)>("recv");

// Whether the socket's owner made it blocking (the default), i.e. expects calls to wait.
bool is_blocking(int fd) {
    int mode = ::fcntl(fd, F_GETFL);
    return mode >= 0 && !(mode & O_NONBLOCK);
}

// How long the blocking call may wait: the SO_RCVTIMEO or SO_SNDTIMEO its owner
// set on the socket (01's net.cpp sets both before every call), 0 = forever.
// For a socket a fiber made, getsockopt() is ours and makes no system call
// (socket_timeouts.cpp).
Clock::time_point deadline_of(int fd, int option) {
    timeval limit{};
    socklen_t len = sizeof limit;
    if (::getsockopt(fd, SOL_SOCKET, option, &limit, &len) < 0 ||
        (limit.tv_sec == 0 && limit.tv_usec == 0))
        return Clock::time_point::max();
    return Clock::now() + std::chrono::seconds(limit.tv_sec) +
           std::chrono::microseconds(limit.tv_usec);
}

// The heart of the patch, for recv and send: try `call` without waiting
// (MSG_DONTWAIT); while the kernel says "not yet", let the scheduler run the
// other fibers until the socket is ready, and try again. Past the socket's
// timeout: EAGAIN, as the kernel's own timeout says.
template <typename Call>
ssize_t without_blocking(int fd, int flags, unsigned events, int timeout_option, Call call) {
    Scheduler* scheduler = Scheduler::of_this_fiber();
    if (!scheduler) tell_the_kernel(fd); // the kernel may wait in this call: it needs the timeout
    if (!scheduler || (flags & MSG_DONTWAIT)) return call(flags); // not a fiber's blocking call
    ssize_t n = call(flags | MSG_DONTWAIT);
    if (n >= 0 || errno != EAGAIN || !is_blocking(fd))
        return n; // done, failed, or not ours to wait
    auto deadline = deadline_of(fd, timeout_option);
    while (scheduler->wait_until_ready(fd, events, deadline)) {
        n = call(flags | MSG_DONTWAIT);
        if (n >= 0 || errno != EAGAIN) return n;
    }
    errno = EAGAIN;
    return -1;
}

} // namespace

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
    return without_blocking(fd, flags, ladder::EVENT_READ, SO_RCVTIMEO,
                            [&](int f) { return real_recv(fd, buf, len, f); });
}

// Like gevent's send(): it may send part of `buf` once the socket is writable.
// A blocking send that a signal interrupts may do the same; send_all_blocking() loops.
extern "C" ssize_t send(int fd, const void* buf, size_t len, int flags) {
    return without_blocking(fd, flags, ladder::EVENT_WRITE, SO_SNDTIMEO,
                            [&](int f) { return real_send(fd, buf, len, f); });
}

// A connect has no "don't wait" flag: make the socket non-blocking for the
// call, wait for the handshake on the scheduler, and put the mode back.
extern "C" int connect(int fd, const sockaddr* addr, socklen_t len) {
    Scheduler* scheduler = Scheduler::of_this_fiber();
    if (!scheduler) tell_the_kernel(fd);
    int mode = scheduler ? ::fcntl(fd, F_GETFL) : -1;
    if (mode < 0 || (mode & O_NONBLOCK)) return real_connect(fd, addr, len);
    ::fcntl(fd, F_SETFL, mode | O_NONBLOCK);
    int rc = real_connect(fd, addr, len);
    if (rc < 0 && errno == EINPROGRESS) {
        // Linux bounds a blocking connect by SO_SNDTIMEO, and then says EINPROGRESS.
        if (!scheduler->wait_until_ready(fd, ladder::EVENT_WRITE, deadline_of(fd, SO_SNDTIMEO)))
            errno = EINPROGRESS;
        else if (int err = ladder::socket_error(fd))
            errno = err;
        else
            rc = 0;
    }
    int err = errno;
    ::fcntl(fd, F_SETFL, mode); // blocking again, as its owner believes it is
    errno = err;
    return rc;
}
