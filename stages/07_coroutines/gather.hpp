// gather: run several Tasks concurrently and wait for all of them, like
// asyncio.gather(*aws).
//
//   auto [a, b] = co_await gather(fetch(x), fetch(y));          // a tuple
//   std::vector<int> all = co_await gather(std::move(tasks));   // a vector
//
// Every task starts at once. The results come back in the tasks' order. The
// first exception (first in time) is rethrown as soon as it happens; the other
// tasks are not awaited further and are destroyed — wherever each is parked —
// with the gather Task itself (stage 08 adds cancellation proper).
//
// No extra frame per task: each unfinished task's continuation is gather
// itself, so every task that ends resumes gather once, which counts down.
#pragma once

#include "loop.hpp"
#include "task.hpp"

#include <coroutine>
#include <exception>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace ladder::coro {

// What a Task<void> contributes to a tuple.
template <class T>
using gather_result_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

// gather's children, and an awaitable: `co_await children` parks gather until
// the next child finishes.
class Children {
  public:
    Children() = default;
    Children(const Children&) = delete;
    Children& operator=(const Children&) = delete;
    // Leaving gather early (an error): the children still running must not
    // resume gather's frame when they end.
    ~Children() {
        for (const Child& c : running_)
            if (!c.handle.done()) c.promise->continuation = std::noop_coroutine();
    }

    template <class T>
    void start(Task<T>& task) {
        coro::start(task); // runs now, up to its first co_await
        Child child{task.handle(), &task.handle().promise()};
        if (child.handle.done())
            note_error(child.promise->error); // finished on the spot
        else
            running_.push_back(child);
        left_ = running_.size();
    }

    bool failed() const noexcept { return bool(first_error_); }
    bool finished() const noexcept { return left_ == 0 || failed(); }
    void rethrow_first_error() const {
        if (first_error_) std::rethrow_exception(first_error_);
    }

    bool await_ready() const noexcept { return finished(); }
    void await_suspend(std::coroutine_handle<> gather) noexcept {
        if (watching_) return;
        watching_ = true;
        for (const Child& c : running_) c.promise->continuation = gather;
    }
    void await_resume() noexcept {
        --left_;                          // a child resumed us: it has finished...
        note_error(last_finished->error); // ...and left its promise here (task.hpp)
    }

  private:
    struct Child {
        std::coroutine_handle<> handle;
        PromiseBase* promise;
    };
    void note_error(const std::exception_ptr& error) noexcept {
        if (error && !first_error_) first_error_ = error;
    }

    std::vector<Child> running_; // the children that did not finish on the spot
    std::size_t left_ = 0;       // how many of them are still running
    std::exception_ptr first_error_;
    bool watching_ = false;
};

template <class T>
gather_result_t<T> result_of(Task<T>& task) {
    if constexpr (std::is_void_v<T>) {
        task.handle().promise().take_result();
        return {};
    } else {
        return task.handle().promise().take_result();
    }
}

} // namespace detail

template <class T>
using gather_vector_t = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

// Over a vector: a vector of the results (for Task<void>: nothing).
template <class T>
Task<gather_vector_t<T>> gather(std::vector<Task<T>> tasks) {
    detail::Children children;
    for (Task<T>& task : tasks) {
        if (children.failed()) break; // one failed on the spot: no point starting more
        children.start(task);
    }
    while (!children.finished()) co_await children; // each child that ends resumes us here
    children.rethrow_first_error();
    if constexpr (!std::is_void_v<T>) {
        std::vector<T> results;
        results.reserve(tasks.size());
        for (Task<T>& task : tasks) results.push_back(detail::result_of(task));
        co_return results;
    }
}

// Over a fixed list: a tuple of the results (std::monostate for a Task<void>).
template <class... T>
Task<std::tuple<gather_result_t<T>...>> gather(Task<T>... tasks) {
    detail::Children children;
    (children.start(tasks), ...);
    while (!children.finished()) co_await children;
    children.rethrow_first_error();
    co_return std::tuple<gather_result_t<T>...>{detail::result_of(tasks)...};
}

} // namespace ladder::coro
