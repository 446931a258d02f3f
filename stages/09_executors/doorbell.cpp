#include "doorbell.hpp"
#include "error.hpp"
#include "readable.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace ladder::coro {

Doorbell::Doorbell(Loop& loop) {
    if (&Loop::current() != &loop)
        throw std::logic_error("a Doorbell is made on the loop it serves, while it runs");
    // An eventfd is a kernel counter behind an fd: write() adds to it, read()
    // takes it back to 0, and it is readable while it is not 0. (asyncio uses
    // a socket pair, the portable self-pipe; one fd is enough on Linux.)
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw_errno("eventfd");
    bell_ = Fd(fd);
    answering_ = answer();
    answering_.start(); // parks on the eventfd
}

Doorbell::~Doorbell() {
    answering_ = Task<void>(); // leaves the loop before the eventfd closes
}

void Doorbell::post(std::function<void()> work) {
    bool was_empty;
    {
        std::lock_guard lock(mutex_);
        was_empty = mailbox_.empty();
        mailbox_.push_back(std::move(work));
    }
    // Ring only for the first in an empty mailbox: the loop takes them all at
    // once, so more rings would only cost more syscalls.
    if (was_empty) {
        std::uint64_t one = 1;
        while (::write(bell_.get(), &one, sizeof one) < 0 && errno == EINTR) continue;
    }
}

Task<void> Doorbell::answer() {
    for (;;) {
        co_await readable(bell_.get()); // the loop sleeps here like on any socket
        ++rings_;
        std::uint64_t count;
        // Back to 0 first, then empty the mailbox: a post() after this read
        // rings again, so nothing is ever left in the mailbox unannounced.
        while (::read(bell_.get(), &count, sizeof count) < 0 && errno == EINTR) continue;
        std::vector<std::function<void()>> arrived;
        {
            std::lock_guard lock(mutex_);
            arrived.swap(mailbox_);
        }
        for (auto& work : arrived) work();
    }
}

} // namespace ladder::coro
