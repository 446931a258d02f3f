// Completion I/O as coroutines: a Socket whose co_awaits hand the kernel the
// whole call — connect, send, recv — and park the coroutine until the kernel
// says it is done. The same calls as 07's Socket (07_coroutines/io.hpp); what
// differs is who makes them, and when.
//
//   Socket sock(deadline);                          // every request ends by `deadline`
//   co_await sock.connect(server);                  // until the handshake is done
//   co_await async_send_all(sock, request);         // until every byte is sent
//   std::size_t n = co_await sock.recv(buffer);     // until bytes arrived in `buffer`
//
// The buffer is the caller's, and the kernel writes into it while the
// coroutine is parked: it must live until the recv completes. A deadline that
// passes first throws TimeoutError ("recv timed out") at that co_await; a
// failed call throws SysError there.
#pragma once

#include "error.hpp"
#include "loop.hpp"
#include "net.hpp"

#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ladder::uring {

class Socket {
  public:
    explicit Socket(Clock::time_point deadline = never) noexcept : deadline_(deadline) {}
    Socket(Fd fd, Clock::time_point deadline = never) noexcept
        : fd_(std::move(fd)), deadline_(deadline) {}
    // Closing is a request too: it goes in with the loop's next enter, and
    // nobody waits for it (the loop counts it until it completes).
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int fd() const noexcept { return fd_.get(); }

    // Every co_await on a socket is a Request: queue the call with the
    // socket's deadline, park until it completes, then the step's finish()
    // turns the result into a value or an exception. The Operation — and with
    // it what the kernel was told to use — lives in the awaiting frame.
    template <class Step>
    struct Request {
        Socket& sock;
        Step step;
        Operation op;
        bool await_ready() const noexcept { return false; } // the kernel always does the call
        void await_suspend(std::coroutine_handle<> self) {
            step.open(sock);
            Loop::current().submit(op, self, sock.deadline_,
                                   [this](io_uring_sqe& sqe) { step.prep(sqe, sock); });
        }
        auto await_resume() {
            // Only its linked timeout cancels a request that resumes (Loop::submit).
            if (op.result == -ECANCELED) throw TimeoutError(std::string(Step::what) + " timed out");
            if (op.result < 0) step.fail(-op.result);
            return step.finish(op.result);
        }
    };
    struct Connect { // open a socket, then the kernel connects it
        static constexpr const char* what = "connect";
        const Endpoint& server;
        void open(Socket& s) const;
        void prep(io_uring_sqe& sqe, Socket& s) const;
        [[noreturn]] void fail(int err) const { throw SysError("connect", server.text, err); }
        void finish(int) const noexcept {}
    };
    struct Send { // the kernel sends what fits; returns how many bytes that was
        static constexpr const char* what = "send";
        std::string_view data;
        void open(Socket&) const noexcept {}
        void prep(io_uring_sqe& sqe, Socket& s) const;
        [[noreturn]] void fail(int err) const { throw SysError("send", "", err); }
        std::size_t finish(int sent) const noexcept { return static_cast<std::size_t>(sent); }
    };
    struct Recv { // the kernel waits for bytes and writes them into `buffer`; 0: the peer closed
        static constexpr const char* what = "recv";
        std::span<char> buffer;
        void open(Socket&) const noexcept {}
        void prep(io_uring_sqe& sqe, Socket& s) const;
        [[noreturn]] void fail(int err) const { throw SysError("recv", "", err); }
        std::size_t finish(int got) const noexcept { return static_cast<std::size_t>(got); }
    };

    // co_await sock.connect(server): open a socket and connect it (SysError
    // if refused). `server` must outlive the co_await.
    Request<Connect> connect(const Endpoint& server) { return {*this, {server}, {}}; }
    // co_await sock.send(data): how many bytes of `data` went out.
    Request<Send> send(std::string_view data) { return {*this, {data}, {}}; }
    // co_await sock.recv(buffer): how many bytes arrived in `buffer`; 0 once
    // the peer has closed. `buffer` must outlive the co_await.
    Request<Recv> recv(std::span<char> buffer) { return {*this, {buffer}, {}}; }

  private:
    Fd fd_;
    Clock::time_point deadline_;
};

// Send every byte of `data`, a send request at a time.
Task<void> async_send_all(Socket& sock, std::string data);

} // namespace ladder::uring
