// Non-blocking I/O as coroutines: a Socket whose waits park the coroutine on
// the loop's waiting list instead of blocking the thread.
//
//   Socket sock(deadline);                        // every wait ends by `deadline`
//   co_await sock.connect(server);                // until the handshake is done
//   co_await async_send_all(sock, request);       // until every byte is sent
//   while (co_await sock.recv(response)) {}       // until the server closes
//
// A deadline that passes first throws TimeoutError ("recv timed out") at
// that co_await; a failed call throws SysError there.
#pragma once

#include "error.hpp"
#include "loop.hpp"
#include "net.hpp"
#include "task.hpp"

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace ladder::coro {

// recv() until the fd has nothing more for now, appending to `out`. Returns
// false at the end of the stream. Throws SysError.
bool read_available(int fd, std::string& out);

// A non-blocking socket (or any fd) and the one Waiter its coroutine parks
// with. Both live in the coroutine's frame: a page's waits allocate nothing.
class Socket {
  public:
    explicit Socket(Clock::time_point deadline = never) noexcept { waiter_.deadline = deadline; }
    Socket(Fd fd, Clock::time_point deadline = never) noexcept : Socket(deadline) {
        waiter_.fd = fd.release(); // the waiter's fd is the socket's: it owns it
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        if (waiter_.loop) waiter_.loop->forget(waiter_); // off the loop first, then close
        Fd close(waiter_.fd);
    }

    int fd() const noexcept { return waiter_.fd; }

    // Every co_await on a socket is a Wait: park until the fd is ready for
    // Step::events or the deadline passes — around it, the step's own work:
    // try_now() may find there is nothing to wait for, finish() does what the
    // wait was for. (The step's events and name are part of its type, so a
    // Wait in a frame is the socket, the step — at most one reference — a
    // line and a flag: 24 bytes.)
    template <class Step>
    struct Wait {
        Socket& sock;
        Step step;
        std::uint16_t line = 0; // of the co_await, for whoever watches the loop
        bool did_park = false; // this Wait parked the socket's waiter (not another's)
        bool await_ready() { return step.try_now(sock); }
        template <class P>
        void await_suspend(std::coroutine_handle<P> self) {
            Waiter& w = sock.waiter_;
            if (w.loop) throw std::logic_error("another coroutine is waiting on this socket");
            w.events = Step::events;
            w.line = line;
            park(w, self); // here the coroutine parks
            did_park = true;
        }
        // Our frame is destroyed while we are parked: the socket may live on,
        // but its waiter must not stay on the loop, pointing at a dead frame.
        ~Wait() {
            if (did_park && sock.waiter_.loop) sock.waiter_.loop->forget(sock.waiter_);
        }
        auto await_resume() {
            if (sock.waiter_.timed_out) throw TimeoutError(std::string(Step::what) + " timed out");
            if (auto error = std::exchange(sock.waiter_.error, nullptr)) std::rethrow_exception(error);
            return step.finish(sock);
        }
    };
    struct Connect { // open a socket, start connecting; once writable, ask how it went
        static constexpr unsigned events = EVENT_WRITE;
        static constexpr const char* what = "connect";
        const Endpoint& server;
        bool try_now(Socket& s); // true: connected at once
        void finish(Socket& s) const;
    };
    struct Recv { // once readable, take all that arrived; false at the end of the stream
        static constexpr unsigned events = EVENT_READ;
        static constexpr const char* what = "recv";
        std::string& out;
        bool try_now(Socket&) const noexcept { return false; }
        bool finish(Socket& s) const { return read_available(s.fd(), out); }
    };
    struct Send { // just wait for room in the send buffer
        static constexpr unsigned events = EVENT_WRITE;
        static constexpr const char* what = "send";
        bool try_now(Socket&) const noexcept { return false; }
        void finish(Socket&) const noexcept {}
    };

    // co_await sock.connect(server): open a socket and connect it (SysError
    // if refused). `server` must outlive the co_await.
    // (`line`, like every awaitable's here, is the caller's: a defaulted argument.)
    Wait<Connect> connect(const Endpoint& server, unsigned line = __builtin_LINE()) {
        return {*this, {server}, std::uint16_t(line)};
    }
    // co_await sock.recv(out): wait for bytes, append all that arrived to
    // `out`; false once the peer has closed (everything has arrived).
    Wait<Recv> recv(std::string& out, unsigned line = __builtin_LINE()) {
        return {*this, {out}, std::uint16_t(line)};
    }
    // co_await sock.sendable(): just the wait.
    Wait<Send> sendable(unsigned line = __builtin_LINE()) {
        return {*this, {}, std::uint16_t(line)};
    }

  private:
    Waiter waiter_;
};

// Send every byte of `data`, waiting whenever the socket's buffer is full.
Task<void> async_send_all(Socket& sock, std::string data);

} // namespace ladder::coro
