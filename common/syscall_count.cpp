#include "syscall_count.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>

namespace ladder {

namespace {
thread_local SyscallCount count; // the loop's thread is the one that counts
const char* const names[syscall_kinds] = {"socket", "connect",       "getsockopt", "send",
                                          "recv",   "close",         "epoll_ctl",  "epoll_wait",
                                          "poll",   "io_uring_enter"};
double per(std::uint64_t calls, int pages) {
    return std::round(100.0 * static_cast<double>(calls) / pages) / 100;
}
} // namespace

std::uint64_t SyscallCount::total() const noexcept {
    std::uint64_t sum = 0;
    for (auto n : calls) sum += n;
    return sum;
}

SyscallCount SyscallCount::operator-(const SyscallCount& earlier) const noexcept {
    SyscallCount d;
    for (int i = 0; i < syscall_kinds; ++i) d.calls[i] = calls[i] - earlier.calls[i];
    return d;
}

double SyscallCount::total_per_page(int pages) const noexcept {
    return per(total(), pages);
}

nlohmann::json SyscallCount::per_page(int pages) const {
    nlohmann::json j = nlohmann::json::object();
    for (int i = 0; i < syscall_kinds; ++i)
        if (calls[i]) j[names[i]] = per(calls[i], pages);
    return j;
}

SyscallCount syscalls_so_far() noexcept {
    return count;
}

void count_syscall(Syscall s) noexcept {
    ++count.calls[static_cast<int>(s)];
}

} // namespace ladder

// The wrappers the linker sends our calls to (-Wl,--wrap=NAME turns a call
// to NAME into __wrap_NAME, and __real_NAME into the C library's NAME).
// __recv_chk is recv() as _FORTIFY_SOURCE builds call it.
using ladder::count_syscall;
using ladder::Syscall;
extern "C" {
int __real_socket(int, int, int);
int __real_connect(int, const sockaddr*, socklen_t);
int __real_getsockopt(int, int, int, void*, socklen_t*);
ssize_t __real_send(int, const void*, size_t, int);
ssize_t __real_recv(int, void*, size_t, int);
ssize_t __real___recv_chk(int, void*, size_t, size_t, int);
int __real_close(int);
int __real_epoll_ctl(int, int, int, epoll_event*);
int __real_epoll_wait(int, epoll_event*, int, int);
int __real_poll(pollfd*, nfds_t, int);

int __wrap_socket(int domain, int type, int protocol) {
    count_syscall(Syscall::socket);
    return __real_socket(domain, type, protocol);
}
int __wrap_connect(int fd, const sockaddr* addr, socklen_t len) {
    count_syscall(Syscall::connect);
    return __real_connect(fd, addr, len);
}
int __wrap_getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
    count_syscall(Syscall::getsockopt);
    return __real_getsockopt(fd, level, name, value, len);
}
ssize_t __wrap_send(int fd, const void* buf, size_t n, int flags) {
    count_syscall(Syscall::send);
    return __real_send(fd, buf, n, flags);
}
ssize_t __wrap_recv(int fd, void* buf, size_t n, int flags) {
    count_syscall(Syscall::recv);
    return __real_recv(fd, buf, n, flags);
}
ssize_t __wrap___recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
    count_syscall(Syscall::recv);
    return __real___recv_chk(fd, buf, n, buflen, flags);
}
int __wrap_close(int fd) {
    count_syscall(Syscall::close);
    return __real_close(fd);
}
int __wrap_epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
    count_syscall(Syscall::epoll_ctl);
    return __real_epoll_ctl(epfd, op, fd, ev);
}
int __wrap_epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) {
    count_syscall(Syscall::epoll_wait);
    return __real_epoll_wait(epfd, events, max, timeout_ms);
}
int __wrap_poll(pollfd* fds, nfds_t n, int timeout_ms) {
    count_syscall(Syscall::poll);
    return __real_poll(fds, n, timeout_ms);
}
}
