#include "stack_pool.hpp"
#include "asan_fiber.hpp"
#include "error.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ladder::green {

static const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

bool FiberStack::in_guard(const void* address) const noexcept {
    auto a = static_cast<const char*>(address);
    return a >= guard_ && a < guard_ + guard_bytes;
}

std::size_t FiberStack::touched_bytes() const {
    std::vector<unsigned char> resident(size_ / page_size);
    if (::mincore(bottom(), size_, resident.data()) < 0) throw_errno("mincore");
    std::size_t pages = 0;
    for (unsigned char r : resident) pages += r & 1;
    return pages * page_size;
}

StackPool::StackPool(std::size_t stack_size)
    : stack_size_((stack_size + page_size - 1) / page_size * page_size) {}

void StackPool::release() noexcept {
    for (const Chunk& chunk : chunks_) {
        asan_forget_stack(chunk.start, chunk.bytes);
        // The kernel asks every core that ran us to forget the mapping (a TLB
        // shootdown): once for the whole chunk, not once per stack.
        ::munmap(chunk.start, chunk.bytes);
    }
    mapped_ -= static_cast<int>(stacks_.size());
    chunks_.clear();
    stacks_.clear();
    fresh_ = 0;
    free_.clear();
}

FiberStack& StackPool::take() {
    if (!free_.empty()) {
        FiberStack* stack = free_.back();
        free_.pop_back();
        return *stack;
    }
    if (fresh_ == stacks_.size()) map_chunk();
    FiberStack& stack = stacks_[fresh_++];
    std::size_t top = std::min(prefault_bytes, stack.size());
    // A hint: where it fails (Linux before 5.14 says EINVAL), page faults bring the pages.
    ::madvise(static_cast<char*>(stack.bottom()) + stack.size() - top, top, MADV_POPULATE_WRITE);
    return stack;
}

void StackPool::give_back(FiberStack& stack) {
    // The frames of the fiber that ended left ASan's poison behind; the next fiber starts clean.
    asan_forget_stack(stack.bottom(), stack.size());
    free_.push_back(&stack);
}

void StackPool::map_chunk() {
    const std::size_t step = FiberStack::guard_bytes + stack_size_;
    const std::size_t bytes = step * stacks_per_chunk;
    // Address space only: the kernel gives a page of memory the first time it is touched.
    void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) throw_errno("mmap fiber stacks");
    char* start = static_cast<char*>(m);
    // Stacks grow down, so each one's guard goes below it: at the low end of its step.
    for (char* guard = start; guard < start + bytes; guard += step) {
        if (::mprotect(guard, FiberStack::guard_bytes, PROT_NONE) < 0) {
            int err = errno;
            ::munmap(start, bytes);
            // ENOMEM here: each guard splits the mapping, and the process has
            // run out of mappings (vm.max_map_count, 65530 by default).
            throw SysError("mprotect", "fiber stack guard (vm.max_map_count?)", err);
        }
    }
    chunks_.push_back({start, bytes});
    // From the top down, as mmap lays out the chunks: the next stack lies below this one.
    for (std::size_t i = stacks_per_chunk; i-- > 0;)
        stacks_.emplace_back(start + i * step, stack_size_);
    mapped_ += static_cast<int>(stacks_per_chunk);
}

} // namespace ladder::green
