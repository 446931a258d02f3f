// Watching 07's loop think — not part of the lesson: the loop runs the same
// with or without it. All of it uses the loop's hooks (hooks.hpp).
//
//   --trace-loop, --slow-step-ms, --debug   LoopWatchHooks tells a LoopWatch
//                                           (common/loop_watch.hpp) every turn
//   kill -QUIT (Ctrl-\), --dump-tasks-after-ms N
//                                           print_tasks(): every coroutine on
//                                           the loop, from the task that started
//                                           it down to where it is parked
#pragma once

#include "hooks.hpp"
#include "loop.hpp"
#include "loop_watch.hpp"
#include "task.hpp"

#include <cstdio>
#include <unordered_map>

namespace ladder::coro {

class LoopWatchHooks : public LoopHooks {
  public:
    LoopWatchHooks(Loop& loop, LoopWatch& watch) : loop_(loop), watch_(watch) {
        loop_.attach(*this);
    }
    ~LoopWatchHooks() override { loop_.detach(*this); }
    LoopWatchHooks(const LoopWatchHooks&) = delete;
    LoopWatchHooks& operator=(const LoopWatchHooks&) = delete;

  private:
    void turn_began(std::uint64_t turn) override;
    void selected(const Timeout& timeout, const std::vector<Ready>& ready) override;
    void woken(Waiter& w) override;
    void step_began(Waiter& w) override;
    void step_ended() override { watch_.step_ended(); }
    void turn_ended() override;

    Loop& loop_;
    LoopWatch& watch_;
};

// "fetch:34": the coroutine a waiter belongs to and the line of its co_await.
std::string where(const Waiter& w);

// Every coroutine on the loop (parked or ready), each as the chain of tasks
// that await one another, from the one nobody awaits down to where it waits.
void print_tasks(const Loop& loop, std::FILE* out);

// Runs for as long as it lives: prints the tasks on kill -QUIT, and once
// `after_ms` after it starts (-1: never), then carries on. Destroy it to stop.
Task<void> show_tasks_on_request(int after_ms);

} // namespace ladder::coro
