// 06_generators — the seed's §4.4-4.5 in C++20: every page is a generator that
// reads top to bottom like 01's blocking code, yet all pages are in flight at
// once. At each co_yield a generator hands its Task the Future it waits for
// and steps aside; the selector callbacks only set results on futures, and
// Task::step resumes the generator that waited, whose co_yield takes the result.
//
// By default the pages run the seed's final version (§4.5: yield from);
// --plain-yield runs its first step (§4.4: fetch yields Futures itself).
#include "bookkeeping.hpp"
#include "cli.hpp"
#include "fetch.hpp"
#include "page.hpp"
#include "report.hpp"
#include "selector.hpp"
#include "watched_selector.hpp"
#include "yield_from.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <string>
#include <utility>
#include <vector>

using namespace ladder;
using namespace ladder::gen;

int main(int argc, char** argv) {
    ClientOptions options;
    std::string backend = "epoll";
    bool plain_yield = false;
    Cli cli("06_generators",
            "Fetch every page at once in one thread: generators driven by Futures and Tasks.");
    add_client_flags(cli, options);
    add_selector_flag(cli, backend);
    cli.flag("--plain-yield", &plain_yield,
             "the seed's first step (4.4): fetch yields Futures itself, no yield from");
    LoopWatchOptions watching; // watched_selector.hpp: not part of the lesson
    add_loop_watch_flags(cli, watching);
    cli.parse(argc, argv);

    Endpoint server = require_server("06_generators", options);
    raise_fd_limit(); // one socket per page: 10,000 pages need 10,000 fds
    // On the recording, a key is named after the callback that will run for
    // it: 06 waits for WRITE only while it connects (fetch.cpp).
    auto selector = watch_selector(make_selector(backend), "06_generators", watching,
                                   [](const SelectorKey& key) -> std::string {
                                       return key.events & EVENT_WRITE ? "on_connected"
                                                                       : "on_readable";
                                   });
    Report report("06_generators", options);
    std::chrono::milliseconds timeout(options.timeout_ms);

    // Start every page: each Task runs its generator up to the first co_yield
    // (the connect) and returns, so this loop takes tens of microseconds per
    // page, not delays.
    int pages_left = options.count;
    std::vector<PageTimes> times(static_cast<std::size_t>(options.count)); // for --trace
    std::deque<Task> tasks; // a deque never moves its elements: futures point at the tasks
    Deadlines deadlines{tasks, timeout};
    try {
        for (int i = 0; i < options.count; ++i) {
            report.page_started(i);
            deadlines.due.push_back(Clock::now() + timeout);
            PageTimes& t = times[i];
            // Step 1 (--plain-yield): fetch yields Futures itself. Step 2: yield from.
            Generator page = plain_yield ? fetch_plain_yield(*selector, server, page_path(i), t)
                                         : yield_from(fetch(*selector, server, page_path(i), t));
            Task& task = tasks.emplace_back(std::move(page));
            // A Task is a Future: once its generator has returned or thrown, record the page.
            task.add_done_callback([&report, &pages_left, &t, i](Future& done) {
                try {
                    report.page_ok(i, 200, done.result().size(), t); // parse_page accepts only 200
                } catch (const SelectorLimitError&) {
                    throw; // not this page's failure but the selector's: stop the run
                } catch (const std::exception& e) {
                    report.page_failed(i, e.what(), t);
                }
                --pages_left;
            });
        }
    } catch (const SelectorLimitError& e) { // --selector select, past fd 1023
        std::fprintf(stderr, "06_generators: %s\n", e.what());
        return 1;
    }

    // The event loop: the seed's loop(). The callbacks it runs only set a
    // result on a future; Task::step takes it from there.
    long selects = 0;
    while (pages_left > 0) {
        for (const auto& [key, events] : selector->select(deadlines.time_left()))
            static_cast<Registration*>(key.data)->ready();
        deadlines.time_out_overdue();
        ++selects;
    }

    report.extra["selector"] = std::string(selector->name());
    report.extra["selects"] = selects;
    report.extra["fetch"] = plain_yield ? "plain yield" : "yield from";
    return report.finish();
}
