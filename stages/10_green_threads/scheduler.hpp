// The scheduler: Beazley's loop with fibers in it. A ready queue of fibers to
// run, the common selector for fibers blocked on a socket, and their deadlines.
// A fiber that would block calls wait_until_ready(); that is the only place
// where a fiber gives up the CPU.
#pragma once

#include "fiber.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "stack_pool.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

namespace ladder::green {

class Scheduler {
  public:
    // Every fiber gets a stack of `stack_size` bytes, from a pool that run() empties at its end.
    Scheduler(Selector& selector, std::size_t stack_size)
        : selector_(selector), stacks_(stack_size) {}
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // A new fiber running `body`, first resumed by run(). SysError if no stack can be mapped.
    void spawn(int id, std::function<void()> body);
    // Runs the fibers until every one has finished, then unmaps their stacks.
    // An exception that escaped a fiber's body comes out here.
    void run();

    // From inside a fiber: let the others run until `fd` is ready for `events`
    // (EVENT_READ or EVENT_WRITE) or `deadline` passes. False: the deadline passed.
    bool wait_until_ready(int fd, unsigned events, Clock::time_point deadline);

    // The scheduler of the fiber running now; nullptr when no fiber is running.
    static Scheduler* of_this_fiber() noexcept;

    long switches() const noexcept { return switches_; } // resumes, over the whole run
    const StackPool& stacks() const noexcept { return stacks_; }

  private:
    struct Blocked;
    void wake(Blocked& blocked, bool timed_out);
    void wake_overdue();
    Timeout time_to_next_deadline() const;
    void switch_to(Fiber& fiber);

    Selector& selector_;
    StackPool stacks_; // before fibers_: a fiber gives its stack back when it goes
    std::unordered_map<Fiber*, std::unique_ptr<Fiber>> fibers_; // every fiber not finished yet
    std::deque<Fiber*> ready_;
    std::multimap<Clock::time_point, Blocked*> deadlines_;
    long switches_ = 0;
    static inline Scheduler* running_ = nullptr; // set by run(), read only while a fiber runs
};

} // namespace ladder::green
