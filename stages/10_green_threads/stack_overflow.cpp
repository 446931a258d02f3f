#include "stack_overflow.hpp"
#include "error.hpp"
#include "fiber.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace ladder::green {
namespace {

struct sigaction previous {};
alignas(16) char signal_stack[64 * 1024];

// Async-signal-safe text building: no printf, no allocation in a signal handler.
char* append(char* out, const char* text) {
    std::size_t n = std::strlen(text);
    std::memcpy(out, text, n);
    return out + n;
}

char* append(char* out, unsigned long number) {
    char digits[24];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + number % 10);
    while ((number /= 10) != 0);
    while (n > 0) *out++ = digits[--n];
    return out;
}

void on_segv(int, siginfo_t* info, void*) {
    Fiber* fiber = Fiber::current();
    if (!fiber || !fiber->stack().in_guard(info->si_addr)) {
        ::sigaction(SIGSEGV, &previous, nullptr); // not ours: the fault happens again, as before us
        return;
    }
    char line[128];
    char* end = append(line, "page ");
    end = append(end, static_cast<unsigned long>(fiber->id()));
    end = append(end, ": fiber stack overflow at ");
    end = append(end, static_cast<unsigned long>(fiber->stack().size() / 1024));
    end = append(end, " KiB: raise --stack-kb\n");
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, end - line);
    ::_exit(1); // the fiber cannot go on, and its half-done work cannot be undone
}

} // namespace

void report_stack_overflows() {
    stack_t alternate{};
    alternate.ss_sp = signal_stack;
    alternate.ss_size = sizeof signal_stack;
    if (::sigaltstack(&alternate, nullptr) < 0) throw_errno("sigaltstack");
    struct sigaction action {};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGSEGV, &action, &previous) < 0) throw_errno("sigaction SIGSEGV");
}

} // namespace ladder::green
