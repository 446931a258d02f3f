#include "demos.hpp"
#include "condition.hpp"
#include "error.hpp"
#include "event.hpp"
#include "http.hpp"
#include "07_coroutines/io.hpp"
#include "job.hpp"
#include "lock.hpp"
#include "page.hpp"
#include "queue.hpp"
#include "semaphore.hpp"
#include "sleep.hpp"
#include "wait.hpp"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <random>

namespace ladder::coro {

namespace {

using std::chrono::milliseconds;

// One GET: connect, send, read to the end, parse. The same steps as 07's fetch().
Task<std::string> http_get(const Endpoint& server, const std::string& path,
                           Clock::time_point deadline) {
    Socket sock = co_await async_connect(server, deadline);
    std::string request = build_request(server.text, path);
    co_await async_send_all(sock, request, deadline);
    std::string response = co_await async_read_all(sock, deadline);
    ResponseParser parsed;
    parsed.feed(response);
    parsed.finish();
    if (!parsed.done() || parsed.status() != 200)
        throw HttpError("bad answer for " + path + " (status " + std::to_string(parsed.status()) +
                        ")");
    co_return parsed.body();
}

std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++n;
        closedir(d);
    }
    return n;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string with_delay(int page, int delay_ms) {
    return page_path(page) + "?delay_ms=" + std::to_string(delay_ms);
}

std::vector<JobCore*> cores_of(std::vector<Job<std::string>>& jobs) {
    std::vector<JobCore*> cores;
    for (auto& j : jobs) cores.push_back(&j.core());
    return cores;
}

} // namespace

Task<std::string> DemoContext::page(std::string path) {
    int i = pages++;
    report.page_started(i);
    try {
        std::string body =
            co_await http_get(server, path, Clock::now() + milliseconds(options.timeout_ms));
        report.page_ok(i, 200, body.size());
        if (delay_ms < 0 && path.find('?') == std::string::npos) {
            auto j = nlohmann::json::parse(body, nullptr, false);
            if (j.is_object() && j.contains("delay_ms")) delay_ms = j["delay_ms"].get<int>();
        }
        co_return body;
    } catch (const CancelledError&) { // not a std::exception: on purpose (loop.hpp)
        ++cancelled;
        report.page_failed(i, "cancelled");
        throw;
    } catch (const std::exception& e) {
        report.page_failed(i, e.what());
        throw;
    }
}

Task<int> DemoContext::delay() {
    if (delay_ms < 0) co_await page("/");
    co_return delay_ms;
}

Task<nlohmann::json> DemoContext::stats(bool reset) {
    std::string body = co_await http_get(server, reset ? "/stats?reset=1" : "/stats",
                                         Clock::now() + milliseconds(options.timeout_ms));
    co_return nlohmann::json::parse(body);
}

namespace {

// --- sequential: co_await in a loop, no gather: one page after the other.
Task<DemoResult> sequential(DemoContext& ctx) {
    int n = ctx.options.count;
    for (int i = 0; i < n; ++i) co_await ctx.page(page_path(i)); // each waits for the last
    double d = co_await ctx.delay() / 1000.0;
    co_return DemoResult{"", 0, n * d, true, std::to_string(n) + " pages one after the other"};
}

// --- gather: every page at once.
Task<DemoResult> gather_demo(DemoContext& ctx) {
    int n = ctx.options.count;
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(ctx.page(page_path(i))));
    auto results = co_await gather(jobs, /*return_exceptions=*/false);
    double d = co_await ctx.delay() / 1000.0;
    co_return DemoResult{"", 0, d, true, std::to_string(results.size()) + " pages at once"};
}

// --- as_completed: pages with jittered delays come back fastest first.
Task<DemoResult> as_completed_demo(DemoContext& ctx) {
    int n = ctx.options.count, d = co_await ctx.delay();
    std::vector<int> delays;
    for (int i = 0; i < n; ++i) delays.push_back(d / 2 + i * d / n); // spaced d/n apart
    std::shuffle(delays.begin(), delays.end(), std::mt19937(std::random_device{}()));
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(ctx.page(with_delay(i, delays[i]))));
    AsCompleted next(cores_of(jobs));
    std::vector<int> order;
    std::string what = "completion order (ms):";
    while (next.left()) {
        std::size_t i = co_await next();
        co_await jobs[i];
        order.push_back(delays[i]);
        what += " " + std::to_string(delays[i]);
    }
    co_return DemoResult{"", 0, *std::max_element(delays.begin(), delays.end()) / 1000.0,
                         std::is_sorted(order.begin(), order.end()), what};
}

