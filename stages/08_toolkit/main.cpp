// 08_toolkit — asyncio's toolkit on top of 07's coroutines: timers,
// cancellation, wait/wait_for/as_completed/gather, and the synchronisation
// tools (Lock, Event, Condition, Semaphore, Queue), each shown by an
// experiment against the slow server with the time the idea predicts.
#include "cli.hpp"
#include "demos.hpp"
#include "07_coroutines/loop.hpp"
#include "page.hpp"
#include "report.hpp"
#include "signals.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    options.count = 3; // the default run (every demo) stays a few seconds at 300 ms a page
    std::string demo;
    int workers = 2;
    Cli cli("08_toolkit", "asyncio's toolkit in C++: one experiment per tool.");
    add_client_flags(cli, options);
    cli.option("--demo", &demo, "run only this experiment (default: all, in order)")
        .option("--workers", &workers, "consumer tasks of the queue demo", 1, 1000);
    cli.parse(argc, argv);

    std::vector<std::string> names = coro::demo_names();
    if (!demo.empty()) {
        if (std::find(names.begin(), names.end(), demo) == names.end()) {
            std::string all;
            for (const auto& n : names) all += " " + n;
            std::fprintf(stderr, "08_toolkit: no demo named '%s'; pick one of:%s\n", demo.c_str(),
                         all.c_str());
            return 2;
        }
        names = {demo};
    }

    Endpoint server = require_server("08_toolkit", options);
    ignore_sigpipe();
    // The report counts pages 0..count-1; the demos fetch a number of pages
    // that depends on the demos (and on /random), so it is sized for the most
    // and told the real number at the end.
    ClientOptions report_options = options;
    report_options.count = coro::max_pages(names, options.count);
    Report report("08_toolkit", report_options);
    coro::DemoContext ctx{server, options, report};
    ctx.workers = workers;
    nlohmann::json results = nlohmann::json::array();
    bool all_ok = true;
    std::FILE* out = options.json ? stderr : stdout; // with --json stdout is the JSON alone
    try {
        coro::run([&]() -> coro::Task<void> {
            for (const std::string& name : names) {
                coro::DemoResult r = co_await coro::run_demo(name, ctx);
                all_ok = all_ok && r.ok;
                results.push_back({{"name", r.name},
                                   {"wall_s", std::round(r.wall_s * 1000) / 1000},
                                   {"predicted_s", std::round(r.predicted_s * 1000) / 1000},
                                   {"ok", r.ok},
                                   {"what", r.what}});
                if (!options.json || !options.quiet)
                    std::fprintf(out, "%-13s wall %5.2f s  predicted %5.2f s  %-4s %s\n",
                                 r.name.c_str(), r.wall_s, r.predicted_s, r.ok ? "ok" : "FAIL",
                                 r.what.c_str());
            }
        }());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "08_toolkit: %s\n", e.what());
        return 1;
    }
    report_options.count = ctx.pages; // the pages actually started
    report.extra["demos"] = results;
    report.extra["cancelled_on_purpose"] = ctx.cancelled;
    report.extra["frames_leaked"] = coro::frame_stats.live();
    int code = report.finish();
    // Pages cancelled on purpose (wait-first, wait-for) show as failed pages;
    // they are not an error of the run. A demo whose outcome was wrong is.
    if (code != 0 && report.failed() == ctx.cancelled && report.ok() + ctx.cancelled == ctx.pages)
        code = 0;
    if (!all_ok) {
        std::fprintf(stderr, "08_toolkit: some experiment did not turn out as predicted\n");
        code = 1;
    }
    return code;
}
