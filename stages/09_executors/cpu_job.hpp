// The CPU-bound job of stage 09: seed 000's exercise, "the sum of the squares
// of 0..n", made into work the optimiser cannot skip.
//
// The plain loop `for (i = 0; i < n; ++i) s += i * i;` is a trap for a
// benchmark: clang -O2 replaces it by the closed form n(n-1)(2n-1)/6 (no loop
// at all, even for an n read at run time), and g++ -O2 runs it at about one
// number a cycle (vectorising it only with -O3 -mavx2), so 10^7 squares "take" 0 or
// 3 ms. Timing that would measure the compiler, not the CPU.
// sum_of_random_squares() squares a pseudo-random sequence instead: each
// number depends on the one before (xorshift), so there is no formula, no
// vector shortcut, and the work grows exactly with n.
#pragma once

#include <cstdint>
#include <string>

namespace ladder {

// The seed's loop, kept to show the trap (the cpu demo times it once).
std::uint64_t sum_of_squares_plain(std::uint64_t n);

// The sum of v*v over the first n numbers v of a xorshift sequence that starts
// from `seed` (wrapping modulo 2^64). About 1.5 ns a number on this machine,
// so n near 7e7 is a job of ~0.1 s.
std::uint64_t sum_of_random_squares(std::uint64_t n, std::uint64_t seed);

// One job's answer and the CPU time the thread that ran it spent on it — the
// same measure whether it ran on the loop, in a pool thread or in a worker
// process (CLOCK_THREAD_CPUTIME_ID).
struct CpuAnswer {
    std::uint64_t sum = 0;
    double cpu_s = 0;
};
CpuAnswer cpu_job(std::uint64_t n, std::uint64_t seed);

// How a CpuAnswer travels back from a worker process: "sum cpu_s".
std::string to_message(const CpuAnswer& a);
CpuAnswer from_message(const std::string& text); // throws std::runtime_error if malformed

} // namespace ladder
