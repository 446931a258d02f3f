#include "stack_overflow.hpp"
#include "error.hpp"
#include "fiber.hpp"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace ladder::green {
namespace {

struct sigaction previous {};
alignas(16) char signal_stack[64 * 1024];

void on_segv(int, siginfo_t* info, void*) {
    Fiber* fiber = Fiber::current();
    if (!fiber || !fiber->stack().in_guard(info->si_addr)) {
        ::sigaction(SIGSEGV, &previous, nullptr); // not ours: the fault happens again, as before us
        return;
    }
    // Only async-signal-safe calls in here: no printf, no allocation.
    char page[24] = {}, kib[24] = {};
    std::to_chars(page, page + 23, fiber->id());
    std::to_chars(kib, kib + 23, fiber->stack().size() / 1024);
    const char* parts[] = {"page ", page, ": fiber stack overflow at ", kib,
                           " KiB: raise --stack-kb\n"};
    for (const char* part : parts)
        if (::write(STDERR_FILENO, part, std::strlen(part)) < 0) break;
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
