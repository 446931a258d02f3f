#include "fiber.hpp"
#include "asan_fiber.hpp"
#include "error.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace ladder::green {

static const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

FiberStack::FiberStack(std::size_t size) : size_((size + page_size - 1) / page_size * page_size) {
    // Address space only: the kernel gives a page of memory the first time it is touched.
    void* m = ::mmap(nullptr, guard_bytes + size_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) throw_errno("mmap fiber stack");
    mapping_ = static_cast<char*>(m);
    bottom_ = mapping_ + guard_bytes;
    // Stacks grow down, so the guard goes below: at the low end of the mapping.
    if (::mprotect(mapping_, guard_bytes, PROT_NONE) < 0) {
        int err = errno;
        ::munmap(mapping_, guard_bytes + size_);
        // ENOMEM here: the guard splits the mapping in two, and the process has
        // run out of mappings (vm.max_map_count, 65530 by default).
        throw SysError("mprotect", "fiber stack guard (vm.max_map_count?)", err);
    }
    ++mapped_;
}

FiberStack::~FiberStack() {
    asan_forget_stack(bottom_, size_);
    ::munmap(mapping_, guard_bytes + size_);
    --mapped_;
}

bool FiberStack::in_guard(const void* address) const noexcept {
    auto a = static_cast<const char*>(address);
    return a >= mapping_ && a < bottom_;
}

std::size_t FiberStack::touched_bytes() const {
    std::vector<unsigned char> resident(size_ / page_size);
    if (::mincore(bottom_, size_, resident.data()) < 0) throw_errno("mincore");
    std::size_t pages = 0;
    for (unsigned char r : resident) pages += r & 1;
    return pages * page_size;
}

Fiber::Fiber(int id, std::size_t stack_size, std::function<void()> body)
    : id_(id), stack_(stack_size), body_(std::move(body)) {
    if (::getcontext(&context_) < 0) throw_errno("getcontext");
    context_.uc_stack.ss_sp = stack_.bottom();
    context_.uc_stack.ss_size = stack_.size();
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
    asan_before_switch(&scheduler_fake_stack_, stack_.bottom(), stack_.size());
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
