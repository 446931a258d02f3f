// Generator: a C++20 coroutine used the way Python used generators as
// coroutines before async/await (PEP 342; the seed's §4.4.2).
//
//   Python                               here
//   chunk = yield f                      Value chunk = co_yield f;   // f is a Future
//   return response                      co_return response;
//   gen.send(None)                       gen.resume()
//
// Calling a generator function runs nothing. Each resume() runs the body up to
// its next co_yield, where it hands out the Future it waits for and suspends.
// When it is resumed after that future is done, the co_yield evaluates to the
// future's result — or throws its error, right at the line that waited.
// (Python's Task sends the result in; here the generator takes it from the
// future, as the seed's Future.__iter__ does from §4.5 on.)
#pragma once

#include "future.hpp"

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <utility>

namespace ladder::gen {

class [[nodiscard]] Generator {
  public:
    struct promise_type;
    using Handle = std::coroutine_handle<promise_type>;

    // A co_yield always suspends, back to resume(). When the body is resumed,
    // await_resume() is what the co_yield expression evaluates to.
    struct Resumption : std::suspend_always {
        promise_type& promise;
        Value await_resume() const {
            if (promise.yielded) return promise.yielded->result(); // or throws its error
            return promise.yielded_generator->result();            // step 2: the same
        }
    };

    // The coroutine frame's state, which resume() reads.
    struct promise_type {
        Future* yielded = nullptr; // co_yield f: the future the body waits on
        Value returned;            // co_return value
        std::exception_ptr error;  // or the error that escaped the body

        Generator get_return_object() { return Generator(Handle::from_promise(*this)); }
        std::suspend_always initial_suspend() noexcept { return {}; } // like Python: not yet
        // Stay suspended at the end, so that result() can still read the frame;
        // the Generator that owns the frame destroys it.
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_value(Value value) { returned = std::move(value); }
        void unhandled_exception() noexcept { error = std::current_exception(); }

        Resumption yield_value(Future& f) noexcept {
            yielded = &f;
            return {{}, *this};
        }

        // Step 2 (§4.5, yield_from.hpp): `co_yield read(...)` hands out a
        // sub-generator instead. It is a temporary of the co_yield expression,
        // so it lives until we are resumed; yield_from() only borrows it.
        Generator* yielded_generator = nullptr;
        Resumption yield_value(Generator&& g) noexcept {
            yielded = nullptr;
            yielded_generator = &g;
            return {{}, *this};
        }
    };

    Generator(Generator&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    // Destroying a suspended generator destroys its locals — a Registration
    // unregisters its fd, an Fd closes its socket, a sub-generator it waits in
    // is destroyed in turn: no frame is leaked.
    ~Generator() {
        if (handle_) handle_.destroy();
    }

    // Run the body to its next co_yield. Returns the Future yielded there — or
    // nullptr once the body has ended (result() says how), or when it yielded
    // a generator (yielded_generator()).
    Future* resume() {
        if (!handle_ || handle_.done())
            throw std::logic_error("Generator::resume: the generator has ended");
        handle_.resume();
        return handle_.done() ? nullptr : handle_.promise().yielded;
    }

    bool done() const noexcept { return handle_ && handle_.done(); }
    // The co_return value, or the error that escaped the body rethrown (like
    // Future::result); a std::logic_error while the body has not ended.
    const Value& result() const {
        if (!done())
            throw std::logic_error("Generator::result: the generator has not ended"
                                   " (one that yields a generator needs yield_from)");
        if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
        return handle_.promise().returned;
    }
    // After a resume() that returned nullptr: the sub-generator the body yielded, if any.
    Generator* yielded_generator() const noexcept {
        return handle_ && !handle_.done() ? handle_.promise().yielded_generator : nullptr;
    }

  private:
    explicit Generator(Handle h) noexcept : handle_(h) {}
    Handle handle_;
};

} // namespace ladder::gen
