// 02_process_pool — 01_blocking plus one idea: run the same blocking fetch in
// several processes at once (the seed's ProcessPoolExecutor).
//
// The parent forks --workers copies of itself, once (ProcessPool's
// constructor, process_pool.cpp), then hands each idle worker the next page
// index over a socketpair. A worker calls 01's fetch_page() and sends back the
// status and size (page_reply.hpp), or the error. Each worker still waits for
// its page, but the waits overlap: N pages take about one delay instead of N.
#include "01_blocking/fetch.hpp"
#include "cli.hpp"
#include "page.hpp"
#include "page_reply.hpp"
#include "process_pool.hpp"
#include "report.hpp"
#include "signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

// One process per page costs a fork and a few MiB each; past this, say so.
constexpr int max_default_workers = 64;

} // namespace

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    int workers = 0;     // 0: one per page, at most max_default_workers
    int crash_page = -1; // a test hook: the worker handed this page dies at once
    Cli cli("02_process_pool", "Fetch pages in a pool of forked worker processes.");
    add_client_flags(cli, options);
    cli.option("--workers", &workers, "worker processes (default: one per page, at most 64)", 1,
               4096);
    cli.hidden("--crash-after", &crash_page, 0, 1'000'000);
    cli.parse(argc, argv);
    workers = pool_size(cli, workers, options.count, max_default_workers, "worker processes");

    Endpoint server = require_server("02_process_pool", options);
    StopSignals stop; // Ctrl-C writes to a pipe that the pool watches
    Report report("02_process_pool", options);
    auto timeout = std::chrono::milliseconds(options.timeout_ms);

    // What each worker runs, inside its own process: a page index in, the
    // reply out. fetch_page's errors are thrown, and come back as text.
    auto fetch_in_worker = [&](const std::string& request) {
        int page = std::stoi(request);
        if (page == crash_page) ::kill(::getpid(), SIGKILL); // --crash-after N
        PageTimes times;
        Page p = fetch_page(server, page_path(page), timeout, &times);
        return encode_reply(p, times);
    };
    // The parent's side: the same report calls as 01's loop.
    ProcessPool::Callbacks callbacks{
        [&](int page, int worker) {
            report.page_started(page);
            report.set_worker(page, worker); // for --trace
        },
        [&](int page, const Outcome& outcome) {
            Page p;
            PageTimes times;
            if (outcome.ok && decode_reply(outcome.text, p, times))
                report.page_ok(page, p.status, p.bytes, times);
            else
                report.page_failed(page, outcome.text);
        },
    };
    try {
        ProcessPool pool(workers, fetch_in_worker); // fork() happens here, before big allocations
        std::vector<std::string> requests;
        for (int page = 0; page < options.count; ++page) requests.push_back(std::to_string(page));
        if (!pool.map(requests, callbacks, stop.fd())) {
            pool.stop();
            std::fprintf(stderr, "02_process_pool: interrupted; killed and reaped %d workers\n",
                         pool.size());
            return 130;
        }
        // Reap the workers before finish(): getrusage(RUSAGE_CHILDREN) counts
        // only children that were waited for.
        pool.shutdown();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "02_process_pool: %s (try fewer --workers)\n", e.what());
        return 1;
    }
    report.extra["workers"] = workers;
    return report.finish();
}
