#include "process_executor.hpp"
#include "readable.hpp"

#include <utility>

namespace ladder::coro {

namespace {

// The one function the pool's workers run: look the name up, run that
// function. A request is "name\nargument".
WorkerFunction dispatch(ProcessExecutor::NamedFunctions functions) {
    return [functions = std::move(functions)](const std::string& request) {
        auto newline = request.find('\n');
        auto found = functions.find(request.substr(0, newline));
        if (found == functions.end() || newline == std::string::npos)
            throw std::runtime_error("no function named '" + request.substr(0, newline) + "'");
        return found->second(request.substr(newline + 1));
    };
}

} // namespace

ProcessExecutor::ProcessExecutor(int workers, NamedFunctions functions)
    : pool_(workers, dispatch(std::move(functions))) {
    idle_.on_lost_wakeup = [this] { worker_freed(); }; // pass a free worker on
}

Task<std::string> ProcessExecutor::run(std::string name, std::string argument) {
    int worker;
    while ((worker = pool_.idle_worker()) < 0) {
        if (pool_.alive() == 0) throw ProcessJobError("no worker process left to run " + name);
        co_await idle_.wait(); // all busy: until one finishes (FIFO, like the pool's queue)
    }
    // Cancelled after a worker freed up for us, but before we ran? Pass the
    // worker on and stop here: the cancel would otherwise strike at our next
    // co_await, after hand_out(), and cost that worker its life.
    if (JobBase* job = Cancellation::current().running(); job && job->cancelling()) {
        worker_freed();
        throw CancelledError{};
    }
    pool_.hand_out(worker, requests_++, name + "\n" + argument);

    // If this coroutine is cancelled or destroyed while the worker computes,
    // nobody will read its reply, and the next job must not get it: stop
    // that worker. (A process can be killed; a thread cannot.)
    struct AbandonGuard {
        ProcessExecutor& executor;
        int worker;
        bool armed = true;
        ~AbandonGuard() {
            if (!armed) return;
            executor.pool_.kill_worker(worker);
            executor.worker_freed();
        }
    } guard{*this, worker};

    co_await readable(pool_.socket_of(worker)); // the reply, or end of stream if it died
    guard.armed = false;
    Outcome outcome = pool_.take_reply(worker); // reaps the worker if it died
    worker_freed();
    if (!outcome.ok) throw ProcessJobError(name + ": " + outcome.text);
    co_return outcome.text;
}

void ProcessExecutor::worker_freed() noexcept {
    if (pool_.alive() > 0)
        idle_.wake_one(); // the longest waiter takes the free worker
    else
        idle_.wake_all(); // none left: every waiter must learn it and give up
}

} // namespace ladder::coro
