// Watching an event loop think (05 to 09): what it does, turn by turn.
//
//   --trace-loop FILE        one JSON line per turn: what was waiting and
//                            ready, how long the selector slept and what it
//                            returned, which timers fired, each step that ran
//                            and how long it took (the data behind ./ladder loop)
//   --trace-loop-turns N     at most N turns (a 10,000-page run can't fill a disk)
//   --slow-step-ms N         one line on stderr whenever a single callback or
//                            coroutine step holds the loop longer than N ms
//                            (asyncio's slow_callback_duration); --debug: 100
//
// A stage's loop tells its LoopWatch what happens at fixed points of each
// turn. With none of these flags there is no LoopWatch, and each point costs
// the test of a null pointer (07: no hooks attached at all).
#pragma once

#include "cli.hpp"
#include "net.hpp"
#include "selector.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ladder {

struct LoopWatchOptions {
    std::string trace_path;
    int trace_turns = 2000;
    int slow_step_ms = 0; // 0: off
    bool debug = false;   // slow steps at 100 ms, unless --slow-step-ms says otherwise
    int dump_tasks_after_ms = -1; // 07/08: print the task tree once, this long after the start
};

void add_loop_watch_flags(Cli& cli, LoopWatchOptions& options);

// Something on a loop's lists or running on it: a coroutine parked at a
// line ("fetch:34"), a page's callback ("page 3 on_readable"), with the fd it
// waits on (-1: none), for what (EVENT_READ/EVENT_WRITE, 0: a time or a wake).
struct LoopEntry {
    std::string who;
    int fd = -1;
    unsigned events = 0;
};

class LoopWatch {
  public:
    // Null when every option is off: the stage then watches nothing.
    static std::unique_ptr<LoopWatch> make(std::string stage, const LoopWatchOptions& options);
    LoopWatch(std::string stage, const LoopWatchOptions& options); // throws if FILE can't be made
    ~LoopWatch();                                                  // writes the last line
    LoopWatch(const LoopWatch&) = delete;
    LoopWatch& operator=(const LoopWatch&) = delete;

    // Does the stage need to name things at all (building names costs)?
    bool recording() const noexcept { return trace_ && recorded_ < max_turns_; }
    bool timing_steps() const noexcept { return slow_step_ms_ > 0 || recording(); }
    long slow_steps() const noexcept { return slow_steps_; } // warnings printed so far

    // One turn, in this order. listed(): an entry of the waiting or ready list
    // as the turn begins; selected(): the selector's answer (it was allowed to
    // sleep `allowed`); fd_ready()/timer_fired(): what moved to the ready list.
    void turn_began(std::uint64_t turn);
    void listed(bool ready, LoopEntry entry);
    void selected(const Timeout& allowed);
    void fd_ready(LoopEntry entry, unsigned events);
    void timer_fired(LoopEntry entry);
    void step_began(LoopEntry entry);
    void step_ended();
    // Or, where the loop has no hooks (05, 06: watched_selector.hpp): the
    // callbacks of the selector's answer ran back to back, timed as one.
    void ran_together(const std::vector<LoopEntry>& steps);
    void turn_ended(std::size_t waiting, std::size_t ready);

  private:
    static nlohmann::json as_json(const LoopEntry& e);

    std::string stage_;
    std::FILE* trace_ = nullptr;
    long max_turns_ = 0, recorded_ = 0, slow_steps_ = 0;
    std::uint64_t turns_ = 0;
    double slow_step_ms_ = 0;
    Clock::time_point start_ = Clock::now(), turn_start_{}, selected_at_{}, step_start_{};
    LoopEntry running_;
    nlohmann::json turn_; // the turn being recorded
};

} // namespace ladder
