// The seed's Task (§4.4.3): it drives one generator from Future to Future.
//
//   class Task:                                   ladder::gen::Task
//       def __init__(self, coro):                 Task(Generator coro)
//           f = Future(); f.set_result(None)
//           self.step(f)                          step()
//       def step(self, future):                   step()
//           next_future = self.coro.send(future.result)
//           next_future.add_done_callback(self.step)
//
// A Task is itself a Future (as in asyncio): it is done when its generator has
// returned (set_result) or let an error escape (set_exception).
//
// Step 2 (§4.5) changes nothing here, as in the seed: a Task runs the
// generator that yield_from() makes of fetch() and its sub-generators.
#pragma once

#include "future.hpp"
#include "generator.hpp"

#include <exception>
#include <utility>

namespace ladder::gen {

class Task : public Future {
  public:
    // Starts the generator at once and runs it to its first wait, as the
    // seed's Task.__init__ does.
    explicit Task(Generator coro) : coro_(std::move(coro)) { step(); }

    // Throw `error` into the generator at the co_yield where it waits — the
    // way asyncio's Task.cancel() throws CancelledError in: the future it
    // waits on fails, and the co_yield rethrows that. Does nothing once the
    // task is done.
    void cancel(std::exception_ptr error) {
        if (waiting_on_ && !waiting_on_->done()) waiting_on_->set_exception(std::move(error));
    }

  private:
    // Task.step: the future this task waited on is done. Resume the generator
    // — its co_yield takes the future's result, or throws its error — up to
    // its next co_yield, and wait on the future it yields there.
    void step() {
        waiting_on_ = nullptr;
        Future* next = coro_.resume();
        // Already done: resume again, in this loop — a done callback would
        // run step at once, one C++ stack frame deeper per future.
        while (next && next->done()) next = coro_.resume();
        if (!next) return finish();
        waiting_on_ = next;
        next->add_done_callback([this](Future&) { step(); });
        // Back to whoever completed the last future: the event loop, in the end.
    }

    // The seed's `except StopIteration: return`: the generator has ended, and
    // so has this task — with its return value, or the error that escaped it.
    void finish() {
        Value result;
        try {
            result = coro_.result();
        } catch (...) {
            return set_exception(std::current_exception());
        }
        set_result(std::move(result));
    }

    Generator coro_;
    Future* waiting_on_ = nullptr; // the future step is attached to
};

} // namespace ladder::gen
