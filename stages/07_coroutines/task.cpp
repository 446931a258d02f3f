#include "task.hpp"

#include <cstdlib>
#include <new>

namespace ladder::coro {

FrameStats frame_stats;

// Out of line on purpose: g++ 12, seeing both ends inlined into a coroutine,
// wrongly warns that the frame is freed by a mismatched function.
void* allocate_frame(std::size_t size) {
    void* frame = std::malloc(size);
    if (!frame) throw std::bad_alloc();
    ++frame_stats.allocated;
    frame_stats.bytes += size;
    return frame;
}

void free_frame(void* frame) noexcept {
    ++frame_stats.freed;
    std::free(frame);
}

} // namespace ladder::coro
