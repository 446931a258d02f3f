// Generator: a C++20 coroutine used the way Python used generators as
// coroutines before async/await (PEP 342, then PEP 380's yield from).
//
//   Python (seed §4.5)                  here
//   chunk = yield f                     Value chunk = co_yield f;       // f is a Future
//   chunk = yield from read(sock)       Value chunk = co_yield read(selector, fd);
//   return response                     co_return response;
//   gen.send(value) / gen.throw(error)  what Task::step does (task.cpp)
//
// A Generator runs nothing by itself. Whoever drives it (a Task) resumes it;
// it runs until its next co_yield, where it hands over what it waits for and
// suspends. The next resume makes that co_yield return the value sent in — or
// throw the error thrown in.
#pragma once

#include "future.hpp"

#include <coroutine>
#include <exception>
#include <utility>

namespace ladder::gen {

class [[nodiscard]] Generator {
  public:
    struct promise_type;
    using Handle = std::coroutine_handle<promise_type>;

    // What a co_yield expression evaluates to once the Task resumes us.
    struct Resumption {
        promise_type& promise;
        bool await_ready() const noexcept { return false; } // always suspend: the Task decides
        void await_suspend(Handle) const noexcept {}        // back to Task::step's resume()
        Value await_resume() const {
            if (promise.thrown) std::rethrow_exception(std::exchange(promise.thrown, nullptr));
            return std::move(promise.sent);
        }
    };

    // The coroutine frame's state, which Task::step reads and writes.
    struct promise_type {
        // What we yielded, read by the Task: one of the two is set while suspended.
        Future* future = nullptr; // co_yield future:   wait until it is done
        Handle sub;               // co_yield generator: run it first (yield from)
        // What the Task sends in before resuming us (send / throw).
        Value sent;
        std::exception_ptr thrown;
        // How we ended: the co_return value, or the error that escaped the body.
        Value returned;
        std::exception_ptr error;

        Generator get_return_object() { return Generator(Handle::from_promise(*this)); }
        // Like calling a Python generator function: the body does not start yet.
        std::suspend_always initial_suspend() noexcept { return {}; }
        // Stay suspended at the end so the Task can read `returned` and `error`;
        // the Generator object that owns the frame destroys it.
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_value(Value value) { returned = std::move(value); }
        void unhandled_exception() noexcept { error = std::current_exception(); }

        Resumption yield_value(Future& f) noexcept {
            future = &f;
            return Resumption{*this};
        }
        // `co_yield read(...)`: the sub-generator is a temporary of the
        // co_yield expression, so it lives (and owns its frame) until we are
        // resumed with its return value; the Task only borrows its handle.
        Resumption yield_value(Generator&& g) noexcept {
            sub = g.handle_;
            return Resumption{*this};
        }
    };

    Generator(Generator&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Generator& operator=(Generator&& other) noexcept {
        if (this != &other) {
            if (handle_) handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    // Destroying a suspended generator destroys its locals — and with them the
    // sub-generator it is inside of, and so on down: no frame is leaked.
    ~Generator() {
        if (handle_) handle_.destroy();
    }

    Handle handle() const noexcept { return handle_; }

  private:
    explicit Generator(Handle h) noexcept : handle_(h) {}
    Handle handle_;
};

} // namespace ladder::gen
