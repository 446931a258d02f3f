// The event loop's two lists (seed 000): the READY list of coroutines that can
// run now, and the WAITING list of coroutines parked until an fd is ready or a
// deadline passes.
//
// Both are intrusive: the list node lives inside the awaiter, which lives inside
// the suspended coroutine's frame. So parking a coroutine allocates nothing, and
// a frame that is destroyed while parked takes itself off every list on the way
// out (the destructors below) — nothing is left pointing at freed memory.
#pragma once

#include "net.hpp" // Clock

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace ladder::coro {

// A hook for an intrusive doubly-linked list. Not copyable: the list points at it.
struct Link {
    Link() noexcept = default;
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() { unlink(); }

    bool linked() const noexcept { return next != this; }
    void unlink() noexcept {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }

    Link* prev = this;
    Link* next = this;
};

// One entry of the ready list: a suspended coroutine the loop will resume.
struct Wakeup : Link {
    std::coroutine_handle<> handle;
    // Stage 08: the id of the cancellable task that parked here (0: none). It
    // fills what was padding, so it costs no frame any byte.
    std::uint32_t task = 0;
};

// The ready list: first in, first out, like asyncio's loop._ready.
class ReadyList {
  public:
    ReadyList() = default;
    ReadyList(const ReadyList&) = delete;
    ReadyList& operator=(const ReadyList&) = delete;
    ~ReadyList() { clear(); }

    bool empty() const noexcept { return !head_.linked(); }
    void push_back(Wakeup& w) noexcept {
        w.unlink(); // already queued: go to the back, never appear twice
        w.prev = head_.prev;
        w.next = &head_;
        head_.prev->next = &w;
        head_.prev = &w;
    }
    Wakeup* pop_front() noexcept {
        if (empty()) return nullptr;
        auto* w = static_cast<Wakeup*>(head_.next);
        w->unlink();
        return w;
    }
    // Move every entry of `other` to the back of this list, in order: O(1).
    void splice(ReadyList& other) noexcept {
        if (other.empty()) return;
        Link* first = other.head_.next;
        Link* last = other.head_.prev;
        other.head_.prev = other.head_.next = &other.head_;
        first->prev = head_.prev;
        last->next = &head_;
        head_.prev->next = first;
        head_.prev = last;
    }
    void clear() noexcept {
        while (head_.linked()) head_.next->unlink();
    }

  private:
    Link head_; // the sentinel: head_.next is the first entry, head_.prev the last
};

inline constexpr Clock::time_point never = Clock::time_point::max();

// One entry of the waiting list: a coroutine parked until `fd` is ready for
// `events` (EVENT_READ/EVENT_WRITE), or until `deadline`, whichever comes first.
// fd < 0 waits for the deadline alone (a sleep — stage 08's timers). It lives in
// the parked coroutine's frame, so it is kept small: 48 bytes.
struct Waiter : Wakeup {
    // elsewhere: parked on a list that is not the loop's (a stage 08 Lock's...);
    // cancelled: stage 08's Loop::cancel woke it to throw CancelledError.
    enum class Outcome : unsigned char { idle, waiting, ready, timed_out, elsewhere, cancelled };
    static constexpr std::uint32_t no_index = std::numeric_limits<std::uint32_t>::max();

    Waiter() noexcept = default;
    ~Waiter(); // leaves the loop's lists if its frame dies while parked (loop.cpp)

    std::uint32_t heap_index = no_index; // where it sits in the DeadlineHeap (first: it packs
                                         // beside Wakeup::task)
    Clock::time_point deadline = never;
    int fd = -1;
    unsigned char events = 0;
    Outcome outcome = Outcome::idle;
    bool keep_watching = false; // after waking, the fd stays watched (a Socket's, io.hpp)
};
static_assert(sizeof(Waiter) <= 48, "a Waiter lives in every parked frame: keep it small");

// The waiters that have a deadline, earliest first: a binary min-heap in which
// every waiter remembers its own index, so one that wakes early (its fd became
// ready) is taken out in O(log n) instead of lingering until its deadline.
// Each entry carries a copy of its deadline, so sifting compares entries in
// this one array instead of visiting 10,000 frames all over the heap.
class DeadlineHeap {
  public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    Waiter& top() const noexcept { return *heap_.front().waiter; }

    void push(Waiter& w) {
        heap_.push_back(Entry{w.deadline, &w});
        w.heap_index = static_cast<std::uint32_t>(heap_.size() - 1);
        sift_up(w.heap_index);
    }

    void erase(Waiter& w) noexcept {
        std::size_t i = w.heap_index;
        w.heap_index = Waiter::no_index;
        Entry last = heap_.back();
        heap_.pop_back();
        if (last.waiter == &w) return;
        place(i, last); // fill the hole with the last entry, then restore the order
        sift_down(i);
        sift_up(last.waiter->heap_index);
    }

    // For the loop's destructor: forget every entry without touching the lists.
    void clear() noexcept {
        for (const Entry& e : heap_) e.waiter->heap_index = Waiter::no_index;
        heap_.clear();
    }

  private:
    struct Entry {
        Clock::time_point deadline;
        Waiter* waiter;
    };

    bool earlier(std::size_t a, std::size_t b) const noexcept {
        return heap_[a].deadline < heap_[b].deadline;
    }
    void place(std::size_t i, const Entry& e) noexcept {
        heap_[i] = e;
        e.waiter->heap_index = static_cast<std::uint32_t>(i);
    }
    void swap_entries(std::size_t a, std::size_t b) noexcept {
        Entry ea = heap_[a];
        place(a, heap_[b]);
        place(b, ea);
    }
    void sift_up(std::size_t i) noexcept {
        while (i > 0 && earlier(i, (i - 1) / 2)) {
            swap_entries(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }
    void sift_down(std::size_t i) noexcept {
        for (;;) {
            std::size_t first = i, left = 2 * i + 1, right = left + 1;
            if (left < heap_.size() && earlier(left, first)) first = left;
            if (right < heap_.size() && earlier(right, first)) first = right;
            if (first == i) return;
            swap_entries(i, first);
            i = first;
        }
    }

    std::vector<Entry> heap_;
};

} // namespace ladder::coro
