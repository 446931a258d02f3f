// Task<T>: a coroutine that will produce a T (or throw), the C++ twin of what
// calling an `async def` function gives you in Python.
//
//   Task<int> answer() { co_return 42; }
//   Task<void> caller() { int x = co_await answer(); ... }
//
// - Lazy: calling answer() only builds the frame; nothing runs until someone
//   co_awaits the Task (or spawn()s it, see loop.hpp).
// - Owning: the Task is the one owner of its frame and destroys it; move-only.
// - When it finishes, final_suspend jumps straight into the coroutine that
//   awaited it (symmetric transfer): a chain of 100,000 nested awaits unwinds
//   without growing the stack.
// - The result is a value or an exception; co_await returns the one or
//   rethrows the other, right at the co_await.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace ladder::coro {

// Every coroutine frame a Task allocates is counted here (one thread only):
// the compiler asks the promise's operator new for exactly the frame's size.
struct FrameStats {
    std::size_t allocated = 0, freed = 0, bytes = 0;
    std::size_t live() const noexcept { return allocated - freed; }
};
extern FrameStats frame_stats;

// Where frames come from (task.cpp): malloc/free, counted.
void* allocate_frame(std::size_t size);
void free_frame(void* frame) noexcept;

template <class T>
class Task;

namespace detail {

class PromiseBase;

// The task whose final_suspend ran last. The coroutine it resumes can look here
// to learn which task that was: gather() does, since all its children resume it.
inline PromiseBase* last_finished = nullptr;

// What every Task's promise has, whatever T is.
class PromiseBase {
  public:
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* frame) noexcept { free_frame(frame); }

    std::suspend_always initial_suspend() noexcept { return {}; } // lazy: wait to be awaited

    // At the end, resume whoever awaited us — by returning its handle, so the
    // compiler jumps there instead of calling it (no stack growth). With no one
    // waiting, the continuation is the no-op coroutine: back to the loop.
    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
            last_finished = &self.promise();
            return self.promise().continuation;
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept { error = std::current_exception(); }

    // Who runs next when we finish: null while nobody has started us, then the
    // coroutine awaiting us, or std::noop_coroutine() when nobody is (yet).
    std::coroutine_handle<> continuation;
    std::exception_ptr error; // set if the body threw
};

template <class T>
class Promise : public PromiseBase {
  public:
    Task<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take_result() {
        if (error) std::rethrow_exception(error);
        return std::move(*value);
    }

    std::optional<T> value;
};

template <>
class Promise<void> : public PromiseBase {
  public:
    Task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take_result() {
        if (error) std::rethrow_exception(error);
    }
};

} // namespace detail

template <class T>
class [[nodiscard]] Task {
  public:
    using promise_type = detail::Promise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    Task() noexcept = default;
    explicit Task(Handle h) noexcept : handle_(h) {}
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            if (handle_) handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    // Destroying the frame runs the destructors of everything alive in it, so a
    // task dropped while parked on the loop leaves the loop's lists (lists.hpp).
    ~Task() {
        if (handle_) handle_.destroy();
    }

    bool valid() const noexcept { return bool(handle_); }
    bool started() const noexcept { return bool(handle_.promise().continuation); }
    bool done() const noexcept { return handle_ && handle_.done(); }
    Handle handle() const noexcept { return handle_; }

    // co_await task: run it (or, if it was spawn()ed, wait for it) and return its
    // result or rethrow its exception. A result can be taken once.
    struct Awaiter {
        Handle task;

        bool await_ready() const noexcept { return task.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            bool running = task.promise().continuation != nullptr;
            task.promise().continuation = awaiting;
            if (running) return std::noop_coroutine(); // spawned: it resumes us when done
            return task;                               // start it now, by a jump rather than a call
        }
        T await_resume() { return task.promise().take_result(); }

        explicit Awaiter(Handle h) noexcept : task(h) {}
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        // Destroyed while a spawned task still runs (our frame is being
        // destroyed): it must not resume us when it finishes.
        ~Awaiter() {
            if (task && !task.done() && task.promise().continuation)
                task.promise().continuation = std::noop_coroutine();
        }
    };
    Awaiter operator co_await() const noexcept { return Awaiter{handle_}; }

  private:
    Handle handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
} // namespace detail

} // namespace ladder::coro
