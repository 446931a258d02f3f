#include "cpu_job.hpp"

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace ladder {

std::uint64_t sum_of_squares_plain(std::uint64_t n) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += i * i;
    return sum;
}

std::uint64_t sum_of_random_squares(std::uint64_t n, std::uint64_t seed) {
    std::uint64_t x = 2 * seed + 1; // odd, so never 0 (xorshift would stay there); one per seed
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        // Marsaglia's xorshift64: the next number needs this one — a chain no
        // compiler can turn into a formula or split across vector lanes.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::uint64_t v = x >> 32; // a 32-bit number, so v*v fits in 64 bits
        sum += v * v;
    }
    return sum;
}

namespace {
double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
} // namespace

CpuAnswer cpu_job(std::uint64_t n, std::uint64_t seed) {
    double before = thread_cpu_seconds();
    std::uint64_t sum = sum_of_random_squares(n, seed);
    return CpuAnswer{sum, thread_cpu_seconds() - before};
}

std::string to_message(const CpuAnswer& a) {
    char text[64];
    std::snprintf(text, sizeof text, "%" PRIu64 " %.6f", a.sum, a.cpu_s);
    return text;
}

CpuAnswer from_message(const std::string& text) {
    CpuAnswer a;
    if (std::sscanf(text.c_str(), "%" SCNu64 " %lf", &a.sum, &a.cpu_s) != 2)
        throw std::runtime_error("a worker's answer is not 'sum cpu_seconds': '" + text + "'");
    return a;
}

} // namespace ladder
