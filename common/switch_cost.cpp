#include "switch_cost.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <functional>
#include <semaphore>
#include <thread>
#include <vector>

namespace ladder {
namespace {

// Both threads of a ping-pong on one core: every hand-over is a real switch,
// not two cores each waking from idle. (Refused in some containers: then the
// number includes a cross-core wake-up.)
void pin_to_first_allowed_cpu() {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &allowed)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
}

// A coroutine that suspends at every turn and never ends.
struct Endless {
    struct promise_type {
        Endless get_return_object() {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::abort(); }
    };
    std::coroutine_handle<promise_type> handle;
};

Endless endless(long& turns) {
    for (;;) {
        ++turns;
        co_await std::suspend_always{};
    }
}

} // namespace

void thread_round_trips(long n) {
    std::binary_semaphore ping{0}, pong{0};
    auto side = [n](std::binary_semaphore& wait_for, std::binary_semaphore& hand_to, bool first) {
        pin_to_first_allowed_cpu();
        for (long i = 0; i < n; ++i) {
            if (first) hand_to.release();
            wait_for.acquire();
            if (!first) hand_to.release();
        }
    };
    std::thread a(side, std::ref(pong), std::ref(ping), true);
    std::thread b(side, std::ref(ping), std::ref(pong), false);
    a.join();
    b.join();
}

void coroutine_round_trips(long n) {
    long turns = 0;
    Endless c = endless(turns);
    for (long i = 0; i < n; ++i) c.handle.resume();
    c.handle.destroy();
    if (turns != n) std::abort(); // and the optimiser cannot drop the loop
}

void callback_round_trips(long n) {
    long calls = 0;
    std::vector<std::function<void()>> ready(64, [&calls] { ++calls; });
    for (long i = 0; i < n; ++i) ready[static_cast<std::size_t>(i & 63)]();
    if (calls != n) std::abort();
}

double median_ns_per_round_trip(long n, void (*round_trips)(long), int runs) {
    std::vector<double> ns;
    for (int i = 0; i < runs; ++i) {
        auto start = std::chrono::steady_clock::now();
        round_trips(n);
        std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
        ns.push_back(took.count() / static_cast<double>(n));
    }
    std::sort(ns.begin(), ns.end());
    return ns[ns.size() / 2];
}

SwitchCosts measure_switch_costs() {
    return {median_ns_per_round_trip(5'000, thread_round_trips, 3),
            median_ns_per_round_trip(1'000'000, coroutine_round_trips, 3),
            median_ns_per_round_trip(1'000'000, callback_round_trips, 3)};
}

} // namespace ladder
