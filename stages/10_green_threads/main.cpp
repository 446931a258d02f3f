// 10_green_threads — the other road: keep 01's blocking code exactly as it is
// and run every page on a green thread (a fiber) with a small stack of its own.
// The socket calls it makes are patched (monkey_patch.cpp) to hand the CPU to
// the scheduler instead of sleeping in the kernel, so all pages wait at once.
#include "01_blocking/fetch.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "net.hpp"
#include "page.hpp"
#include "report.hpp"
#include "scheduler.hpp"
#include "selector.hpp"
#include "signals.hpp"
#include "stack_overflow.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

namespace {

using namespace ladder;

// --overflow-page N (tests, exercise 2): page N calls this and never returns.
volatile bool keep_going = true;
int recurse(int depth) {
    volatile char frame[512]; // a frame that costs stack, so the guard is reached soon
    frame[0] = static_cast<char>(depth);
    return keep_going ? recurse(depth + 1) + frame[0] : depth;
}

int crawl(const Endpoint& server, const ClientOptions& options, const std::string& selector_name,
          int stack_kb, int overflow_page) {
    auto selector = make_selector(selector_name);
    green::Scheduler scheduler(*selector, static_cast<std::size_t>(stack_kb) * 1024);
    Report report("10_green_threads", options);
    auto timeout = std::chrono::milliseconds(options.timeout_ms);
    std::size_t touched_total = 0, touched_most = 0; // bytes of stack the pages touched

    for (int page = 0; page < options.count; ++page) {
        // 01's loop body as the body of a fiber (with 07's timeout hint); fetch_page() is 01's own.
        auto fetch_one = [&, page] {
            report.page_started(page);
            if (page == overflow_page) recurse(0);
            PageTimes times;
            try {
                Page p = fetch_page(server, page_path(page), timeout, &times);
                report.page_ok(page, p.status, p.bytes, times);
            } catch (const SelectorLimitError&) {
                throw; // not this page's failure: the whole run's (one line, from main)
            } catch (const TimeoutError& e) { // 01 says which call; the page says why
                report.page_failed(page,
                                   std::string(e.what()) + " after " +
                                       std::to_string(timeout.count()) + " ms (--timeout-ms)",
                                   times);
            } catch (const std::exception& e) {
                report.page_failed(page, e.what(), times);
            }
            std::size_t touched = green::Fiber::current()->stack().touched_bytes();
            touched_total += touched;
            touched_most = std::max(touched_most, touched);
        };
        scheduler.spawn(page, fetch_one);
    }
    scheduler.run();

    report.extra["selector"] = selector_name;
    report.extra["stack_kb"] = stack_kb;
    report.extra["guard_kb"] = green::FiberStack::guard_bytes / 1024;
    report.extra["stack_touched_kb_per_page"] =
        std::round(10.0 * static_cast<double>(touched_total) / 1024 / options.count) / 10;
    report.extra["stack_touched_kb_max"] = touched_most / 1024;
    report.extra["stacks_leaked"] = green::StackPool::mapped();
    report.extra["switches"] = scheduler.switches();
    return report.finish();
}

} // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    std::string selector_name = "epoll";
    int stack_kb = 64, overflow_page = -1;
    Cli cli("10_green_threads",
            "Fetch every page at once with 01's blocking code on green threads.");
    add_client_flags(cli, options);
    add_selector_flag(cli, selector_name);
    cli.option("--stack-kb", &stack_kb,
               "each page's stack in KiB (default 64; a 16 KiB guard below)", 4, 65536);
    cli.option("--overflow-page", &overflow_page,
               "page N recurses until its stack's guard page stops it (notes/10, exercise 2)", 0,
               1'000'000);
    cli.parse(argc, argv);

    Endpoint server = require_server("10_green_threads", options);
    raise_fd_limit(); // one socket per page, all open at once
    ignore_sigpipe();
    green::report_stack_overflows();
    try {
        return crawl(server, options, selector_name, stack_kb, overflow_page);
    } catch (const std::exception& e) { // no stack for a page (mmap), or a fiber's escaped error
        std::fprintf(stderr, "10_green_threads: %s\n", e.what());
        return 1;
    }
}
