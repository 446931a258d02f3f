// Elements ordered by deadline, earliest first: a binary min-heap in which
// every element remembers its own index (T::heap_index), so one that leaves
// early — a coroutine whose fd became ready — is taken out in O(log n)
// instead of lingering until its deadline. Each entry keeps a copy of its
// deadline, so sifting compares entries in this one array instead of
// visiting 10,000 coroutine frames.
#pragma once

#include "net.hpp" // Clock

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace ladder {

template <class T> // with members `Clock::time_point deadline` and `std::uint32_t heap_index`
class DeadlineHeap {
  public:
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    bool empty() const noexcept { return heap_.empty(); }
    T& top() const noexcept { return *heap_.front().item; }

    void push(T& x) {
        heap_.push_back({x.deadline, &x});
        sift_up(place(heap_.size() - 1, heap_.back()));
    }
    void erase(T& x) noexcept {
        std::size_t hole = std::exchange(x.heap_index, none);
        Entry last = heap_.back();
        heap_.pop_back();
        if (last.item == &x) return;
        sift_down(place(hole, last)); // the last entry fills the hole, then finds its place
        sift_up(last.item->heap_index);
    }
    void clear() noexcept {
        for (const Entry& e : heap_) e.item->heap_index = none;
        heap_.clear();
    }

  private:
    struct Entry {
        Clock::time_point deadline;
        T* item;
    };
    std::size_t place(std::size_t i, Entry e) noexcept {
        heap_[i] = e;
        e.item->heap_index = static_cast<std::uint32_t>(i);
        return i;
    }
    void swap_with_parent(std::size_t i) noexcept {
        Entry child = heap_[i];
        place(i, heap_[(i - 1) / 2]);
        place((i - 1) / 2, child);
    }
    void sift_up(std::size_t i) noexcept {
        for (; i > 0 && heap_[i].deadline < heap_[(i - 1) / 2].deadline; i = (i - 1) / 2)
            swap_with_parent(i);
    }
    void sift_down(std::size_t i) noexcept {
        for (;;) {
            std::size_t first = i;
            for (std::size_t child : {2 * i + 1, 2 * i + 2})
                if (child < heap_.size() && heap_[child].deadline < heap_[first].deadline)
                    first = child;
            if (first == i) return;
            swap_with_parent(first);
            i = first;
        }
    }

    std::vector<Entry> heap_;
};

} // namespace ladder
