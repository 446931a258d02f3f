// Queue<T> (asyncio.Queue): producers put, consumers get, at most `maxsize`
// items in between — a full queue makes put() wait, an empty one get().
// join() waits until every item put has been marked task_done(): the 500
// Lines crawler's way of knowing the crawl is over.
//
//   co_await queue.put(url);              T url = co_await queue.get();
//   ... queue.task_done();                co_await queue.join();
#pragma once

#include "event.hpp"
#include "07_coroutines/task.hpp"
#include "waiters.hpp"

#include <cstddef>
#include <deque>
#include <stdexcept>
#include <utility>

namespace ladder::coro {

template <class T>
class Queue {
  public:
    explicit Queue(std::size_t maxsize) : maxsize_(maxsize) {
        if (maxsize == 0) throw std::invalid_argument("Queue: maxsize must be >= 1");
        // A woken waiter that died before running passes its turn on.
        getters_.on_lost_wakeup = [this] { getters_.wake_one(); };
        putters_.on_lost_wakeup = [this] { putters_.wake_one(); };
        all_done_.set();
    }

    std::size_t size() const noexcept { return items_.size(); }
    bool full() const noexcept { return items_.size() >= maxsize_; }
    bool empty() const noexcept { return items_.empty(); }
    std::size_t unfinished() const noexcept { return unfinished_; }

    Task<void> put(T item, unsigned line = __builtin_LINE()) {
        while (full()) co_await putters_.wait(line); // re-check: another putter may have filled it
        items_.push_back(std::move(item));
        ++unfinished_;
        all_done_.clear();
        getters_.wake_one();
    }

    Task<T> get(unsigned line = __builtin_LINE()) {
        while (empty()) co_await getters_.wait(line);
        T item = std::move(items_.front());
        items_.pop_front();
        putters_.wake_one(); // a slot is free
        co_return item;
    }

    // The consumer is done with one item it got.
    void task_done() {
        if (unfinished_ == 0) throw std::logic_error("Queue.task_done() called too many times");
        if (--unfinished_ == 0) all_done_.set();
    }

    // Until every item put so far has been task_done().
    Event::Awaiter join(unsigned line = __builtin_LINE()) noexcept { return all_done_.wait(line); }

  private:
    std::size_t maxsize_;
    std::deque<T> items_;
    std::size_t unfinished_ = 0;
    Waiters getters_, putters_;
    Event all_done_;
};

} // namespace ladder::coro
