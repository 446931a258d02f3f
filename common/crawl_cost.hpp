// What a coroutine crawl cost, per page — the numbers 07 and 11 print side by
// side: the kernel calls our code made (syscall_count.hpp) and the coroutine
// frames (frame_count.hpp).
//
//   CrawlCost cost;                      // counting starts
//   ... a loop runs crawl(...), then is destroyed ...
//   cost.report(report, options.count);  // into the report's last line
//
// Report once the loop is gone: a coroutine still parked on it (a watcher's)
// would count as a leaked frame, and the loop's own closes belong to the run.
#pragma once

#include "report.hpp"
#include "syscall_count.hpp"

namespace ladder {

class CrawlCost {
  public:
    CrawlCost() noexcept : before_(syscalls_so_far()) {}
    // syscalls_per_page and syscalls_by_call since construction; frames of
    // the whole thread: frame_bytes_per_page (every frame), live_frame_bytes_
    // per_page (alive at the busiest moment, when every page is parked),
    // frames_per_page, frames_leaked (alive now: 0 once the crawl is over).
    void report(Report& report, int pages) const;

  private:
    SyscallCount before_;
};

} // namespace ladder
