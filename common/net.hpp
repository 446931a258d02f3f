// Socket helpers: an owning fd, addresses, blocking and non-blocking connect.
// Every socket is created close-on-exec: a program this process exec()s does
// not get it. fork() is another matter: the child gets a copy of every fd,
// close-on-exec or not, so a forked worker that must not hold the parent's
// sockets closes them itself (02's close_fds_except(), in
// stages/02_process_pool/robustness.cpp).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ladder {

using Clock = std::chrono::steady_clock;

// A steady-clock instant in microseconds (CLOCK_MONOTONIC on Linux): the same
// number in every process of the machine, so traces of a client and of the
// server can be laid over each other.
inline long long monotonic_us(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Owns one file descriptor and closes it exactly once. Movable, not copyable.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) noexcept;

  private:
    int fd_ = -1;
};

// A resolved server address and its printable form ("127.0.0.1:8080", "[::1]:8080").
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;
};

// IPv4 and IPv6 literals and "localhost" only: this sandbox never asks DNS,
// so nothing can leave the machine by accident. Bad input: std::invalid_argument.
Endpoint resolve(std::string_view host, int port);

// --- blocking I/O, each call bounded by an absolute deadline ------------------
// They throw SysError (with the call, the address and errno's text) or
// TimeoutError when the deadline passes first.

Fd connect_blocking(const Endpoint& server, Clock::time_point deadline);
void send_all_blocking(int fd, std::string_view data, Clock::time_point deadline);
// Waits for at least one byte; returns 0 at end of stream.
std::size_t recv_blocking(int fd, std::span<char> buf, Clock::time_point deadline);

// --- non-blocking building blocks ---------------------------------------------

Fd open_stream_socket(const Endpoint& server); // non-blocking, close-on-exec
void set_nonblocking(int fd);
// Starts a non-blocking connect. Returns true when already connected, false
// while in progress (EINPROGRESS); throws on an immediate failure.
bool start_connect(int fd, const Endpoint& server);
// The pending error of a socket (getsockopt SO_ERROR): 0 once connected.
int socket_error(int fd);

// --- servers --------------------------------------------------------------------

// A non-blocking listening socket; port 0 lets the kernel pick a free one.
Fd listen_tcp(const Endpoint& where, int backlog = 4096);
int local_port(int fd);

// Raise the soft open-file limit to the hard limit (for 10,000 sockets);
// returns the new soft limit.
long raise_fd_limit();

} // namespace ladder
