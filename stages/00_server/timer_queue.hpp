// A timer queue: a min-heap of (due time, connection fd, generation).
// Entries are never removed early; an entry whose generation no longer matches
// its connection's is simply skipped when it comes due ("lazy deletion"),
// which keeps every operation O(log n) with no search.
#pragma once

#include "net.hpp"

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace ladder {

struct Timer {
    Clock::time_point due;
    int fd;
    std::uint64_t generation;
    bool operator>(const Timer& other) const { return due > other.due; }
};

class TimerQueue {
  public:
    void push(Timer t) { heap_.push(t); }
    bool empty() const { return heap_.empty(); }
    std::optional<Clock::time_point> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.top().due;
    }
    // Removes and returns the earliest timer if it is due at `now`.
    std::optional<Timer> pop_due(Clock::time_point now) {
        if (heap_.empty() || heap_.top().due > now) return std::nullopt;
        Timer t = heap_.top();
        heap_.pop();
        return t;
    }

  private:
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> heap_;
};

} // namespace ladder
