// socket(), close(), setsockopt() and getsockopt() stand in front of the C
// library's, as monkey_patch.cpp's calls do. A socket made by socket() on a
// fiber is "a fiber's socket" until close(): on a fiber, its SO_RCVTIMEO and
// SO_SNDTIMEO stop here, and getsockopt() reads them back from here.
//
// The kernel gives a closed fd's number to the next socket or file, so what is
// kept belongs to the fd only from socket() to close(). A socket that loses its
// fd another way (dup2() over it, fclose() of a FILE on it) and whose number the
// kernel then hands out by accept() or socketpair() would inherit what was kept.
// Like the scheduler, this is for one thread.
#include "socket_timeouts.hpp"
#include "real.hpp"
#include "scheduler.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <optional>
#include <vector>

namespace ladder::green {
namespace {

struct FibersSocket {
    bool made_on_fiber = false;
    std::optional<timeval> receive, send; // what a fiber set and the kernel was not told
};

// Indexed by fd. Never destroyed: close() is called until the very end of the process.
std::vector<FibersSocket>& sockets() {
    static auto* by_fd = new std::vector<FibersSocket>;
    return *by_fd;
}

// Where SO_RCVTIMEO or SO_SNDTIMEO of a fiber's socket is kept; nullptr for anything else.
std::optional<timeval>* kept(int fd, int level, int option) {
    auto& by_fd = sockets();
    if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd.size() || !by_fd[fd].made_on_fiber ||
        level != SOL_SOCKET)
        return nullptr;
    if (option == SO_RCVTIMEO) return &by_fd[fd].receive;
    if (option == SO_SNDTIMEO) return &by_fd[fd].send;
    return nullptr;
}

void forget(int fd) {
    auto& by_fd = sockets();
    if (fd >= 0 && static_cast<std::size_t>(fd) < by_fd.size()) by_fd[fd] = {};
}

// setsockopt's timeval, if the kernel would take it as it is (a short one is
// EINVAL, a bad tv_usec EDOM, and a negative tv_sec means "do not wait").
std::optional<timeval> plain_timeout(const void* value, socklen_t len) {
    timeval limit{};
    if (!value || len < sizeof limit) return std::nullopt;
    std::memcpy(&limit, value, sizeof limit);
    if (limit.tv_sec < 0 || limit.tv_usec < 0 || limit.tv_usec >= 1'000'000) return std::nullopt;
    return limit;
}

int real_setsockopt(int fd, int level, int option, const void* value, socklen_t len) {
    static const auto call = real<int (*)(int, int, int, const void*, socklen_t)>("setsockopt");
    return call(fd, level, option, value, len);
}

} // namespace

void tell_the_kernel(int fd) {
    for (int option : {SO_RCVTIMEO, SO_SNDTIMEO}) {
        std::optional<timeval>* limit = kept(fd, SOL_SOCKET, option);
        if (limit && *limit &&
            real_setsockopt(fd, SOL_SOCKET, option, &**limit, sizeof(timeval)) == 0)
            limit->reset(); // the kernel knows it now
    }
}

} // namespace ladder::green

using namespace ladder::green;

extern "C" int socket(int domain, int type, int protocol) {
    static const auto real_socket = real<int (*)(int, int, int)>("socket");
    int fd = real_socket(domain, type, protocol);
    if (fd < 0) return fd;
    forget(fd); // in case the last owner of this number let go of it without close()
    if (Scheduler::of_this_fiber()) {
        auto& by_fd = sockets();
        if (static_cast<std::size_t>(fd) >= by_fd.size())
            by_fd.resize(static_cast<std::size_t>(fd) + 1);
        by_fd[static_cast<std::size_t>(fd)].made_on_fiber = true;
    }
    return fd;
}

extern "C" int close(int fd) {
    static const auto real_close = real<int (*)(int)>("close");
    forget(fd); // the kernel may give this number to the next socket
    return real_close(fd);
}

extern "C" int setsockopt(int fd, int level, int option, const void* value, socklen_t len) {
    std::optional<timeval>* kept_here = kept(fd, level, option);
    std::optional<timeval> limit = plain_timeout(value, len);
    if (kept_here && limit && Scheduler::of_this_fiber()) {
        // No system call: on a fiber only the patched calls wait, and they read it here.
        *kept_here = limit;
        return 0;
    }
    int rc = real_setsockopt(fd, level, option, value, len);
    if (rc == 0 && kept_here) kept_here->reset(); // off a fiber, the kernel is told, and knows best
    return rc;
}

extern "C" int getsockopt(int fd, int level, int option, void* value, socklen_t* len) {
    static const auto real_getsockopt =
        real<int (*)(int, int, int, void*, socklen_t*)>("getsockopt");
    std::optional<timeval>* kept_here = kept(fd, level, option);
    if (!kept_here || !*kept_here || !value || !len || *len < sizeof(timeval))
        return real_getsockopt(fd, level, option, value, len);
    std::memcpy(value, &**kept_here, sizeof(timeval));
    *len = sizeof(timeval);
    return 0;
}
