// The event loop — seed 000's picture of asyncio, in code:
//
//   the READY list     coroutines that can run now
//   the WAITING list   coroutines parked until their fd is ready or their
//                      deadline passes (the selector and a deadline heap
//                      find them: nobody scans the list)
//
// and run_once(), one turn: ask the selector which fds are ready — sleeping
// no longer than the nearest deadline, and not at all if something is ready
// already — move those waiters, and the ones whose deadline passed, to the
// ready list, then resume every coroutine that was ready at that moment.
#pragma once

#include "deadline_heap.hpp"
#include "hooks.hpp"
#include "intrusive_list.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "task.hpp"

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ladder::coro {

class Loop;

inline constexpr Clock::time_point never = Clock::time_point::max();


// A parked coroutine and what it waits for. It lives in the coroutine's frame
// (in the awaitable), so parking allocates nothing; if the frame is destroyed
// while it is on the loop, ~Waiter takes it off.
struct Waiter : Link {
    std::coroutine_handle<> handle;     // the coroutine to resume
    int fd = -1;                        // wake when this fd is ready (-1: no fd)
    unsigned char events = 0;           // for these (EVENT_READ, EVENT_WRITE)
    std::uint16_t line = 0;             // where it parked: its co_await's line (for watchers)
    Clock::time_point deadline = never; // or wake when this moment passes
    const char* function = "";          // where it parked: its coroutine (for watchers)
    std::exception_ptr error;           // someone woke it with an error: its co_await throws it
    Loop* loop = nullptr;               // the loop it is on (waiting or ready), or null
    std::uint32_t heap_index = DeadlineHeap<Waiter>::none;
    bool timed_out = false; // how it woke: its deadline passed first
    bool parked = false;    // on the waiting list (else, with a loop, on the ready list)

    Waiter() noexcept = default;
    ~Waiter(); // at the end of this file
    // "fetch:29": its coroutine and the line of its co_await.
    std::string where() const { return function + (":" + std::to_string(line)); }
};
static_assert(sizeof(Waiter) <= 72, "a Waiter lives in every parked frame: keep it small");

class Loop {
  public:
    // Becomes this thread's current loop until it is destroyed.
    explicit Loop(std::string_view selector = "epoll");
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    // The loop awaitables park on; outside of one, std::logic_error.
    static Loop& current();

    // The ready list: resume w's coroutine on the next turn (asyncio's call_soon).
    void call_soon(Waiter& w) noexcept;
    // The waiting list: park w until w.fd is ready for w.events or w.deadline
    // passes. Throws, parking nothing, if the selector refuses the fd.
    void park(Waiter& w);
    // Parked w to the ready list, now; with an error, its co_await throws it.
    // The loop does this when an fd is ready or a deadline passes (then
    // w.timed_out); a hook may do it too (to cancel a task, say).
    void wake(Waiter& w, std::exception_ptr error = nullptr) noexcept;
    // Take w off whichever list it is on, without resuming it (~Waiter).
    void forget(Waiter& w) noexcept;

    // One turn. Returns false, doing nothing, when both lists are empty:
    // no turn could ever change anything again.
    bool run_once();
    // Start `main`, turn until it is done, return its result or rethrow.
    template <class T>
    T run_until_complete(Task<T> main) {
        main.start();
        while (!main.done())
            if (!run_once())
                throw std::logic_error("the loop has nothing left to run or wait for, but the "
                                       "main task is not done (it awaits what nothing will end)");
        return main.result();
    }

    // The extension point (hooks.hpp). Hooks must be detached before they die.
    void attach(LoopHooks& hooks) { hooks_.push_back(&hooks); }
    void detach(LoopHooks& hooks) noexcept { std::erase(hooks_, &hooks); }

    const List<Waiter>& ready_list() const noexcept { return ready_; }
    const List<Waiter>& waiting_list() const noexcept { return waiting_; }
    std::size_t waiting() const noexcept { return waiting_.size(); }
    std::uint64_t turns() const noexcept { return turns_; }

  private:
    void leave_waiting_list(Waiter& w) noexcept;

    std::unique_ptr<Selector> selector_; // the waiting list's fds; key.data is the Waiter
    DeadlineHeap<Waiter> deadlines_;     // the waiting list's deadlines
    List<Waiter> ready_, waiting_;
    std::uint64_t turns_ = 0;
    std::vector<LoopHooks*> hooks_;
    Loop* outer_; // the loop that was current before this one
};

// asyncio.run(main()): a fresh loop runs `main` to its end; its result, or its exception.
template <class T>
T run(Task<T> main, std::string_view selector = "epoll") {
    Loop loop(selector);
    return loop.run_until_complete(std::move(main));
}

// What every awaitable's await_suspend does: park coroutine `self` on the
// current loop with w (named after its coroutine, for whoever watches).
template <class P>
void park(Waiter& w, std::coroutine_handle<P> self) {
    w.handle = self;
    w.function = coroutine_name(self);
    Loop::current().park(w);
}

inline Waiter::~Waiter() {
    if (loop) loop->forget(*this); // the loop it is on: never "whichever loop is current"
}

} // namespace ladder::coro
