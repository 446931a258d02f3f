// Bookkeeping, kept out of the lesson's way: which fd the selector watches for
// a waiting generator (Registration), and --timeout-ms (Deadlines).
#pragma once

#include "error.hpp"
#include "future.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "task.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace ladder::gen {

// An fd registered with the selector for exactly as long as this object lives.
// The seed registers before its `yield` and unregisters on the line after;
// here the destructor unregisters, because when an error is thrown in at the
// co_yield (a refused connect, a timeout), the line after never runs — and a
// registration left behind would point the selector at a dead frame.
//
// key.data points at the Registration; when the fd is ready the event loop
// calls ready(), which runs the selector callback on the waited-for future.
class Registration {
  public:
    using Callback = void (*)(int fd, Future& future);

    Registration(Selector& selector, int fd, unsigned events, Future& future, Callback callback)
        : selector_(selector), fd_(fd), future_(future), callback_(callback) {
        selector_.add(fd, events, this);
    }
    ~Registration() { selector_.remove(fd_); }
    Registration(const Registration&) = delete; // it would unregister twice

    void ready() { callback_(fd_, future_); }

  private:
    Selector& selector_;
    int fd_;
    Future& future_;
    Callback callback_;
};

// As in 05: every page has the same timeout and the pages started in order,
// so the oldest unfinished page is always the next to time out — no heap.
// What is new: a page out of time gets a TimeoutError thrown in at the
// co_yield where it waits (Task::cancel), not a callback of its own.
struct Deadlines {
    std::deque<Task>& tasks;
    std::chrono::milliseconds timeout;
    std::vector<Clock::time_point> due{}; // when each task runs out of time, in start order
    std::size_t oldest = 0;               // the tasks before it are done, or timed out

    // Moves `oldest` past the tasks that are done; false once none is running.
    bool any_running() {
        while (oldest < tasks.size() && tasks[oldest].done()) ++oldest;
        return oldest < tasks.size();
    }

    // How long select() may sleep before the next task times out.
    Timeout time_left() {
        if (!any_running()) return std::nullopt;
        return due[oldest] - Clock::now();
    }

    void time_out_overdue() {
        auto now = Clock::now();
        while (any_running() && due[oldest] <= now) {
            tasks[oldest].cancel(std::make_exception_ptr(TimeoutError(
                "timed out after " + std::to_string(timeout.count()) + " ms (--timeout-ms)")));
            ++oldest; // even if the generator swallowed the error: it had its chance
        }
    }
};

} // namespace ladder::gen