// --- wait-first: FIRST_COMPLETED; the slower ones are still pending, then cancelled.
Task<DemoResult> wait_first(DemoContext& ctx) {
    int n = std::max(2, ctx.options.count), d = co_await ctx.delay();
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(ctx.page(with_delay(i, i ? 3 * d : d))));
    WaitResult r = co_await wait(cores_of(jobs), Return::first_completed);
    for (std::size_t i : r.pending) jobs[i].cancel();
    int cancelled = 0;
    for (std::size_t i : r.pending) {
        co_await jobs[i].finished(); // cancelled: its socket is closed by now
        cancelled += jobs[i].cancelled();
    }
    bool ok = r.done == std::vector<std::size_t>{0} && cancelled == n - 1;
    co_return DemoResult{"", 0, d / 1000.0, ok,
                         "done " + std::to_string(r.done.size()) + ", pending " +
                             std::to_string(r.pending.size()) + " (then cancelled " +
                             std::to_string(cancelled) + ")"};
}

// --- wait-for: a page three times slower than the timeout.
Task<DemoResult> wait_for_demo(DemoContext& ctx) {
    int d = co_await ctx.delay();
    std::size_t fds_before = open_fds();
    bool timed_out = false;
    try {
        co_await wait_for(ctx.page(with_delay(0, 3 * d)), milliseconds(d));
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    std::size_t fds_after = open_fds(); // the page's socket was closed on cancellation
    co_return DemoResult{"", 0, d / 1000.0, timed_out && fds_after == fds_before,
                         std::string(timed_out ? "TimeoutError" : "no timeout?!") +
                             ", open fds before " + std::to_string(fds_before) + " after " +
                             std::to_string(fds_after)};
}

// --- lock: every fetch under one Lock: one at a time again.
Task<DemoResult> lock_demo(DemoContext& ctx) {
    int n = ctx.options.count, d = co_await ctx.delay();
    co_await ctx.stats(true);
    Lock lock;
    auto one = [&](int i) -> Task<std::string> {
        auto held = co_await lock.acquire(); // held across the fetch's awaits: the pitfall
        co_return co_await ctx.page(page_path(i));
    };
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(one(i)));
    co_await gather(jobs, false);
    int peak = (co_await ctx.stats(false))["peak_open_connections"].get<int>();
    co_return DemoResult{"", 0, n * d / 1000.0, peak == 1,
                         "server's peak open connections " + std::to_string(peak)};
}

// --- semaphore: at most two fetches at a time.
Task<DemoResult> semaphore_demo(DemoContext& ctx) {
    int n = ctx.options.count, d = co_await ctx.delay();
    co_await ctx.stats(true);
    Semaphore sem(2);
    auto one = [&](int i) -> Task<std::string> {
        auto permit = co_await sem.acquire();
        co_return co_await ctx.page(page_path(i));
    };
    std::vector<Job<std::string>> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(create_task(one(i)));
    co_await gather(jobs, false);
    int peak = (co_await ctx.stats(false))["peak_open_connections"].get<int>();
    co_return DemoResult{"", 0, (n + 1) / 2 * d / 1000.0, peak == std::min(n, 2),
                         "server's peak open connections " + std::to_string(peak)};
}

// --- event: waiters sleep until a /random value crosses 0.5.
Task<DemoResult> event_demo(DemoContext& ctx) {
    int d = co_await ctx.delay();
    Event crossed;
    int woken = 0;
    auto waiter = [&]() -> Task<void> {
        co_await crossed.wait();
        ++woken;
    };
    std::vector<Job<void>> waiters;
    for (int i = 0; i < 3; ++i) waiters.push_back(create_task(waiter()));
    int fetches = 0;
    double value = 0;
    std::string seen;
    while (fetches < 20 && value <= 0.5) {
        auto j = nlohmann::json::parse(co_await ctx.page("/random"));
        value = j["msg"].get<double>();
        ++fetches;
        seen += (seen.empty() ? "" : " ") + std::to_string(value).substr(0, 4);
    }
    if (value > 0.5) crossed.set();
    for (auto& w : waiters) {
        if (!crossed.is_set()) w.cancel();
        co_await w.finished();
    }
    co_return DemoResult{"", 0, fetches * d / 1000.0, value > 0.5 && woken == 3,
                         "/random gave " + seen + " -> set(), woke " + std::to_string(woken)};
}

