// Where the fibers' stacks come from. Each stack has a guard below it that
// nothing may touch (PROT_NONE), so that running off the end is a fault, not a
// quiet write into the next stack. The pool maps stacks in chunks and takes a
// finished fiber's stack back for the next one, because unmapping memory a
// fiber has touched is the dearest thing a page did (notes/10, "At 10,000
// pages"): the kernel must ask every core that ran us to forget the mapping.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace ladder::green {

// One stack inside a chunk: the guard, then `size` usable bytes above it.
class FiberStack {
  public:
    // Bigger than the largest frame on a page's path (01's 4 KiB read buffer):
    // a frame that does not fit must land in the guard, not jump over it.
    static constexpr std::size_t guard_bytes = 16 * 1024;

    FiberStack(char* guard, std::size_t size) : guard_(guard), size_(size) {}

    // The lowest usable byte: the stack grows down towards it.
    void* bottom() const noexcept { return guard_ + guard_bytes; }
    std::size_t size() const noexcept { return size_; }
    bool in_guard(const void* address) const noexcept;
    // How much of the stack is memory now: its resident pages (mincore). A
    // recycled stack keeps the pages that earlier fibers on it touched.
    std::size_t touched_bytes() const;

  private:
    char* guard_; // the lowest address: guard_bytes of PROT_NONE, then the stack
    std::size_t size_;
};

class StackPool {
  public:
    // One mmap (and one munmap, at the end) for this many stacks.
    static constexpr std::size_t stacks_per_chunk = 64;
    // The top of a fresh stack is made memory in one system call, not a page
    // fault per page: every fetch touches this much (stack_touched_kb_per_page).
    static constexpr std::size_t prefault_bytes = 8 * 1024;

    explicit StackPool(std::size_t stack_size); // rounded up to whole pages
    ~StackPool() { release(); }
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    // A stack for a new fiber: the one given back last (its pages are memory
    // already), else a fresh one. SysError if a chunk cannot be mapped.
    FiberStack& take();
    void give_back(FiberStack& stack);
    // Unmaps every chunk, when no stack is in use: one TLB flush per chunk, not per stack.
    void release() noexcept;

    std::size_t stack_size() const noexcept { return stack_size_; }
    std::size_t in_use() const noexcept { return fresh_ - free_.size(); }
    static int mapped() noexcept { return mapped_; } // stacks mapped right now (leak check)

  private:
    void map_chunk();

    struct Chunk {
        char* start;
        std::size_t bytes;
    };
    std::size_t stack_size_;
    std::vector<Chunk> chunks_;
    std::deque<FiberStack> stacks_; // every stack carved so far; a deque never moves them
    std::size_t fresh_ = 0;         // stacks_[fresh_] and after it: never used yet
    std::vector<FiberStack*> free_; // given back; the last one on top
    static inline int mapped_ = 0;
};

} // namespace ladder::green
