// What the compiler makes of async_send_all() (io.cpp), by hand:
//
//   Task<void> async_send_all(Socket& sock, std::string data) {
//       std::string_view left = data;
//       while (!left.empty()) {
//           ssize_t n = ::send(sock.fd(), left.data(), left.size(), MSG_NOSIGNAL);
//           if (n >= 0) left.remove_prefix(n);
//           else if (errno == EAGAIN || errno == EWOULDBLOCK) co_await sock.sendable();
//           else if (errno != EINTR) throw_errno("send");
//       }
//   }
//
// becomes a frame (one heap object: the promise, the parameters, what lives
// across the co_await), a ramp (what a call runs), a resume function (the
// body as a state machine) and a destroy function. The frame starts the way
// g++ and clang start every frame — the resume and destroy functions, then
// the promise — so a std::coroutine_handle, and with it the loop, works on it.
// Step it in gdb: `break send_all_resume`, then `print *f`.
#include "07_coroutines/lowered/lowered.hpp"
#include "error.hpp"
#include "frame_count.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <coroutine>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

namespace ladder::coro {

namespace {

struct SendAllFrame;
void send_all_resume(SendAllFrame* f);
void send_all_destroy(SendAllFrame* f);
using Promise = Task<void>::promise_type;

struct SendAllFrame {
    void (*resume)(SendAllFrame*) = send_all_resume;   // what handle.resume() calls
    void (*destroy)(SendAllFrame*) = send_all_destroy; // what handle.destroy() calls
    Promise promise{"lowered_send_all"};               // continuation, error, name
    Socket* sock;                                      // the parameters, copied in
    std::string data;
    int state = 0;                                     // 0: the start; 1: after the co_await
    std::string_view left;                             // a local that lives across it
    std::optional<Socket::Wait<Socket::Send>> awaiter; // the co_await's awaitable, while it lives

    SendAllFrame(Socket& s, std::string d) : sock(&s), data(std::move(d)) {}
    std::coroutine_handle<Promise> handle() { return std::coroutine_handle<Promise>::from_promise(promise); }
};

void send_all_resume(SendAllFrame* f) {
    try {
        if (f->state == 1) goto after_the_wait; // resumed: go on where we stopped
        f->left = f->data;
        while (!f->left.empty()) {
            {
                ssize_t n = ::send(f->sock->fd(), f->left.data(), f->left.size(), MSG_NOSIGNAL);
                if (n >= 0) {
                    f->left.remove_prefix(static_cast<std::size_t>(n));
                    continue;
                }
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("send");
            }
            // co_await sock.sendable():
            f->awaiter.emplace(f->sock->sendable());
            if (!f->awaiter->await_ready()) {
                f->state = 1;                              // where to go on
                f->awaiter->await_suspend(f->handle());    // park the socket's Waiter
                return;                                    // suspended: back to the loop
            }
        after_the_wait:
            f->awaiter->await_resume(); // a TimeoutError comes out here
            f->awaiter.reset();
        }
    } catch (...) {
        f->awaiter.reset();
        f->promise.unhandled_exception(); // kept for whoever awaits the Task
    }
    // co_await promise.final_suspend(): done() is true once resume is null,
    // then jump to the awaiting coroutine (symmetric transfer).
    f->resume = nullptr;
    std::coroutine_handle<> next = f->promise.final_suspend().await_suspend(f->handle());
    next.resume();
}

void send_all_destroy(SendAllFrame* f) {
    f->~SendAllFrame(); // destroys whatever is alive in it: a parked awaiter leaves the loop
    free_frame(f, sizeof(SendAllFrame));
}

} // namespace

// The ramp: allocate the frame, copy the parameters in, make the Task, and
// stop (initial_suspend is suspend_always: a Task is lazy).
Task<void> lowered_send_all(Socket& sock, std::string data) {
    auto* f = new (allocate_frame(sizeof(SendAllFrame))) SendAllFrame(sock, std::move(data));
    return f->promise.get_return_object();
}

} // namespace ladder::coro
