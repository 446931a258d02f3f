#include "frame_count.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace ladder {

thread_local FrameStats frame_stats;

// Out of line on purpose: g++ 12, seeing both ends inlined into a coroutine,
// wrongly warns that the frame is freed by a mismatched function.
void* allocate_frame(std::size_t size) {
    void* frame = std::malloc(size);
    if (!frame) throw std::bad_alloc();
    FrameStats& s = frame_stats;
    ++s.allocated;
    s.bytes += size;
    s.live_bytes += size;
    s.peak_live_bytes = std::max(s.peak_live_bytes, s.live_bytes);
    return frame;
}

void free_frame(void* frame, std::size_t size) noexcept {
    ++frame_stats.freed;
    frame_stats.live_bytes -= size;
    std::free(frame);
}

} // namespace ladder
