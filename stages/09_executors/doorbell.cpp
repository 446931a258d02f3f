#include "doorbell.hpp"
#include "error.hpp"
#include "07_coroutines/io.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

namespace ladder::coro {

Doorbell::Doorbell() {
    // An eventfd is a kernel counter behind an fd: write() adds to it, read()
    // takes it back to 0, and it is readable while it is not 0. (asyncio uses
    // a socketpair, the portable self-pipe; one fd is enough on Linux.)
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw_errno("eventfd");
    bell_ = Fd(fd);
}

Doorbell::~Doorbell() {
    drop_stale_answer(); // parked in a loop that has ended: just let it go
    if (Loop* loop = Loop::current_or_null()) {
        loop->forget(ring_);        // a parked answer() leaves this loop's lists...
        loop->unwatch(bell_.get()); // ...and the eventfd its selector, before it closes
    }
    answering_ = Task<void>();
}

void Doorbell::expect() {
    Loop& loop = Loop::current(); // outside a loop: std::logic_error, and nothing changed
    ++expected_;
    drop_stale_answer();
    if (answering_.handle() && !answering_.done()) return; // already answering
    // The answering coroutine belongs to no cancellable task: cancelling the
    // task that submitted a job must not cancel the doorbell of every job.
    std::uint32_t caller = loop.current_task();
    loop.set_current_task(0);
    answering_ = answer();
    answering_in_ = loop.serial();
    start(answering_);
    loop.set_current_task(caller);
}

// An answer() parked in a loop that has ended (that loop's last jobs were
// cancelled, their threads ran on): forget it without touching the current
// loop, whose lists it was never on.
void Doorbell::drop_stale_answer() noexcept {
    if (!answering_.handle() || answering_.done()) return;
    Loop* loop = Loop::current_or_null();
    if (loop && loop->serial() == answering_in_) return; // alive, in this loop
    ring_.outcome = Waiter::Outcome::idle;
    ring_.unlink();
    answering_ = Task<void>();
}

void Doorbell::post(std::shared_ptr<Completion> job) {
    bool was_empty;
    {
        std::lock_guard lock(mutex_);
        was_empty = mailbox_.empty();
        mailbox_.push_back(std::move(job));
    }
    // Ring only for the first job in an empty mailbox: the loop takes them
    // all at once, so more rings would only cost more syscalls.
    if (was_empty) {
        std::uint64_t one = 1;
        while (::write(bell_.get(), &one, sizeof one) < 0 && errno == EINTR) continue;
    }
}

Task<void> Doorbell::answer() {
    while (expected_ > 0) {
        struct Ring { // readable(bell_), with the Waiter in the Doorbell
            Doorbell& d;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> self) {
                d.ring_.handle = self;
                d.ring_.fd = d.bell_.get();
                d.ring_.events = EVENT_READ;
                Loop::current().wait(d.ring_);
            }
            void await_resume() const noexcept {}
        };
        co_await Ring{*this}; // the loop sleeps here like on any socket
        ++rings_;
        std::uint64_t count;
        // Back to 0 first, then empty the mailbox: a post() after this read
        // rings again, so no job is ever left in the mailbox unannounced.
        while (::read(bell_.get(), &count, sizeof count) < 0 && errno == EINTR) continue;
        std::vector<std::shared_ptr<Completion>> arrived;
        {
            std::lock_guard lock(mutex_);
            arrived.swap(mailbox_);
        }
        for (auto& job : arrived) deliver(*job);
    }
}

void Doorbell::deliver(Completion& job) noexcept {
    --expected_;
    job.arrived = true;
    Waiter* w = std::exchange(job.waiter, nullptr);
    // Someone awaits it: ready to run next turn. (Unless a cancel woke it
    // already: then it is on the ready list, about to throw CancelledError.)
    if (w && w->outcome == Waiter::Outcome::elsewhere)
        Loop::current().unpark_elsewhere(*w, Waiter::Outcome::ready);
}

} // namespace ladder::coro
