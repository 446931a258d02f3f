// What one switch costs: a fiber switch with ucontext (stage 10's), with
// Boost.Context when it is installed, a C++20 coroutine resume (stage 07's
// kind), and a kernel thread switch. Each measures a ping-pong — there and
// back, N times — and prints nanoseconds per one-way switch, median of 5.
//
//   build/tests/bench/switch_bench            (a benchmark, never run by meson test)
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <functional>
#include <semaphore>
#include <thread>
#include <vector>

#ifdef LADDER_HAVE_BOOST_CONTEXT
#include <boost/context/fiber.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;

// Runs `round_trips(n)` five times; ns per one-way switch (two per round trip), median.
double ns_per_switch(long n, const std::function<void(long)>& round_trips) {
    std::vector<double> runs;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        round_trips(n);
        runs.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                       (2.0 * static_cast<double>(n)));
    }
    std::sort(runs.begin(), runs.end());
    return runs[2];
}

// --- ucontext: swapcontext saves and restores the signal mask: a syscall per switch
ucontext_t main_context, fiber_context;
void ping_back() {
    for (;;) swapcontext(&fiber_context, &main_context);
}
void ucontext_round_trips(long n) {
    static std::vector<char> stack(64 * 1024);
    getcontext(&fiber_context);
    fiber_context.uc_stack.ss_sp = stack.data();
    fiber_context.uc_stack.ss_size = stack.size();
    fiber_context.uc_link = nullptr;
    makecontext(&fiber_context, ping_back, 0);
    for (long i = 0; i < n; ++i) swapcontext(&main_context, &fiber_context);
}

// The syscall alone: setting the signal mask to what it already is.
void sigprocmask_calls(long n) {
    sigset_t mask;
    sigprocmask(SIG_SETMASK, nullptr, &mask);
    for (long i = 0; i < 2 * n; ++i) sigprocmask(SIG_SETMASK, &mask, nullptr);
}

#ifdef LADDER_HAVE_BOOST_CONTEXT
// --- Boost.Context's fiber (fcontext: registers only, no syscall)
void boost_round_trips(long n) {
    namespace ctx = boost::context;
    ctx::fiber other{[](ctx::fiber&& back) {
        for (;;) back = std::move(back).resume();
        return std::move(back);
    }};
    for (long i = 0; i < n; ++i) other = std::move(other).resume();
}
#endif

// --- a C++20 coroutine that suspends forever: resume() in, co_await out
struct Endless {
    struct promise_type {
        Endless get_return_object() {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() {}
    };
    std::coroutine_handle<promise_type> handle;
};
Endless endless() {
    for (;;) co_await std::suspend_always{};
}
void coroutine_round_trips(long n) {
    Endless c = endless();
    for (long i = 0; i < n; ++i) c.handle.resume();
    c.handle.destroy();
}

// --- two kernel threads on one core, handing a turn back and forth
bool pin_to_cpu0() {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}
void thread_round_trips(long n) {
    std::binary_semaphore ping{0}, pong{0};
    std::thread other([&] {
        pin_to_cpu0();
        for (long i = 0; i < n; ++i) {
            ping.acquire();
            pong.release();
        }
    });
    for (long i = 0; i < n; ++i) {
        ping.release();
        pong.acquire();
    }
    other.join();
}

} // namespace

int main() {
    bool pinned = pin_to_cpu0(); // both sides on one core: every hand-over is a real switch
    std::printf("%-44s %10s\n", "one switch (median of 5 ping-pong runs)", "ns");
    std::printf("%-44s %10.1f\n", "C++20 coroutine resume/suspend (07's kind)",
                ns_per_switch(20'000'000, coroutine_round_trips));
#ifdef LADDER_HAVE_BOOST_CONTEXT
    std::printf("%-44s %10.1f\n", "Boost.Context fiber (fcontext)",
                ns_per_switch(10'000'000, boost_round_trips));
#else
    std::printf("%-44s %10s\n", "Boost.Context fiber (fcontext)",
                "-   (apt-get install libboost-context-dev, rebuild)");
#endif
    std::printf("%-44s %10.1f\n", "ucontext swapcontext (10's fibers)",
                ns_per_switch(1'000'000, ucontext_round_trips));
    std::printf("%-44s %10.1f\n", "  of which: the sigprocmask syscall",
                ns_per_switch(1'000'000, sigprocmask_calls));
    std::printf("%-44s %10.1f%s\n", "kernel thread switch (semaphores, one core)",
                ns_per_switch(200'000, thread_round_trips), pinned ? "" : "  (not pinned)");
}
