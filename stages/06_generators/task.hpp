// The seed's Task (§4.4.3), grown to run yield from (§4.5): it drives one
// generator, and the sub-generators it yields, one step at a time.
//
//   class Task:                         ladder::gen::Task
//       __init__(coro): step(done f)    Task(coro)
//       step(future):                   step(future)
//           next_future = coro.send(future.result)
//           next_future.add_done_callback(step)
//
// A Task is itself a Future (as in asyncio): it is done when its generator has
// returned (set_result) or let an error escape (set_exception).
#pragma once

#include "future.hpp"
#include "generator.hpp"

#include <exception>
#include <vector>

namespace ladder::gen {

class Task : public Future {
  public:
    // Starts the generator at once and runs it to its first wait, as the
    // seed's Task.__init__ does.
    explicit Task(Generator coro);

    // Throw `error` into the generator at the co_yield where it waits — the
    // way asyncio's Task.cancel() throws CancelledError in. The innermost
    // sub-generator sees it first; whoever does not catch it passes it up.
    // Does nothing once the task is done.
    void cancel(std::exception_ptr error);

  private:
    void step(Future& future);
    void resume(Value value, std::exception_ptr error);

    Generator coro_;                       // owns the outermost frame
    std::vector<Generator::Handle> stack_; // coro_, then each sub-generator it is in
    Future* waiting_on_ = nullptr;         // the future step is attached to
};

} // namespace ladder::gen
