// 07_coroutines — the last rung of the seed: async/await. C++20 coroutines,
// a Task type, and an event loop of our own.
//
// The crawl code (crawl.cpp) reads like 01_blocking's; every wait is a
// co_await that parks the page on the loop while the other pages run.
#include "cli.hpp"
#include "crawl.hpp"
#include "crawl_cost.hpp"
#include "loop.hpp"
#include "page.hpp"
#include "report.hpp"
#include "signals.hpp"
#include "07_coroutines/watch/watch.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    std::string selector = "epoll";
    Cli cli("07_coroutines", "Fetch every page at once with C++20 coroutines on an event loop.");
    add_client_flags(cli, options);
    add_selector_flag(cli, selector);
    LoopWatchOptions watching; // watch/: beside the lesson, not part of it
    coro::add_watch_flags(cli, watching);
    cli.parse(argc, argv);

    Endpoint server = require_server("07_coroutines", options);
    raise_fd_limit(); // one socket per page, all open at once
    ignore_sigpipe();
    Report report("07_coroutines", options);
    CrawlCost cost; // the run's kernel calls and coroutine frames, per page
    try {
        coro::Loop loop(selector);
        coro::Watching watched(loop, "07_coroutines", watching);
        loop.run_until_complete(coro::crawl(server, options, report)); // asyncio.run(crawl())
        report.extra["loop_turns"] = loop.turns(); // 05 calls them "selects"
    } catch (const std::exception& e) {
        std::fprintf(stderr, "07_coroutines: %s\n", e.what());
        return 1;
    }
    cost.report(report, options.count); // the loop is gone, and every frame with it (as in 11)
    report.extra["selector"] = selector;
    return report.finish();
}
