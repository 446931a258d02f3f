// Non-blocking I/O as coroutines.
//
// At the bottom, two awaitables park the coroutine on the loop's waiting list:
//
//   co_await readable(fd, deadline);   // until fd has data, EOF or an error
//   co_await writable(fd, deadline);   // until fd can take more bytes
//
// A deadline that passes first throws TimeoutError at that co_await. On top of
// them sit the three coroutines a crawler needs — the seed's connect() and
// read_all() of §4.5.2, with co_await in place of `yield from`.
#pragma once

#include "lists.hpp"
#include "loop.hpp"
#include "net.hpp"
#include "task.hpp"
#include "trace.hpp"

#include <coroutine>
#include <string>
#include <string_view>
#include <utility>

namespace ladder::coro {

// The awaitable behind readable() and writable(): a Waiter, living in the
// awaiting coroutine's frame for as long as it is parked.
class Readiness {
  public:
    Readiness(int fd, unsigned events, const Clock::time_point& deadline, const char* what,
              bool keep_watching = false) noexcept
        : what_(what) {
        waiter_.fd = fd;
        waiter_.events = static_cast<unsigned char>(events);
        waiter_.deadline = deadline;
        waiter_.keep_watching = keep_watching;
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) {
        waiter_.handle = self;
        Loop::current().wait(waiter_); // if this throws, the error appears at the co_await
    }
    void await_resume() const; // throws TimeoutError if the deadline came first

  private:
    Waiter waiter_;
    const char* what_; // for the error message: "recv timed out"
};

// For any fd: the loop watches it only while a coroutine waits on it. (The
// deadline is taken by reference only so that the co_await's frame need not
// keep a copy: the Waiter stores its own.)
inline Readiness readable(int fd, const Clock::time_point& deadline = never,
                          const char* what = "read") {
    return Readiness(fd, EVENT_READ, deadline, what);
}
inline Readiness writable(int fd, const Clock::time_point& deadline = never,
                          const char* what = "write") {
    return Readiness(fd, EVENT_WRITE, deadline, what);
}

// A socket a coroutine owns. The loop may keep watching its fd from one
// co_await to the next — switching from WRITE to READ is one modify, as in 05
// — which is safe because the socket stops the watch itself before closing
// (asyncio's transports do the same).
class Socket {
  public:
    Socket() noexcept = default;
    explicit Socket(Fd fd) noexcept : fd_(std::move(fd)) {}
    Socket(Socket&& other) noexcept = default;
    Socket& operator=(Socket&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::move(other.fd_);
        }
        return *this;
    }
    ~Socket() { close(); }

    int fd() const noexcept { return fd_.get(); }
    void close() noexcept {
        if (!fd_) return;
        if (Loop* loop = Loop::current_or_null()) loop->unwatch(fd_.get());
        fd_.reset();
    }

  private:
    Fd fd_;
};

inline Readiness readable(const Socket& s, const Clock::time_point& deadline, const char* what) {
    return Readiness(s.fd(), EVENT_READ, deadline, what, /*keep_watching=*/true);
}
inline Readiness writable(const Socket& s, const Clock::time_point& deadline, const char* what) {
    return Readiness(s.fd(), EVENT_WRITE, deadline, what, /*keep_watching=*/true);
}

// A socket connected to `server`. Throws SysError (refused, ...) or
// TimeoutError. `server` must outlive the task.
Task<Socket> async_connect(const Endpoint& server, Clock::time_point deadline);

// Send every byte of `data`. `sock` and `data` must outlive the task.
Task<void> async_send_all(const Socket& sock, std::string_view data, Clock::time_point deadline);

// Read until the peer closes; returns everything it sent.
// With `times` (for --trace) it notes when the first bytes arrived.
Task<std::string> async_read_all(const Socket& sock, Clock::time_point deadline,
                                 PageTimes* times = nullptr);

} // namespace ladder::coro
