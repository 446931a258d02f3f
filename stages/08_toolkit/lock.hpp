// Lock (asyncio.Lock): one coroutine at a time in a critical section.
//
//   { auto held = co_await lock.acquire();  ...  }   // released at the }
//
// A Lock is a Semaphore of one permit (semaphore.hpp), and has its rules:
// release() hands the lock straight to the longest waiter, so a newcomer can
// never barge in ahead of it (FIFO-fair); a cancelled waiter leaves the
// queue, and one destroyed after the hand-over passes the lock on.
#pragma once

#include "semaphore.hpp"

#include <cstddef>
#include <stdexcept>

namespace ladder::coro {

class Lock {
  public:
    using Guard = Semaphore::Permit; // releases the lock when it goes out of scope

    bool locked() const noexcept { return permit_.free() == 0; }
    std::size_t waiting() const noexcept { return permit_.waiting(); }

    Semaphore::Awaiter acquire(unsigned line = __builtin_LINE()) noexcept {
        return permit_.acquire(line);
    }
    void release() {
        if (!locked()) throw std::logic_error("Lock.release(): not locked");
        permit_.release();
    }

  private:
    Semaphore permit_{1};
};

} // namespace ladder::coro
