// The event loop: a ready list, a waiting list, and the selector that moves
// coroutines from the second to the first (seed 000's picture of asyncio).
//
//   run(main())            the root call, like asyncio.run(main())
//   spawn(task)            run a Task concurrently, like asyncio.create_task()
//
// Each turn of the loop (run_once): ask the selector which fds are ready —
// sleeping no longer than the nearest deadline, and not at all if something is
// already ready — move those waiters and the ones whose deadline passed to the
// ready list, then resume everything that was ready at that moment.
#pragma once

#include "lists.hpp"
#include "selector.hpp"
#include "task.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace ladder::coro {

// Thrown at the co_await of a task that was cancelled (stage 08). Like
// Python's CancelledError (a BaseException since 3.8) it is NOT a
// std::exception, so `catch (const std::exception&)` does not swallow it.
struct CancelledError {
    const char* what() const noexcept { return "cancelled"; }
};

class Loop {
  public:
    // Becomes this thread's current loop until it is destroyed.
    explicit Loop(std::string_view selector = "epoll");
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // The current loop; outside of one, std::logic_error.
    static Loop& current();
    static Loop* current_or_null() noexcept;

    // Ready list: resume w.handle on the next turn (asyncio's loop.call_soon).
    void call_soon(Wakeup& w) noexcept { ready_.push_back(w); }

    // Waiting list: park w until its fd is ready for its events or its
    // deadline passes; then it moves to the ready list with outcome ready or
    // timed_out. Throws (and parks nothing) if the selector refuses the fd.
    void wait(Waiter& w);
    // Take w off both lists; a waiter's destructor calls it.
    void forget(Waiter& w) noexcept;
    // Stop watching fd (a Socket calls it before it closes fd).
    void unwatch(int fd) noexcept;

    // One turn (see above). Returns false, doing nothing, when nothing is
    // ready or waiting: no turn could ever change anything again.
    bool run_once();

    // Turn until done() is true.
    template <class Done>
    void run_until(Done done) {
        while (!done())
            if (!run_once())
                throw std::logic_error("the loop has nothing left to run or wait for, but the "
                                       "main task is not done (it awaits something that "
                                       "nothing will ever finish)");
    }

    std::string_view selector_name() const noexcept { return selector_->name(); }
    std::size_t waiting() const noexcept { return parked_; } // how many waiters are parked
    std::size_t watched() const noexcept { return selector_->size(); } // fds in the selector
    std::uint64_t turns() const noexcept { return turns_; }
    // Which loop this is, unique in the process (a new loop may have an old one's address).
    std::uint64_t serial() const noexcept { return serial_; }

    // Stage 08's cancellation. A cancellable task has an id (0: none); the loop
    // knows which task runs now, tags every waiter parked meanwhile with it, and
    // remembers where each such task is parked, so cancel(id) can wake it there
    // with Outcome::cancelled. Tasks without an id (all of 07) pay one branch.
    std::uint32_t current_task() const noexcept { return current_task_; }
    void set_current_task(std::uint32_t task) noexcept { current_task_ = task; }
    // A waiter parked on some other list (a Lock's queue...): cancel() finds it too.
    void park_elsewhere(Waiter& w);
    // Waking it: take it off the other list first, then call this.
    void unpark_elsewhere(Waiter& w, Waiter::Outcome outcome) noexcept;
    // Wake every waiter of `task` with Outcome::cancelled; if it is not
    // parked (it is ready to run), its next park throws CancelledError.
    void cancel(std::uint32_t task) noexcept;
    void forget_task(std::uint32_t task) noexcept { cancel_pending_.erase(task); }
    // Was `task` cancelled while it was not parked? Then true, once: the cancel is taken.
    bool take_cancel(std::uint32_t task) noexcept { return task && cancel_pending_.erase(task) > 0; }

  private:
    void note_parked(Waiter& w);
    void note_unparked(Waiter& w) noexcept;

    void watch(Waiter& w);
    void leave_waiting_list(Waiter& w, bool keep_watching) noexcept;
    void wake(Waiter& w, Waiter::Outcome outcome) noexcept;

    std::unique_ptr<Selector> selector_; // waiters with an fd: key.data is the Waiter*
    ReadyList ready_;
    DeadlineHeap deadlines_; // waiters with a deadline, earliest first
    std::size_t parked_ = 0;
    std::uint64_t turns_ = 0;
    Loop* outer_; // the loop that was current before this one
    static inline std::atomic<std::uint64_t> last_serial_{0};
    std::uint64_t serial_ = ++last_serial_;
    std::uint32_t current_task_ = 0;
    std::unordered_multimap<std::uint32_t, Waiter*> parked_tasks_; // stage 08: task -> waiters
    std::unordered_set<std::uint32_t> cancel_pending_;             // cancelled while not parked
};

// co_await yield_now(): go to the back of the ready list, letting everything
// else that is ready run first (Python: await asyncio.sleep(0)).
inline auto yield_now() noexcept {
    struct Awaiter {
        Wakeup wakeup;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> self) noexcept {
            wakeup.handle = self;
            wakeup.task = Loop::current().current_task();
            Loop::current().call_soon(wakeup);
        }
        void await_resume() const noexcept {}
    };
    return Awaiter{};
}

// Start a task that nobody has started: it runs now, up to its first co_await,
// and from then on the loop resumes it whenever what it waits for is ready.
template <class T>
void start(Task<T>& task) {
    if (task.started()) return;
    task.handle().promise().continuation = std::noop_coroutine(); // no one awaits it (yet)
    task.handle().resume();
}

// Run `task` concurrently with the caller (asyncio.create_task). Like 05's
// Crawler.fetch() it begins at once — up to its first co_await — instead of
// waiting for the next turn. Keep the returned Task: co_await it for the
// result; destroying it destroys the coroutine wherever it is parked.
template <class T>
[[nodiscard]] Task<T> spawn(Task<T> task) {
    start(task);
    return task;
}

// The root call (asyncio.run): a fresh loop runs `main` to the end and returns
// its result or rethrows its exception.
template <class T>
T run(Task<T> main, std::string_view selector = "epoll") {
    Loop loop(selector);
    Task<T> root = std::move(main); // declared after the loop, so destroyed before it
    start(root);
    loop.run_until([&] { return root.done(); });
    return root.handle().promise().take_result();
}

} // namespace ladder::coro
