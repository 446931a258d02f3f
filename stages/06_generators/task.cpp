#include "task.hpp"

#include <utility>

namespace ladder::gen {

Task::Task(Generator coro) : coro_(std::move(coro)) {
    stack_.push_back(coro_.handle());
    // As in the seed: a future that is already done, with no result, gets the
    // generator going (Python's coro.send(None)).
    Future start;
    start.set_result();
    step(start);
}

// Task.step: the future this task waited on is done. Send its result into the
// generator that waited — or throw its error in — and run on.
void Task::step(Future& future) {
    waiting_on_ = nullptr;
    std::exception_ptr error = future.exception();
    Value value = error ? Value() : future.result();
    resume(std::move(value), error); // the future may die in there: not a word to it after
}

// The trampoline. stack_.back() is the innermost generator, the one to run.
// Resume it with (value, error), then look at what it did:
//   - yielded a sub-generator: push it and run it  (yield from);
//   - finished: pop it, and resume its parent with its return value or error;
//   - yielded a Future: attach step as its done-callback, return to the loop.
void Task::resume(Value value, std::exception_ptr error) {
    for (;;) {
        Generator::Handle top = stack_.back();
        Generator::promise_type& p = top.promise();
        p.sent = std::move(value); // what its co_yield will return ...
        p.thrown = error;          // ... or throw
        top.resume();              // runs its code up to its next co_yield, or its end
        value = Value();
        error = nullptr;

        if (top.done()) {
            value = std::move(p.returned);
            error = p.error;
            stack_.pop_back();
            if (stack_.empty()) return error ? set_exception(error) : set_result(std::move(value));
            continue; // the parent's co_yield returns that value, or throws that error
        }
        if (p.sub) {
            stack_.push_back(std::exchange(p.sub, {})); // fresh: nothing to send it yet
            continue;
        }
        Future& next = *std::exchange(p.future, nullptr);
        if (next.done()) { // nothing to wait for: hand its outcome straight back
            error = next.exception();
            if (!error) value = next.result();
            continue;
        }
        waiting_on_ = &next;
        next.add_done_callback([this](Future& f) { step(f); });
        return; // to whoever completed the last future: the event loop, in the end
    }
}

void Task::cancel(std::exception_ptr error) {
    if (waiting_on_ && !waiting_on_->done()) waiting_on_->set_exception(std::move(error));
}

} // namespace ladder::gen
