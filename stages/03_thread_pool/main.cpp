// 03_thread_pool — 01_blocking plus one idea: run the same blocking fetch on
// several threads at once (the seed's ThreadPoolExecutor).
//
// Every page becomes a task for a ThreadPool of --workers threads. A thread
// that waits for its page blocks only itself; the others keep fetching, so
// N pages take about one delay instead of N. Threads share memory, so the one
// thing they share here — the Report — is guarded by a mutex.
#include "cli.hpp"
#include "01_blocking/fetch.hpp"
#include "page.hpp"
#include "report.hpp"
#include "thread_cost.hpp"
#include "thread_pool.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <mutex>
#include <vector>

namespace {

// Threads are cheaper than processes, but each still reserves a whole stack.
constexpr int max_default_workers = 256;

} // namespace

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    int workers = 0; // 0: one per page, at most max_default_workers
    Cli cli("03_thread_pool", "Fetch pages on a pool of threads.");
    add_client_flags(cli, options);
    cli.option("--workers", &workers, "worker threads (default: one per page, at most 256)", 1,
               10'000);
    cli.parse(argc, argv);
    workers = pool_size(cli, workers, options.count, max_default_workers, "threads");

    Endpoint server = require_server("03_thread_pool", options);
    Report report("03_thread_pool", options);
    std::mutex report_mutex; // Report is not thread-safe: one thread at a time
    auto timeout = std::chrono::milliseconds(options.timeout_ms);

    // 01's loop body, run on a pool thread. The lock is held only around the
    // report calls — never while waiting for the server.
    auto fetch_one = [&](int page) {
        {
            std::lock_guard lock(report_mutex);
            report.page_started(page);
            report.set_worker(page, ThreadPool::current_worker()); // for --trace
        }
        PageTimes times; // when it connected, sent, got the first byte (for --trace)
        try {
            Page p = fetch_page(server, page_path(page), timeout, &times);
            std::lock_guard lock(report_mutex);
            report.page_ok(page, p.status, p.bytes, times);
        } catch (const std::exception& e) {
            std::lock_guard lock(report_mutex);
            report.page_failed(page, e.what(), times);
        }
    };
    try {
        ThreadPool pool(workers);
        std::vector<std::future<void>> pages;
        for (int page = 0; page < options.count; ++page)
            pages.push_back(pool.submit([&fetch_one, page] { fetch_one(page); }));
        for (auto& f : pages) f.get();  // wait for each; get() rethrows what a task threw
    } catch (const std::exception& e) { // e.g. no more threads: "Resource temporarily unavailable"
        std::fprintf(stderr, "03_thread_pool: %s (try fewer --workers)\n", e.what());
        return 1;
    }
    report.extra["workers"] = workers;
    report.extra["thread_stack_kb"] = default_thread_stack_kb(); // reserved per thread
    report.extra["vm_peak_kb"] = virtual_memory_peak_kb();       // compare with max_rss_kb
    return report.finish();
}
