// What it costs to hand control to a piece of work and get it back, three
// ways (seed 001: "switching threads is expensive"): a kernel thread (02/03's
// kind of worker), a C++20 coroutine (07's), a callback (05's). Each is a
// ping-pong timed over many round trips:
//
//   thread     wake the other thread, sleep until it wakes you: two switches
//              through the kernel's scheduler (both threads on one core)
//   coroutine  resume() a frame, which runs to its next co_await and suspends
//   callback   call a std::function from a list, as 05's loop calls on_event()
//
// 09's `choose` demo prints them; tests/bench/switch_bench adds stage 10's
// fibers. Numbers are nanoseconds per round trip, the median of `runs`.
#pragma once

namespace ladder {

void thread_round_trips(long n);
void coroutine_round_trips(long n);
void callback_round_trips(long n);

double median_ns_per_round_trip(long n, void (*round_trips)(long), int runs = 5);

struct SwitchCosts {
    double thread_ns = 0, coroutine_ns = 0, callback_ns = 0;
};

// A quick measurement (about a tenth of a second on a laptop).
SwitchCosts measure_switch_costs();

} // namespace ladder
