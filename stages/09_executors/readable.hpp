// readable(fd): the one awaitable 09 builds from 07's Waiter.
//
//   co_await readable(fd);   // a worker's socket has its reply (or the worker died)
//
// The Waiter lives in the awaiting frame; the loop watches fd only while a
// coroutine waits on it. The fd is not ours: its owner closes it.
#pragma once

#include "07_coroutines/loop.hpp"

#include <coroutine>
#include <exception>

namespace ladder::coro {

class Readable {
  public:
    Readable(int fd, unsigned line) noexcept {
        waiter_.fd = fd;
        waiter_.events = EVENT_READ;
        waiter_.line = static_cast<std::uint16_t>(line);
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> self) {
        park(waiter_, self);
    }
    void await_resume() const {
        if (waiter_.error) std::rethrow_exception(waiter_.error); // cancelled (08)
    }

  private:
    Waiter waiter_;
};

inline Readable readable(int fd, unsigned line = __builtin_LINE()) noexcept {
    return Readable(fd, line);
}

} // namespace ladder::coro
