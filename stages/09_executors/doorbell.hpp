// The doorbell: how a thread that is not the loop's gets work done on the
// loop's thread — asyncio's call_soon_threadsafe() and its "self-pipe".
//
// The loop sleeps in the selector, and its lists are not locked: only its
// own thread may touch them. So another thread leaves what it wants done in
// a mailbox, under a mutex, and writes to an eventfd. The eventfd is one
// more fd the loop waits on: the write wakes it, and a coroutine of the
// doorbell's runs everything in the mailbox, on the loop's thread.
//
// One doorbell serves a whole executor, and it belongs to the loop it was
// made on: make it inside that loop, destroy it before the loop ends.
#pragma once

#include "net.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/task.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace ladder::coro {

class Doorbell {
  public:
    explicit Doorbell(Loop& loop); // on the loop's thread; starts answering at once
    ~Doorbell();                   // on the loop's thread
    Doorbell(const Doorbell&) = delete;
    Doorbell& operator=(const Doorbell&) = delete;

    // Any thread: run `work` on the loop's thread soon (call_soon_threadsafe).
    void post(std::function<void()> work);

    std::uint64_t rings() const noexcept { return rings_; } // times the loop woke for us

  private:
    Task<void> answer(); // the loop's side: wait for a ring, run what arrived

    Fd bell_; // the eventfd
    std::mutex mutex_;
    std::vector<std::function<void()>> mailbox_; // guarded by mutex_
    std::uint64_t rings_ = 0;                    // loop thread only
    Task<void> answering_;
};

} // namespace ladder::coro
