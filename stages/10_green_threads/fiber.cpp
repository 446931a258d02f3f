#include "fiber.hpp"
#include "asan_fiber.hpp"
#include "error.hpp"

#include <utility>

namespace ladder::green {

Fiber::Fiber(int id, StackPool& stacks, std::function<void()> body)
    : id_(id), stacks_(stacks), body_(std::move(body)) {
    if (::getcontext(&context_) < 0) throw_errno("getcontext");
    stack_ = &stacks.take(); // after getcontext(): if that threw, no destructor would give it back
    context_.uc_stack.ss_sp = stack_->bottom();
    context_.uc_stack.ss_size = stack_->size();
    context_.uc_link = nullptr; // entry() never returns: it yields for the last time
    ::makecontext(&context_, &Fiber::entry, 0);
}

void Fiber::entry() {
    Fiber& self = *current_;
    asan_after_switch(nullptr, &scheduler_bottom_, &scheduler_size_);
    try {
        self.body_();
    } catch (...) {
        self.error_ = std::current_exception();
    }
    self.finished_ = true;
    self.yield(); // for good: a finished fiber is never resumed
}

void Fiber::resume() {
    current_ = this;
    asan_before_switch(&scheduler_fake_stack_, stack_->bottom(), stack_->size());
    // Save where we are in scheduler_, continue from context_: in the fiber, right
    // after its last yield() (or at entry() the first time).
    int rc = swap_context(&scheduler_, &context_); // swapcontext() (asan_fiber.hpp)
    asan_after_switch(scheduler_fake_stack_, nullptr, nullptr);
    current_ = nullptr;
    if (rc < 0) throw_errno("swapcontext");
}

void Fiber::yield() {
    asan_before_switch(finished_ ? nullptr : &fake_stack_, scheduler_bottom_, scheduler_size_);
    if (swap_context(&context_, &scheduler_) < 0) throw_errno("swapcontext");
    asan_after_switch(fake_stack_, &scheduler_bottom_, &scheduler_size_);
}

} // namespace ladder::green
