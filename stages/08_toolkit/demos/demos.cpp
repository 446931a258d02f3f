#include "demos.hpp"
#include "08_toolkit/condition.hpp"
#include "error.hpp"
#include "08_toolkit/event.hpp"
#include "08_toolkit/job.hpp"
#include "08_toolkit/lock.hpp"
#include "page.hpp"
#include "08_toolkit/queue.hpp"
#include "08_toolkit/semaphore.hpp"
#include "08_toolkit/sleep.hpp"
#include "08_toolkit/wait.hpp"
#include "07_coroutines/crawl.hpp"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <set>

namespace ladder::coro::toolkit_demos {

using std::chrono::milliseconds;

Task<std::string> DemoContext::page(std::string path) {
    int i = pages++;
    report.page_started(i);
    std::string body;
    try {
        Task<Page> fetching =
            fetch(server, path, Clock::now() + milliseconds(options.timeout_ms), nullptr, &body);
        Page p = co_await fetching;
        report.page_ok(i, p.status, p.bytes);
    } catch (const CancelledError&) { // not a std::exception: on purpose (cancellation.hpp)
        ++cancelled;
        report.page_failed(i, "cancelled");
        throw;
    } catch (const std::exception& e) {
        report.page_failed(i, e.what());
        throw;
    }
    co_return body;
}

Task<nlohmann::json> DemoContext::stats(bool reset) {
    std::string body;
    co_await fetch(server, reset ? "/stats?reset=1" : "/stats",
                   Clock::now() + milliseconds(options.timeout_ms), nullptr, &body);
    co_return nlohmann::json::parse(body);
}

namespace {

DemoResult outcome(bool ok, std::string what, double predicted_s) {
    DemoResult r;
    r.ok = ok;
    r.what = std::move(what);
    r.predicted_s = predicted_s;
    return r;
}
std::string with_delay(int page, int delay_ms) {
    return page_path(page) + "?delay_ms=" + std::to_string(delay_ms);
}
std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++n;
        closedir(d);
    }
    return n;
}
// Each task of `make` started at once (create_task); then every result awaited.
template <class F>
Task<void> all_at_once(int n, F make) {
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(make(i)));
    for (auto& j : jobs) co_await j;
}

// The server's most open connections since the last stats(true): how many
// pages it saw at once, whatever the machine's load did to the wall time.
Task<std::pair<bool, std::string>> peak_was(DemoContext& ctx, int expected) {
    int peak = (co_await ctx.stats())["peak_open_connections"].get<int>();
    co_return std::pair{peak == expected, "server's peak open connections " + std::to_string(peak)};
}

// --- sequential: co_await in a loop, nothing started before: one page after the other.
Task<DemoResult> sequential(DemoContext& ctx) {
    int n = ctx.options.count;
    co_await ctx.stats(true);
    for (int i = 0; i < n; ++i) co_await ctx.page(page_path(i)); // each waits for the last
    auto [ok, peak] = co_await peak_was(ctx, 1);
    co_return outcome(ok, std::to_string(n) + " pages one after the other (" + peak + ")",
                      n * ctx.delay_ms / 1000.0);
}

// --- gather: every page started first, then each awaited.
Task<DemoResult> gather_demo(DemoContext& ctx) {
    int n = ctx.options.count;
    co_await ctx.stats(true);
    co_await all_at_once(n, [&](int i) { return ctx.page(page_path(i)); });
    auto [ok, peak] = co_await peak_was(ctx, n);
    co_return outcome(ok, std::to_string(n) + " pages at once (" + peak + ")",
                      ctx.delay_ms / 1000.0);
}

// --- as_completed: pages with jittered delays come back fastest first.
Task<DemoResult> as_completed_demo(DemoContext& ctx) {
    int n = ctx.options.count, d = ctx.delay_ms;
    std::vector<int> delays;
    for (int i = 0; i < n; ++i) delays.push_back(d / 2 + i * d / n); // spaced d/n apart
    std::shuffle(delays.begin(), delays.end(), std::mt19937(std::random_device{}()));
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(ctx.page(with_delay(i, delays[i]))));
    AsCompleted next(jobs);
    std::vector<int> order;
    std::string what = "completion order (ms):";
    while (next.left()) {
        std::size_t i = co_await next();
        co_await jobs[i];
        order.push_back(delays[i]);
        what += " " + std::to_string(delays[i]);
    }
    co_return outcome(std::is_sorted(order.begin(), order.end()), what,
                         *std::max_element(delays.begin(), delays.end()) / 1000.0);
}

