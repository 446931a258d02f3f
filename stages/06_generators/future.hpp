// The seed's Future (§4.4.1): a result that is not there yet, and the
// callbacks to run once it is.
//
//   class Future:                          ladder::gen::Future
//       result, _callbacks                 result_ (or error_), callbacks_
//       add_done_callback(fn)              add_done_callback(fn)
//       set_result(result)                 set_result(result) / set_exception(error)
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ladder::gen {

// What futures carry and generators return. In Python that is any object; a
// crawl only ever hands bytes around, so here it is bytes: a std::string
// (empty when there is nothing to say, like the seed's None).
using Value = std::string;

class Future {
  public:
    using Callback = std::function<void(Future&)>;

    Future() = default;
    Future(const Future&) = delete; // callbacks and selector keys point at it
    Future& operator=(const Future&) = delete;

    // fn(*this) runs when the future is done — at once if it already is.
    void add_done_callback(Callback fn) {
        if (done_)
            fn(*this);
        else
            callbacks_.push_back(std::move(fn));
    }

    // Make the future done and run its callbacks, in the order they were
    // added. Doing it twice is a std::logic_error (asyncio: InvalidStateError).
    void set_result(Value result = {}) {
        if (done_) throw std::logic_error("Future::set_result: the future is already done");
        result_ = std::move(result);
        mark_done();
    }
    void set_exception(std::exception_ptr error) {
        if (done_) throw std::logic_error("Future::set_exception: the future is already done");
        error_ = std::move(error);
        mark_done();
    }

    bool done() const noexcept { return done_; }
    // The result — or the error rethrown; std::logic_error while not done.
    const Value& result() const {
        if (!done_) throw std::logic_error("Future::result: the future is not done yet");
        if (error_) std::rethrow_exception(error_);
        return result_;
    }
    std::exception_ptr exception() const noexcept { return error_; }

  private:
    void mark_done() {
        done_ = true;
        // A callback may end this future's life: Task::step resumes the
        // generator that waits on it, and the future is often a local of that
        // generator. So take the callbacks out first, and touch no member once
        // they run. (A future owned by a generator has exactly one callback —
        // its Task's step — so no later callback is handed a dead future.)
        std::vector<Callback> callbacks = std::exchange(callbacks_, {});
        for (Callback& fn : callbacks) fn(*this);
    }

    bool done_ = false;
    Value result_;
    std::exception_ptr error_;
    std::vector<Callback> callbacks_;
};

} // namespace ladder::gen
