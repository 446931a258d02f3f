// Awaitables 09 builds from 07's Waiter for what it waits on.
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
    explicit Readable(int fd) noexcept {
        waiter_.fd = fd;
        waiter_.events = EVENT_READ;
        waiter_.what = "read";
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) {
        waiter_.handle = self;
        Loop::current().wait(waiter_);
    }
    void await_resume() const {
        if (waiter_.error) std::rethrow_exception(waiter_.error); // cancelled (08)
    }

  private:
    Waiter waiter_;
};

inline Readable readable(int fd) noexcept {
    return Readable(fd);
}

} // namespace ladder::coro
