// Watching 07's loop think — beside the lesson, not part of it: the loop runs
// the same with or without it. All of it attaches through the loop's hooks
// (../hooks.hpp); stages 07, 08 and 09 use it alike.
//
//   --trace-loop, --slow-step-ms, --debug   LoopWatchHooks tells a LoopWatch
//                                           (common/loop_watch.hpp) every turn
//   kill -QUIT (Ctrl-\), --dump-tasks-after-ms N
//                                           print_tasks(): every coroutine on
//                                           the loop, from the task that started
//                                           it down to where it is parked
//
//   add_watch_flags(cli, watching);               // before cli.parse()
//   coro::Watching watched(loop, "07_coroutines", watching); // beside the loop
#pragma once

#include "07_coroutines/hooks.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/task.hpp"
#include "cli.hpp"
#include "loop_watch.hpp"

#include <signal.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

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
    void selected(const Timeout& timeout, const std::vector<Ready>& ready_fds) override;
    void woken(Waiter& w) override;
    void step_began(Waiter& w) override;
    void step_ended() override { watch_.step_ended(); }
    void turn_ended() override;

    Loop& loop_;
    LoopWatch& watch_;
};

// Every coroutine on the loop (parked or ready), each as the chain of tasks
// that await one another, from the one nobody awaits down to where it waits.
void print_tasks(const Loop& loop, std::FILE* out);

// kill -QUIT (Ctrl-\) prints the tasks at the end of the turn it comes in. The
// signal cuts the selector's sleep short (its wait returns EINTR), so the view
// comes at once even while every task is parked — and nothing waits on the
// loop for it: a loop with nothing left to do ends as it would without it.
class TaskView : public LoopHooks {
  public:
    explicit TaskView(Loop& loop); // takes SIGQUIT over until destroyed
    ~TaskView() override;
    TaskView(const TaskView&) = delete;
    TaskView& operator=(const TaskView&) = delete;

  private:
    void turn_ended() override;
    Loop& loop_;
    struct sigaction old_{};
};

// --dump-tasks-after-ms: sleeps on `loop` for `after_ms`, prints its tasks, ends.
Task<void> show_tasks_after(Loop& loop, int after_ms);

// The flags: common's add_loop_watch_flags() and the task view's --dump-tasks-after-ms.
void add_watch_flags(Cli& cli, LoopWatchOptions& options);

// What the flags asked for, attached to `loop` while this lives: the recorder
// (only if a flag asked for it) and the task view. Destroy it before the loop.
class Watching {
  public:
    Watching(Loop& loop, std::string stage, const LoopWatchOptions& options);

  private:
    std::unique_ptr<LoopWatch> watch_;
    std::optional<LoopWatchHooks> hooks_;
    TaskView on_quit_;
    Task<void> dump_once_; // only with --dump-tasks-after-ms
};

} // namespace ladder::coro
