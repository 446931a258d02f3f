#include "crawl_cost.hpp"
#include "frame_count.hpp"

#include <cmath>

namespace ladder {

void CrawlCost::report(Report& report, int pages) const {
    SyscallCount crawl = syscalls_so_far() - before_;
    report.extra["syscalls_per_page"] = crawl.total_per_page(pages);
    report.extra["syscalls_by_call"] = crawl.per_page(pages);
    const FrameStats& frames = frame_stats;
    const auto n = static_cast<std::size_t>(pages);
    report.extra["frame_bytes_per_page"] = frames.bytes / n;
    report.extra["live_frame_bytes_per_page"] = frames.peak_live_bytes / n;
    report.extra["frames_per_page"] = std::round(100.0 * double(frames.allocated) / pages) / 100;
    report.extra["frames_leaked"] = frames.live();
}

} // namespace ladder
