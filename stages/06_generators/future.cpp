#include "future.hpp"

#include <stdexcept>
#include <utility>

namespace ladder::gen {

void Future::add_done_callback(Callback fn) {
    if (done_)
        fn(*this);
    else
        callbacks_.push_back(std::move(fn));
}

void Future::set_result(Value result) {
    if (done_) throw std::logic_error("Future::set_result: the future is already done");
    result_ = std::move(result);
    mark_done();
}

void Future::set_exception(std::exception_ptr error) {
    if (done_) throw std::logic_error("Future::set_exception: the future is already done");
    error_ = std::move(error);
    mark_done();
}

const Value& Future::result() const {
    if (!done_) throw std::logic_error("Future::result: the future is not done yet");
    if (error_) std::rethrow_exception(error_);
    return result_;
}

void Future::mark_done() {
    done_ = true;
    // A callback may end this future's life: Task::step resumes the generator
    // that waits on it, and the future is often a local of that generator.
    // So take the callbacks out first, and touch no member once they run.
    // (A future owned by a generator has exactly one callback — its Task's
    // step — so no later callback is handed a dead future.)
    std::vector<Callback> callbacks = std::exchange(callbacks_, {});
    for (Callback& fn : callbacks) fn(*this);
}

} // namespace ladder::gen