// --- condition: notify(2) wakes exactly two of four waiters.
Task<DemoResult> condition_demo(DemoContext& ctx) {
    co_await ctx.delay();
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
    co_await sleep(milliseconds(10)); // give every waiter that was woken time to run
    int after_notify2 = woken;
    {
        auto held = co_await cond.acquire();
        cond.notify_all();
    }
    for (auto& w : waiters) co_await w;
    int d = co_await ctx.delay();
    co_return DemoResult{"", 0, d / 1000.0, after_notify2 == 2 && woken == 4,
                         "notify(2) woke " + std::to_string(after_notify2) +
                             ", notify_all() the other " + std::to_string(woken - after_notify2)};
}

// --- queue: the 500 Lines crawler: --workers consumers over a bounded Queue.
Task<DemoResult> queue_demo(DemoContext& ctx) {
    int n = ctx.options.count, workers = ctx.workers, d = co_await ctx.delay();
    co_await ctx.stats(true);
    Queue<int> todo(static_cast<std::size_t>(workers));
    auto worker = [&]() -> Task<void> {
        for (;;) { // forever: the crawl ends when join() returns and we are cancelled
            int i = co_await todo.get();
            try {
                co_await ctx.page(page_path(i));
            } catch (const std::exception&) { // a failed page is reported, not fatal
            }
            todo.task_done();
        }
    };
    std::vector<Job<void>> crew;
    for (int w = 0; w < workers; ++w) crew.push_back(create_task(worker()));
    for (int i = 0; i < n; ++i) co_await todo.put(i); // waits while the queue is full
    co_await todo.join();
    for (auto& w : crew) w.cancel();
    for (auto& w : crew) co_await w.finished();
    int peak = (co_await ctx.stats(false))["peak_open_connections"].get<int>();
    co_return DemoResult{"", 0, (n + workers - 1) / workers * d / 1000.0,
                         peak == std::min(n, workers),
                         std::to_string(n) + " pages, " + std::to_string(workers) +
                             " workers; server's peak open connections " + std::to_string(peak)};
}

struct Entry {
    const char* name;
    Task<DemoResult> (*run)(DemoContext&);
};
const Entry demos[] = {
    {"sequential", sequential},    {"gather", gather_demo},     {"as_completed", as_completed_demo},
    {"wait-first", wait_first},    {"wait-for", wait_for_demo}, {"lock", lock_demo},
    {"semaphore", semaphore_demo}, {"event", event_demo},       {"condition", condition_demo},
    {"queue", queue_demo},
};

} // namespace

const std::vector<std::string>& demo_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const Entry& e : demos) v.push_back(e.name);
        return v;
    }();
    return names;
}

int max_pages(const std::vector<std::string>& names, int count) {
    int total = 1; // a probe page, when a demo needs the delay before it fetched anything
    for (const std::string& n : names)
        total += n == "event" ? 20 : n == "wait-for" || n == "condition" ? 1 : std::max(2, count);
    return total;
}

Task<DemoResult> run_demo(const std::string& name, DemoContext& ctx) {
    for (const Entry& e : demos)
        if (name == e.name) {
            co_await ctx.delay(); // a probe page if no page told us yet: not in the timing
            auto start = Clock::now();
            DemoResult r;
            try {
                r = co_await e.run(ctx);
            } catch (const std::exception& ex) {
                r.ok = false;
                r.what = std::string("failed: ") + ex.what();
            }
            r.name = name;
            r.wall_s = seconds_since(start);
            // The two timing claims: one after the other really adds up; at
            // once really does not (a lower bound is a fact; the other is generous).
            int n = ctx.options.count;
            if (name == "sequential") r.ok = r.ok && r.wall_s >= 0.9 * r.predicted_s;
            if (name == "gather" && n >= 2) r.ok = r.ok && r.wall_s < (n - 0.5) * r.predicted_s;
            co_return r;
        }
    throw std::invalid_argument("no demo named " + name);
}

} // namespace ladder::coro
