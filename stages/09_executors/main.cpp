// 09_executors — when the loop must hand work to threads or processes:
// run_in_executor, wrap_future, and CPU-bound work, each shown by a timed
// experiment (seed 000's rule of thumb; seed 004's test9).
#include "cli.hpp"
#include "demo_runner.hpp"
#include "frame_count.hpp"
#include "page.hpp"
#include "process_executor.hpp"
#include "report.hpp"
#include "signals.hpp"
#include "thread_executor.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/watch/watch.hpp"
#include "08_toolkit/cancellation.hpp"
#include "09_executors/demos/demos.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>

int main(int argc, char** argv) {
    using namespace ladder;
    const int cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    ClientOptions options;
    std::string only;
    int jobs = 20, size = 70'000'000, threads = 4, workers = cores, blocking_ms = 1000;
    Cli cli("09_executors", "CPU-bound work beside the event loop: threads, processes, "
                            "run_in_executor.");
    add_client_flags(cli, options);
    cli.option("--demo", &only, "run only this experiment (default: all, in order)",
               demo_names(coro::executor_demos::demos))
        .option("--jobs", &jobs, "CPU jobs of the cpu demo (the seed's 20)", 1, 1000)
        .option("--size", &size, "random numbers each CPU job squares", 1, 2'000'000'000)
        .option("--threads", &threads, "threads of the thread pool (the seed's test9: 4)", 1, 256)
        .option("--workers", &workers, "processes of the process pool (default: the cores)", 1, 64)
        .option("--blocking-ms", &blocking_ms, "how long each blocking call of `mixed` takes", 0,
                60'000);
    LoopWatchOptions watching; // 07's watch/: --trace-loop, --slow-step-ms, the task view
    coro::add_watch_flags(cli, watching);
    cli.parse(argc, argv);

    // Whole lines at once, also into a pipe or a file: the demos' tables and
    // the report's page lines (stderr) then appear in the order they happened.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // Only `mixed` talks to the server; without it the run needs none.
    ClientOptions report_options = options;
    report_options.count = coro::executor_demos::pages_of(only, options.count);
    std::optional<Endpoint> server;
    if (report_options.count > 0) server = require_server("09_executors", options);
    ignore_sigpipe();
    raise_fd_limit(); // `mixed` keeps --count sockets open at once

    Report report("09_executors", report_options);
    nlohmann::json results;
    bool all_ok = false;
    try {
        // Fork the worker processes first, while this process has one thread
        // and little memory: each worker is a copy of it.
        coro::ProcessExecutor processes(workers, coro::executor_demos::worker_functions());
        coro::Loop loop;
        coro::Cancellation cancellation(loop); // 08's jobs, which run_in_executor returns
        coro::Watching watched(loop, "09_executors", watching);
        coro::ThreadExecutor thread_pool(loop, threads);
        coro::executor_demos::DemoContext ctx{server, options, report, thread_pool, processes};
        ctx.cores = cores;
        ctx.jobs = jobs;
        ctx.size = static_cast<std::uint64_t>(size);
        ctx.blocking_ms = blocking_ms;
        ctx.out = options.json ? (options.quiet ? nullptr : stderr) : stdout;
        results = run_demos(
            coro::executor_demos::demos, only,
            [&](const coro::executor_demos::Demo& demo) { return loop.run_until_complete(demo.run(ctx)); },
            ctx.out, all_ok);
        processes.shutdown();           // workers read end of stream, exit, and are reaped
    } catch (const std::exception& e) { // the executors are gone: threads joined, workers reaped
        std::fprintf(stderr, "09_executors: %s\n", e.what());
        return 1;
    }
    report.extra["demos"] = results;
    report.extra["cores"] = cores;
    report.extra["frames_leaked"] = frame_stats.live();
    int code = report.finish();
    if (!all_ok) {
        std::fprintf(stderr, "09_executors: some experiment did not turn out as predicted\n");
        code = 1;
    }
    return code;
}
