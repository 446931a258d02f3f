// gather: run several Tasks at once and wait for all of them — asyncio.gather(*aws).
//
//   std::vector<Page> pages = co_await gather(std::move(tasks));
//
// Every task starts at once, each running up to its first co_await; then
// gather waits for them one by one, in their order. While it waits for the
// first, the others run too: when it comes to them, most are already done.
// A task that threw rethrows its exception when gather comes to it; the
// tasks still running are then destroyed with gather, wherever they are
// parked (cancelling them is a later idea).
#pragma once

#include "task.hpp"

#include <type_traits>
#include <vector>

namespace ladder::coro {

template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<Task<T>> tasks) {
    for (Task<T>& task : tasks) task.start(); // all of them at once
    if constexpr (std::is_void_v<T>) {
        for (Task<T>& task : tasks) co_await task;
    } else {
        std::vector<T> results;
        results.reserve(tasks.size());
        for (Task<T>& task : tasks) results.push_back(co_await task);
        co_return results;
    }
}

} // namespace ladder::coro
