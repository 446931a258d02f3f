// 08_toolkit — asyncio's toolkit on 07's loop: timers, cancellation,
// wait/wait_for/as_completed, and the synchronisation tools (Lock, Event,
// Condition, Semaphore, Queue), each shown by an experiment against the slow
// server beside the time the idea predicts.
#include "cancellation.hpp"
#include "cli.hpp"
#include "demo_runner.hpp"
#include "frame_count.hpp"
#include "page.hpp"
#include "report.hpp"
#include "signals.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/watch/watch.hpp"
#include "08_toolkit/demos/demos.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    options.count = 3; // every demo, at 300 ms a page, in a few seconds
    std::string only;
    int workers = 4;
    Cli cli("08_toolkit", "asyncio's toolkit in C++: one experiment per tool.");
    add_client_flags(cli, options);
    cli.option("--demo", &only, "run only this experiment (default: all, in order)",
               demo_names(coro::toolkit_demos::demos))
        .option("--workers", &workers, "worker tasks of the crawl demo", 1, 1000);
    LoopWatchOptions watching; // 07's watch/: --trace-loop, --slow-step-ms, the task view
    coro::add_watch_flags(cli, watching);
    cli.parse(argc, argv);

    Endpoint server = require_server("08_toolkit", options);
    ignore_sigpipe();
    // The report numbers pages 0..count-1: size it for the most the demos fetch.
    ClientOptions report_options = options;
    report_options.count = coro::toolkit_demos::max_pages(only, options.count);
    Report report("08_toolkit", report_options);
    coro::toolkit_demos::DemoContext ctx{server, options, report, workers};
    std::FILE* out = !options.json ? stdout : options.quiet ? nullptr : stderr; // --json: JSON only
    ctx.out = out;
    nlohmann::json results;
    bool all_ok = false;
    try {
        coro::Loop loop;
        coro::Cancellation cancellation(loop); // 08's tools, attached to 07's loop
        coro::Watching watched(loop, "08_toolkit", watching);
        ctx.delay_ms = loop.run_until_complete(ctx.stats())["delay_ms"].get<int>();
        results = run_demos(
            coro::toolkit_demos::demos, only,
            [&](const coro::toolkit_demos::Demo& demo) { return loop.run_until_complete(demo.run(ctx)); }, out,
            all_ok);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "08_toolkit: %s\n", e.what());
        return 1;
    }
    report_options.count = ctx.pages; // the pages actually started
    report.extra["demos"] = results;
    report.extra["cancelled_on_purpose"] = ctx.cancelled;
    report.extra["dead_links"] = ctx.dead_links;
    report.extra["frames_leaked"] = frame_stats.live();
    int code = report.finish();
    // Pages cancelled on purpose (wait-first, wait-for) and the crawl's dead
    // links count as failed pages; they are not a failure of the run. A demo
    // that went wrong is.
    int expected_failures = ctx.cancelled + ctx.dead_links;
    if (code != 0 && report.failed() == expected_failures &&
        report.ok() + expected_failures == ctx.pages)
        code = 0;
    if (!all_ok) {
        std::fprintf(stderr, "08_toolkit: some experiment did not turn out as predicted\n");
        code = 1;
    }
    return code;
}
