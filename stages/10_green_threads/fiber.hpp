// A fiber: a function running on a stack of its own, which it can leave in the
// middle (yield) and come back to later (resume) — a thread that the program
// switches itself, no kernel involved. The switch is glibc's swapcontext():
// save this stack's registers, load the other's.
#pragma once

#include <ucontext.h>

#include <cstddef>
#include <exception>
#include <functional>

namespace ladder::green {

// A fiber's stack: `size` bytes from mmap, and below them a guard that nothing
// may touch (PROT_NONE), so that running off the end is a fault, not a quiet
// write into the next stack.
class FiberStack {
  public:
    // Bigger than the largest frame on a page's path (01's 4 KiB read buffer):
    // a frame that does not fit must land in the guard, not jump over it.
    static constexpr std::size_t guard_bytes = 16 * 1024;

    explicit FiberStack(std::size_t size); // rounded up to whole pages; SysError if mmap fails
    ~FiberStack();
    FiberStack(const FiberStack&) = delete;
    FiberStack& operator=(const FiberStack&) = delete;

    // The lowest usable byte: the stack grows down towards it.
    void* bottom() const noexcept { return bottom_; }
    std::size_t size() const noexcept { return size_; }
    bool in_guard(const void* address) const noexcept;
    // How much of the stack the fiber has touched: its resident pages (mincore).
    std::size_t touched_bytes() const;

    static int mapped() noexcept { return mapped_; } // stacks mapped right now (leak check)

  private:
    char* mapping_; // guard, then the stack
    char* bottom_;
    std::size_t size_;
    static inline int mapped_ = 0;
};

class Fiber {
  public:
    // `id` names the fiber in messages (the page number). `body` starts at the first resume().
    Fiber(int id, std::size_t stack_size, std::function<void()> body);
    Fiber(const Fiber&) = delete; // its context points into itself
    Fiber& operator=(const Fiber&) = delete;

    // From the scheduler: run the fiber until it yields or ends.
    void resume();
    // From inside the fiber: back to whoever called resume(); returns at the next resume().
    void yield();

    bool finished() const noexcept { return finished_; }
    // What escaped the body, if anything: an exception cannot cross to another stack.
    std::exception_ptr error() const noexcept { return error_; }
    int id() const noexcept { return id_; }
    const FiberStack& stack() const noexcept { return stack_; }

    // The fiber running now; nullptr on the thread's own stack.
    static Fiber* current() noexcept { return current_; }

  private:
    static void entry(); // where makecontext() starts the fiber

    int id_;
    FiberStack stack_;
    std::function<void()> body_;
    ucontext_t context_{}; // the fiber's registers while it is not running (968 bytes)
    bool finished_ = false;
    std::exception_ptr error_;
    void* fake_stack_ = nullptr; // AddressSanitizer's bookkeeping (asan_fiber.hpp)

    // The other side of every switch: the thread's own stack, where the
    // scheduler runs. One for the program, not one per fiber: only the
    // scheduler resumes fibers (all in one thread), and a fiber only yields back to it.
    static inline ucontext_t scheduler_{};
    static inline void* scheduler_fake_stack_ = nullptr;
    static inline const void* scheduler_bottom_ = nullptr;
    static inline std::size_t scheduler_size_ = 0;
    static inline Fiber* current_ = nullptr;
};

} // namespace ladder::green
