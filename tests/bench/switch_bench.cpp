// What one switch costs: a fiber switch with ucontext (stage 10's), with
// Boost.Context when it is installed, beside the three of
// common/switch_cost.hpp (09's `choose` prints those): a C++20 coroutine
// resume (07's kind), a kernel thread switch and a callback call (05's kind).
// Each measures a ping-pong — there and back, N times — and prints
// nanoseconds per one-way switch (half a round trip), median of 5.
//
//   build/tests/bench/switch_bench            (a benchmark, never run by meson test)
#include "switch_cost.hpp"

#include <signal.h>
#include <ucontext.h>

#include <cstdio>
#include <utility>
#include <vector>

#ifdef LADDER_HAVE_BOOST_CONTEXT
#include <boost/context/fiber.hpp>
#endif

namespace {

// ns per one-way switch: half a round trip (common/switch_cost.hpp), median of 5.
double ns_per_switch(long n, void (*round_trips)(long)) {
    return ladder::median_ns_per_round_trip(n, round_trips) / 2;
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

} // namespace

int main() {
    std::printf("%-44s %10s\n", "one switch (median of 5 ping-pong runs)", "ns");
    std::printf("%-44s %10.1f\n", "C++20 coroutine resume/suspend (07's kind)",
                ns_per_switch(20'000'000, ladder::coroutine_round_trips));
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
    std::printf("%-44s %10.1f\n", "kernel thread switch (semaphores, one core)",
                ns_per_switch(200'000, ladder::thread_round_trips));
    std::printf("%-44s %10.1f\n", "a callback called and returning (05's kind)",
                ns_per_switch(20'000'000, ladder::callback_round_trips));
}
