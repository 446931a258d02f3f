// Task<T>: a coroutine that will produce a T (or throw) — what calling an
// `async def` function gives you in Python.
//
//   Task<int> answer() { co_return 42; }
//   Task<void> caller() { int x = co_await answer(); ... }
//
// - Lazy: calling answer() only builds the frame; nothing runs until someone
//   co_awaits the Task or start()s it.
// - Owning: the Task is the one owner of its frame and destroys it; move-only.
// - When it finishes, final_suspend jumps straight into the coroutine that
//   awaited it (symmetric transfer): a chain of 100,000 nested awaits unwinds
//   without growing the stack (where the compiler makes that jump a tail
//   call: notes/07).
// - The result is a value or an exception; co_await returns the one or
//   rethrows the other, right at the co_await.
#pragma once

#include "frame_count.hpp"

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <utility>

namespace ladder::coro {

namespace detail {

// What every Task's promise has, whatever T is.
struct PromiseBase {
    explicit PromiseBase(const char* coroutine) noexcept : name(coroutine) {}

    // Every frame's memory, counted (common/frame_count.hpp).
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

    std::suspend_always initial_suspend() noexcept { return {}; } // lazy: wait to be awaited
    // At the end, resume whoever awaited us — by returning its handle, so the
    // compiler jumps there instead of calling it. Nobody awaiting us (yet):
    // the continuation is the no-op coroutine, which returns to the loop.
    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
            return self.promise().continuation;
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }

    std::coroutine_handle<> continuation; // null: not started yet
    std::exception_ptr error;             // the body threw this
    const char* name;                     // the coroutine's: "fetch" (Task::promise_type)
};

template <class T>
struct Promise : PromiseBase {
    using PromiseBase::PromiseBase;
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T result() {
        if (error) std::rethrow_exception(error);
        return std::move(*value);
    }
    std::optional<T> value;
};

template <>
struct Promise<void> : PromiseBase {
    using PromiseBase::PromiseBase;
    void return_void() noexcept {}
    void result() {
        if (error) std::rethrow_exception(error);
    }
};

} // namespace detail

// The name of the coroutine behind `h` ("fetch"), if it is a Task's, for
// whoever watches the loop. An awaitable learns it in await_suspend.
template <class P>
const char* coroutine_name(std::coroutine_handle<P> h) noexcept {
    if constexpr (std::is_base_of_v<detail::PromiseBase, P>)
        return h.promise().name;
    else
        return "a coroutine";
}

template <class T>
class [[nodiscard]] Task {
  public:
    struct promise_type : detail::Promise<T> {
        // The compiler makes the promise in the coroutine itself, so this
        // default argument is the coroutine's name, for whoever looks at a
        // parked chain. (It fills room the allocator rounds a frame up to.)
        promise_type(const char* coroutine = __builtin_FUNCTION()) noexcept
            : detail::Promise<T>(coroutine) {}
        Task get_return_object() noexcept { return Task(Handle::from_promise(*this)); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task() noexcept = default; // empty, like a moved-from Task
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Task& operator=(Task other) noexcept {
        std::swap(handle_, other.handle_);
        return *this;
    }
    // Destroying the frame destroys everything alive in it: a task dropped
    // while parked takes itself off the loop (~Waiter, loop.hpp).
    ~Task() {
        if (handle_) handle_.destroy();
    }

    bool valid() const noexcept { return bool(handle_); }
    bool started() const noexcept { return handle_ && handle_.promise().continuation; }
    bool done() const noexcept { return handle_ && handle_.done(); }

    // Run it now, up to its first co_await, with nobody awaiting it yet (the
    // loop resumes it from there). It can still be awaited later.
    void start() {
        if (started()) return;
        checked("start").promise().continuation = std::noop_coroutine();
        handle_.resume();
    }
    // Once it is done: its value, or its exception rethrown. Taken once.
    T result() {
        if (!checked("take the result of").done())
            throw std::logic_error("the task has not finished yet");
        return handle_.promise().result();
    }

    // co_await task: start it (or, if it runs already, wait for it to end),
    // then its value or its exception.
    struct Awaiter {
        explicit Awaiter(Handle task) noexcept : task(task) {}
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        // Our frame dies while the task, started and owned elsewhere, still
        // runs: it must not resume a frame that is gone.
        ~Awaiter() {
            if (!task.done() && task.promise().continuation)
                task.promise().continuation = std::noop_coroutine();
        }
        bool await_ready() const noexcept { return task.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            bool running = bool(task.promise().continuation);
            task.promise().continuation = awaiting;
            return running ? std::noop_coroutine() : std::coroutine_handle<>(task);
        }
        T await_resume() { return task.promise().result(); }
        Handle task;
    };
    Awaiter operator co_await() const { return Awaiter(checked("co_await")); }

  private:
    explicit Task(Handle h) noexcept : handle_(h) {}
    Handle checked(const char* what) const {
        if (!handle_)
            throw std::logic_error(std::string("cannot ") + what +
                                   " an empty Task (moved from, or never made)");
        return handle_;
    }

    Handle handle_;
};

} // namespace ladder::coro