// --- wait-first: FIRST_COMPLETED; the slower ones are still pending, then cancelled.
Task<DemoResult> wait_first(DemoContext& ctx) {
    int n = std::max(2, ctx.options.count), d = ctx.delay_ms;
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(ctx.page(with_delay(i, i ? 3 * d : d))));
    WaitResult r = co_await wait(jobs, Return::first_completed);
    int cancelled = 0;
    for (std::size_t i : r.pending) jobs[i].cancel();
    for (std::size_t i : r.pending) {
        co_await jobs[i].finished(); // cancelled: its socket is closed by now
        cancelled += jobs[i].cancelled();
    }
    co_return outcome(r.done == std::vector<std::size_t>{0} && cancelled == n - 1,
                         "done " + std::to_string(r.done.size()) + ", pending " +
                             std::to_string(r.pending.size()) + " (then cancelled " +
                             std::to_string(cancelled) + ")",
                         d / 1000.0);
}

// --- wait-for: a page three times slower than the timeout.
Task<DemoResult> wait_for_demo(DemoContext& ctx) {
    int d = ctx.delay_ms;
    std::size_t fds_before = open_fds();
    bool timed_out = false;
    try {
        co_await wait_for(ctx.page(with_delay(0, 3 * d)), milliseconds(d));
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    std::size_t fds_after = open_fds(); // the page's socket was closed on cancellation
    co_return outcome(timed_out && fds_after == fds_before,
                         std::string(timed_out ? "TimeoutError" : "no timeout?!") +
                             ", open fds before " + std::to_string(fds_before) + " after " +
                             std::to_string(fds_after),
                         d / 1000.0);
}

// --- lock: every fetch under one Lock: one at a time again.
Task<DemoResult> lock_demo(DemoContext& ctx) {
    int n = ctx.options.count;
    co_await ctx.stats(true);
    Lock lock;
    co_await all_at_once(n, [&](int i) -> Task<std::string> {
        auto held = co_await lock.acquire(); // held across the fetch's awaits: the pitfall
        co_return co_await ctx.page(page_path(i));
    });
    auto [ok, peak] = co_await peak_was(ctx, 1);
    co_return outcome(ok, peak, n * ctx.delay_ms / 1000.0);
}

// --- semaphore: at most two fetches at a time.
Task<DemoResult> semaphore_demo(DemoContext& ctx) {
    int n = ctx.options.count;
    co_await ctx.stats(true);
    Semaphore sem(2);
    co_await all_at_once(n, [&](int i) -> Task<std::string> {
        auto permit = co_await sem.acquire();
        co_return co_await ctx.page(page_path(i));
    });
    auto [ok, peak] = co_await peak_was(ctx, std::min(n, 2));
    co_return outcome(ok, peak, (n + 1) / 2 * ctx.delay_ms / 1000.0);
}

// --- event: waiters sleep until a /random value crosses 0.5.
Task<DemoResult> event_demo(DemoContext& ctx) {
    Event crossed;
    int woken = 0;
    auto waiter = [&]() -> Task<void> { // (named: the coroutine refers to it while it runs)
        co_await crossed.wait();
        ++woken;
    };
    std::vector<Job<void>> waiters;
    for (int i = 0; i < 3; ++i) waiters.push_back(create_task(waiter()));
    int fetches = 0;
    double value = 0;
    std::string seen;
    while (fetches < 20 && value <= 0.5) {
        value = nlohmann::json::parse(co_await ctx.page("/random"))["msg"].get<double>();
        ++fetches;
        seen += (seen.empty() ? "" : " ") + std::to_string(value).substr(0, 4);
    }
    if (value > 0.5) crossed.set();
    for (auto& w : waiters) {
        if (!crossed.is_set()) w.cancel();
        co_await w.finished();
    }
    co_return outcome(value > 0.5 && woken == 3,
                         "/random gave " + seen + " -> set(), woke " + std::to_string(woken),
                         fetches * ctx.delay_ms / 1000.0);
}

// --- condition: notify(2) wakes exactly two of four waiters.
Task<DemoResult> condition_demo(DemoContext& ctx) {
    Condition cond;
    int woken = 0;
    auto waiter = [&]() -> Task<void> {
        auto held = co_await cond.acquire();
        co_await cond.wait();
        ++woken;
    };
    std::vector<Job<void>> waiters;
    for (int i = 0; i < 4; ++i) waiters.push_back(create_task(waiter()));
    co_await ctx.page("/"); // "something changed": a page arrived
    {
        auto held = co_await cond.acquire();
        cond.notify(2);
    }
    co_await sleep(milliseconds(10)); // every waiter that was woken has run by now
    int after_notify2 = woken;
    {
        auto held = co_await cond.acquire();
        cond.notify_all();
    }
    for (auto& w : waiters) co_await w;
    co_return outcome(after_notify2 == 2 && woken == 4,
                         "notify(2) woke " + std::to_string(after_notify2) +
                             ", notify_all() the other " + std::to_string(woken - after_notify2),
                         ctx.delay_ms / 1000.0);
}

// --- crawl: the 500 Lines crawler on the server's linked site (/site/N). The
// work is discovered as it goes: --workers tasks take a URL from a Queue,
// fetch it, and put every link not seen before; the crawl is over when
// join() says every URL put was done. Nobody knew in advance how many.
Task<DemoResult> crawl_demo(DemoContext& ctx) {
    int workers = ctx.workers;
    co_await ctx.stats(true);
    // Bounded, but not at `workers`: a worker also puts, and if every worker
    // waited in put() for room that only a get() could make, none would get.
    Queue<std::string> todo(static_cast<std::size_t>(max_crawl_urls));
    std::set<std::string> seen = {"/site/0"};
    int fetched = 0, dead = 0;
    double busy_s = 0; // the workers' fetches, added up
    auto worker = [&]() -> Task<void> {
        for (;;) { // forever: the crawl ends when join() returns and we are cancelled
            std::string url = co_await todo.get();
            auto start = Clock::now();
            try {
                auto page = nlohmann::json::parse(co_await ctx.page(url));
                ++fetched;
                for (const auto& link : page["links"])
                    if (seen.size() < max_crawl_urls && seen.insert(link.get<std::string>()).second)
                        co_await todo.put(link.get<std::string>());
            } catch (const std::exception&) { // a dead link: reported as a failed page, not fatal
                ++dead;
            }
            busy_s += seconds_since(start);
            todo.task_done();
        }
    };
    auto start = Clock::now();
    std::vector<Job<void>> crew;
    for (int w = 0; w < workers; ++w) crew.push_back(create_task(worker()));
    co_await todo.put("/site/0");
    co_await todo.join();
    double wall_s = seconds_since(start);
    for (auto& w : crew) w.cancel();
    for (auto& w : crew) co_await w.finished();
    ctx.dead_links += dead;
    int peak = (co_await ctx.stats())["peak_open_connections"].get<int>();
    double achieved = busy_s / wall_s; // pages in flight, on average
    char what[200];
    std::snprintf(what, sizeof what,
                  "%d URLs fetched in %.2f s, achieved concurrency = %.1f (%d dead links; "
                  "server's peak %d for %d workers)",
                  fetched + dead, wall_s, achieved, dead, peak, workers);
    DemoResult r = outcome(peak <= workers && fetched > 0, what, 0);
    r.predicted_s.reset(); // nobody knew the amount of work in advance
    r.numbers = {{"fetched", fetched}, {"dead_links", dead}, {"urls", seen.size()},
                 {"achieved_concurrency", std::round(achieved * 10) / 10},
                 {"server_peak", peak}, {"workers", workers}};
    co_return r;
}

// --- race: each task reads a shared counter, awaits a page, writes it back + 1.
// Between two co_awaits a coroutine runs alone; across one, anybody may run.
Task<DemoResult> race_demo(DemoContext& ctx) {
    int n = std::max(2, ctx.options.count);
    int counter = 0;
    Lock lock;
    auto add_one = [&](int i, bool locked) -> Task<std::string> {
        std::optional<Lock::Guard> held;
        if (locked) held.emplace(co_await lock.acquire()); // the lock spans the await
        int seen = counter;                      // read...
        co_await ctx.page(page_path(i));         // ...let the others run...
        counter = seen + 1;                      // ...write back what may be stale
        co_return "";
    };
    auto start = Clock::now();
    co_await all_at_once(n, [&](int i) { return add_one(i, false); });
    int unsafe = counter;
    double unsafe_s = seconds_since(start);
    counter = 0;
    start = Clock::now();
    co_await all_at_once(n, [&](int i) { return add_one(i, true); });
    int locked = counter;
    char what[200];
    std::snprintf(what, sizeof what,
                  "%d increments: counter %d without a lock (%d lost) in %.2f s; %d with a Lock "
                  "in %.2f s",
                  n, unsafe, n - unsafe, unsafe_s, locked, seconds_since(start));
    DemoResult r = outcome(unsafe < n && locked == n, what, (1 + n) * ctx.delay_ms / 1000.0);
    r.numbers = {{"increments", n}, {"lost_without_lock", n - unsafe}, {"lost_with_lock", n - locked}};
    co_return r;
}

// --- shield: a page of three delays, waited for with a timeout of one. The
// wait gives up at one delay; the shielded page does not, and arrives at three.
Task<DemoResult> shield_demo(DemoContext& ctx) {
    int d = ctx.delay_ms;
    auto start = Clock::now();
    Job<std::string> page = create_task(ctx.page(with_delay(0, 3 * d)), "shielded page");
    bool timed_out = false;
    try {
        co_await wait_for(shield(page), milliseconds(d));
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    double gave_up_s = seconds_since(start);
    co_await page; // the page, whole (a failed one would throw here)
    char what[160];
    std::snprintf(what, sizeof what, "the wait timed out at %.2f s; the page arrived at %.2f s",
                  gave_up_s, seconds_since(start));
    co_return outcome(timed_out, what, 3 * d / 1000.0);
}

// --- cancel-gather: gather_results keeps a dead page's error as an outcome
// (return_exceptions=True); then a gather cancelled after one delay cancels
// every page it gathers — the server sees their connections close.
Task<DemoResult> cancel_gather_demo(DemoContext& ctx) {
    int n = std::max(2, ctx.options.count), d = ctx.delay_ms;
    std::vector<Job<std::string>> pages;
    for (int i = 0; i < n; ++i) pages.push_back(create_task(ctx.page(i ? page_path(i) : "/site/999999")));
    auto outcomes = co_await gather_results(pages);
    int errors = 0;
    for (const auto& o : outcomes) errors += !o.ok();
    ctx.dead_links += errors;

    std::vector<Job<std::string>> slow;
    for (int i = 0; i < n; ++i) slow.push_back(create_task(ctx.page(with_delay(i, 10 * d))));
    Job<std::vector<Result<std::string>>> gathering = create_task(gather_results(slow), "gather");
    co_await sleep(milliseconds(d));
    gathering.cancel();
    co_await gathering.finished();
    int cancelled = 0;
    for (auto& job : slow) {
        co_await job.finished();
        cancelled += job.cancelled();
    }
    int open = (co_await ctx.stats())["waiting"].get<int>(); // the server's view, right after
    char what[200];
    std::snprintf(what, sizeof what,
                  "return_exceptions: %d ok, %d an error; cancelling the gather cancelled %d of "
                  "%d pages (server: %d still waiting)",
                  n - errors, errors, cancelled, n, open);
    co_return outcome(errors == 1 && cancelled == n && gathering.cancelled(), what,
                      2 * d / 1000.0);
}

// --- tasks: asyncio's current_task() and all_tasks(), with each job's name
// and state, and add_done_callback() noting the order they end in.
Task<DemoResult> tasks_demo(DemoContext& ctx) {
    int d = ctx.delay_ms;
    std::vector<Job<std::string>> jobs;
    std::string ended;
    for (int i = 3; i >= 1; --i) { // named after their delays: the shortest ends first
        jobs.push_back(create_task(ctx.page(with_delay(i, i * d)),
                                   std::to_string(i) + (i == 1 ? " delay" : " delays")));
        JobBase* job = &jobs.back().base(); // (the Job moves with the vector; its state does not)
        job->add_done_callback([&ended, job] { ended += " " + job->name(); });
    }
    co_await sleep(milliseconds(d / 2));
    std::string table;
    for (JobBase* job : all_tasks()) table += "\n  " + job->name() + ": " + job->state();
    if (ctx.out) std::fprintf(ctx.out, "tasks: all_tasks() at %d ms:%s\n", d / 2, table.c_str());
    for (auto& job : jobs) co_await job;
    co_return outcome(all_tasks().empty() && ended == " 1 delay 2 delays 3 delays",
                      "ended in order:" + ended, 3 * d / 1000.0);
}

} // namespace

const Demo demos[14] = {
    {"sequential", sequential},       {"gather", gather_demo},     {"as_completed", as_completed_demo},
    {"wait-first", wait_first},       {"wait-for", wait_for_demo}, {"shield", shield_demo},
    {"cancel-gather", cancel_gather_demo}, {"tasks", tasks_demo},  {"race", race_demo},
    {"lock", lock_demo},              {"semaphore", semaphore_demo}, {"event", event_demo},
    {"condition", condition_demo},    {"crawl", crawl_demo},
};

int max_pages(const std::string& only, int count) {
    int total = 0;
    for (const auto& d : demos) {
        std::string n = d.name;
        if (only.empty() || only == n)
            total += n == "event"                                       ? 20
                     : n == "crawl"                                     ? max_crawl_urls
                     : n == "race" || n == "cancel-gather"              ? 2 * std::max(2, count)
                     : n == "tasks"                                     ? 3
                     : n == "wait-for" || n == "condition" || n == "shield" ? 1
                                                                        : std::max(2, count);
    }
    return total;
}

} // namespace ladder::coro::toolkit_demos
