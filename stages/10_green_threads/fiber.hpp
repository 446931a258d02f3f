// A fiber: a function running on a stack of its own, which it can leave in the
// middle (yield) and come back to later (resume) — a thread that the program
// switches itself, no kernel involved. The switch is glibc's swapcontext():
// save this stack's registers, load the other's.
#pragma once

#include "stack_pool.hpp"

#include <ucontext.h>

#include <cstddef>
#include <exception>
#include <functional>

namespace ladder::green {

class Fiber {
  public:
    // `id` names the fiber in messages (the page number). `body` starts at the
    // first resume(), on a stack from `stacks`, which gets it back when the fiber goes.
    Fiber(int id, StackPool& stacks, std::function<void()> body);
    ~Fiber() { stacks_.give_back(*stack_); }
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
    const FiberStack& stack() const noexcept { return *stack_; }

    // The fiber running now; nullptr on the thread's own stack.
    static Fiber* current() noexcept { return current_; }

  private:
    static void entry(); // where makecontext() starts the fiber

    int id_;
    StackPool& stacks_;
    FiberStack* stack_ = nullptr; // set once the constructor can no longer fail
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
