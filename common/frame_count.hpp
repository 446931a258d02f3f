// What coroutine frames cost, counted per thread. The compiler asks a
// promise's operator new for exactly a frame's size; 07's Task sends every
// frame's memory through allocate_frame() and free_frame(), so these numbers
// are the frames of every stage built on it (07, 08, 09, 11).
#pragma once

#include <cstddef>

namespace ladder {

struct FrameStats {
    std::size_t allocated = 0, freed = 0, bytes = 0; // bytes: every frame ever allocated
    std::size_t live_bytes = 0, peak_live_bytes = 0; // frames alive now, and at most at once
    std::size_t live() const noexcept { return allocated - freed; }
};
extern thread_local FrameStats frame_stats;

void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

} // namespace ladder
