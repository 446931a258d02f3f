#include "demos.hpp"
#include "09_executors/cpu_job.hpp"
#include "frame_count.hpp"
#include "page.hpp"
#include "switch_cost.hpp"
#include "01_blocking/fetch.hpp"
#include "03_thread_pool/thread_cost.hpp"
#include "07_coroutines/crawl.hpp"
#include "08_toolkit/job.hpp"
#include "07_coroutines/watch/watch.hpp"
#include "08_toolkit/sleep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <exception>
#include <string>

namespace ladder::coro::executor_demos {

namespace {

using std::chrono::milliseconds;

// printf to the demo's output, unless it is silenced (--json --quiet).
[[gnu::format(printf, 2, 3)]] void say(const DemoContext& ctx, const char* format, ...) {
    if (!ctx.out) return;
    va_list args;
    va_start(args, format);
    std::vfprintf(ctx.out, format, args);
    va_end(args);
}

// ---------------------------------------------------------------- cpu ----
// Seed 000's exercise: the same CPU jobs four ways.

// Job i of a run: "20 numbers near n", each with its own seed.
std::uint64_t size_of(std::uint64_t size, int i) {
    return size + static_cast<std::uint64_t>(i);
}
std::uint64_t seed_of(int i) {
    return 1000003u * static_cast<std::uint64_t>(i + 1);
}

struct Mode {
    std::string name;
    double wall_s = 0, cpu_s = 0;
    std::vector<std::uint64_t> sums;
};

Mode sequential(int jobs, std::uint64_t size) {
    Mode m{"sequential", 0, 0, {}};
    auto start = Clock::now();
    for (int i = 0; i < jobs; ++i) {
        CpuAnswer a = cpu_job(size_of(size, i), seed_of(i));
        m.sums.push_back(a.sum);
        m.cpu_s += a.cpu_s;
    }
    m.wall_s = seconds_since(start);
    return m;
}

// CPU job i of a run, started where it is to run. Each returns at once with
// the job under way; the loop stays free until it awaits the Job.
Job<CpuAnswer> in_a_thread(ThreadExecutor& threads, std::uint64_t size, int i) {
    std::uint64_t n = size_of(size, i), seed = seed_of(i);
    return run_in_executor(threads, [n, seed] { return cpu_job(n, seed); });
}

Task<CpuAnswer> cpu_job_in_a_process(ProcessExecutor& processes, std::uint64_t size, int i) {
    // A process job is a name and text both ways (process_executor.hpp).
    co_return from_message(co_await processes.run("cpu", std::to_string(size_of(size, i)) + " " +
                                                             std::to_string(seed_of(i))));
}
Job<CpuAnswer> in_a_process(ProcessExecutor& processes, std::uint64_t size, int i) {
    return create_task(cpu_job_in_a_process(processes, size, i));
}

// An `async def` that does CPU work: it starts with the others, but once it
// runs it keeps the loop's only thread until it is done.
Task<CpuAnswer> cpu_job_on_the_loop(std::uint64_t size, int i) {
    co_await yield_now(); // all of them are "started" before any computes
    co_return cpu_job(size_of(size, i), seed_of(i));
}
Job<CpuAnswer> on_the_loop(std::uint64_t size, int i) {
    return create_task(cpu_job_on_the_loop(size, i));
}

// Start every job with start(i), then await them in turn: they all run
// meanwhile, so the awaiting takes as long as the slowest, not the sum.
template <class Start>
Task<Mode> all_started_at_once(std::string name, int jobs, Start start) {
    Mode m{std::move(name), 0, 0, {}};
    auto started = Clock::now();
    std::vector<Job<CpuAnswer>> running;
    for (int i = 0; i < jobs; ++i) running.push_back(start(i));
    for (auto& job : running) {
        CpuAnswer a = co_await job;
        m.sums.push_back(a.sum);
        m.cpu_s += a.cpu_s;
    }
    m.wall_s = seconds_since(started);
    co_return m;
}

// The four modes: the same answers, and the speed-ups they give.
Task<std::vector<Mode>> all_modes(DemoContext& ctx, int jobs, std::uint64_t size) {
    std::vector<Mode> modes;
    modes.push_back(sequential(jobs, size));
    modes.push_back(co_await all_started_at_once(
        "thread pool", jobs, [&](int i) { return in_a_thread(ctx.threads, size, i); }));
    modes.push_back(co_await all_started_at_once(
        "process pool", jobs, [&](int i) { return in_a_process(ctx.processes, size, i); }));
    modes.push_back(co_await all_started_at_once("inline on loop", jobs,
                                                 [&](int i) { return on_the_loop(size, i); }));
    co_return modes;
}

Task<DemoResult> cpu_demo(DemoContext& ctx) {
    DemoResult r;
    say(ctx, "cpu: %d jobs, each the sum of the squares of ~%.1e random numbers; %d cores\n",
        ctx.jobs, static_cast<double>(ctx.size), ctx.cores);
    say(ctx, "  %-16s %7s %7s %9s %10s\n", "mode", "wall s", "cpu s", "speed-up", "predicted");
    std::vector<Mode> modes = co_await all_modes(ctx, ctx.jobs, ctx.size);

    // What the idea predicts: a pool of w workers on c cores runs min(w, c)
    // jobs at a time (no GIL in C++: threads too); the loop runs one.
    auto predicted = [&](const Mode& m) {
        if (m.name == "thread pool") return std::min(ctx.threads.size(), ctx.cores);
        if (m.name == "process pool") return std::min(ctx.processes.size(), ctx.cores);
        return 1;
    };
    bool same_answers = true;
    nlohmann::json rows = nlohmann::json::array();
    for (const Mode& m : modes) {
        double speedup = modes[0].wall_s / m.wall_s;
        same_answers = same_answers && m.sums == modes[0].sums;
        say(ctx, "  %-16s %7.2f %7.2f %8.2fx %9dx\n", m.name.c_str(), m.wall_s, m.cpu_s, speedup,
            predicted(m));
        rows.push_back({{"mode", m.name},
                        {"wall_s", round3(m.wall_s)},
                        {"cpu_s", round3(m.cpu_s)},
                        {"speedup", std::round(speedup * 100) / 100},
                        {"predicted_speedup", predicted(m)}});
    }
    // The trap: the plain loop of the seed, timed once.
    auto plain_start = Clock::now();
    std::uint64_t plain = sum_of_squares_plain(ctx.size);
    double plain_s = seconds_since(plain_start);
    say(ctx,
        "  the seed's plain loop over 0..%.1e takes %.4f s: the optimiser's shortcut, not "
        "the CPU's work (notes/09)\n",
        static_cast<double>(ctx.size), plain_s);

    r.numbers = {{"cores", ctx.cores},
                 {"jobs", ctx.jobs},
                 {"size", ctx.size},
                 {"modes", rows},
                 {"same_answers", same_answers},
                 {"plain_loop_s", plain_s},
                 {"plain_loop_sum", std::to_string(plain)}};
    ctx.measured["cpu"] = r.numbers;
    r.ok = same_answers;
    char what[160];
    std::snprintf(what, sizeof what,
                  "threads %.2fx, processes %.2fx, inline %.2fx the sequential speed on %d cores%s",
                  modes[0].wall_s / modes[1].wall_s, modes[0].wall_s / modes[2].wall_s,
                  modes[0].wall_s / modes[3].wall_s, ctx.cores,
                  same_answers ? "" : "; the answers DIFFER");
    r.what = what;
    co_return r;
}

// ---------------------------------------------------------------- lag ----
// A heartbeat asks for 10 ms sleeps; how late it wakes is the loop's lag.

constexpr auto beat = milliseconds(10);

Task<void> heartbeat(const bool& stop, std::vector<double>& lags_ms) {
    while (!stop) {
        auto asked = Clock::now();
        co_await sleep(beat);
        // Late by however long the loop was busy with something else.
        lags_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - asked - beat).count());
    }
}

struct LagFigures {
    double max_ms = 0, p99_ms = 0;
    std::size_t beats = 0;
    long slow_steps = 0; // steps that held the loop over half a job (two beats at least)
};

LagFigures figures(std::vector<double> lags) {
    LagFigures f;
    f.beats = lags.size();
    if (lags.empty()) return f;
    std::sort(lags.begin(), lags.end());
    f.max_ms = lags.back();
    f.p99_ms =
        lags[static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(lags.size()))) - 1];
    return f;
}

// The CPU jobs run `inline` (by the loop's own thread) or in the thread pool,
// while the heartbeat ticks — and the loop is watched for steps that hold it
// longer than `slow_ms` (asyncio's slow_callback_duration): each one is
// named on stderr.
Task<LagFigures> lag_while(DemoContext& ctx, bool inline_jobs, int jobs, int slow_ms) {
    LoopWatchOptions slow;
    slow.slow_step_ms = slow_ms;
    LoopWatch watch("09_executors lag", slow);
    LoopWatchHooks hooks(Loop::current(), watch);
    bool stop = false;
    std::vector<double> lags;
    Job<void> ticking = create_task(heartbeat(stop, lags));
    co_await sleep(3 * beat); // a few calm beats first
    if (inline_jobs) {
        for (int i = 0; i < jobs; ++i) {
            // The heartbeat may run between two jobs, never during one. (A
            // sleep(0) goes through the timer queue, behind a beat that fell
            // due during the last job; a bare call_soon() would go ahead of it.)
            co_await sleep(milliseconds(0));
            cpu_job(size_of(ctx.size, i), seed_of(i));
        }
    } else {
        co_await all_started_at_once("thread pool", jobs,
                                     [&](int i) { return in_a_thread(ctx.threads, ctx.size, i); });
    }
    stop = true;
    co_await ticking;
    LagFigures f = figures(std::move(lags));
    f.slow_steps = watch.slow_steps();
    co_return f;
}

Task<DemoResult> lag_demo(DemoContext& ctx) {
    DemoResult r;
    const int jobs = 4;
    CpuAnswer one = cpu_job(ctx.size, 1); // how long one job keeps a thread busy
    say(ctx, "lag: a heartbeat sleeps 10 ms at a time while %d CPU jobs of %.0f ms run\n", jobs,
        one.cpu_s * 1000);
    // A step that held the loop for half a job ran one; two beats at least.
    int slow_ms = std::max(2 * static_cast<int>(beat.count()), static_cast<int>(one.cpu_s * 500));
    LagFigures inline_lag = co_await lag_while(ctx, true, jobs, slow_ms);
    LagFigures executor_lag = co_await lag_while(ctx, false, jobs, slow_ms);
    say(ctx, "  %-22s %9s %9s %7s %s\n", "jobs run", "max lag", "p99 lag", "beats", "predicted");
    say(ctx, "  %-22s %6.1f ms %6.1f ms %7zu ~%.0f ms (one job)\n", "inline, on the loop",
        inline_lag.max_ms, inline_lag.p99_ms, inline_lag.beats, one.cpu_s * 1000);
    say(ctx, "  %-22s %6.1f ms %6.1f ms %7zu ~0 ms\n", "run_in_executor", executor_lag.max_ms,
        executor_lag.p99_ms, executor_lag.beats);
    auto as_json = [](const LagFigures& f) {
        return nlohmann::json{{"max_ms", std::round(f.max_ms * 10) / 10},
                              {"p99_ms", std::round(f.p99_ms * 10) / 10},
                              {"beats", f.beats},
                              {"slow_steps", f.slow_steps}};
    };
    r.numbers = {{"job_ms", std::round(one.cpu_s * 10000) / 10},
                 {"inline", as_json(inline_lag)},
                 {"executor", as_json(executor_lag)}};
    ctx.measured["lag"] = r.numbers;
    // Inline, every job holds the loop for a step of its own; in the executor
    // no job does. (Not the lags: how soon the kernel gives the loop's thread
    // a core back depends on whatever else the machine is running.)
    r.ok = inline_lag.slow_steps >= jobs && executor_lag.slow_steps < inline_lag.slow_steps;
    char what[200];
    std::snprintf(what, sizeof what,
                  "max loop lag %.1f ms inline (%ld slow steps), %.1f ms with run_in_executor "
                  "(%ld)",
                  inline_lag.max_ms, inline_lag.slow_steps, executor_lag.max_ms,
                  executor_lag.slow_steps);
    r.what = what;
    co_return r;
}

// -------------------------------------------------------------- mixed ----
// Seed 004's test9: blocking calls in threads, CPU jobs in processes and
// pages on the loop, all at once.

constexpr int blocking_calls = 3, process_jobs = 3;

// One part of the run: when did its last job end (seconds after `start`)?
// A page that fails is a failed page in the report, which mixed_demo() reads.
Task<double> blocking_part(DemoContext& ctx, Clock::time_point start) {
    std::vector<int> pages;
    std::vector<Job<ladder::Page>> running;
    for (int i = 0; i < blocking_calls; ++i) {
        int page = ctx.pages++;
        pages.push_back(page);
        ctx.report.page_started(page);
        // 01's fetch_page: a blocking library call, held up by the server.
        std::string path = page_path(page) + "?delay_ms=" + std::to_string(ctx.blocking_ms);
        Endpoint server = *ctx.server;
        milliseconds timeout(ctx.options.timeout_ms);
        running.push_back(run_in_executor(
            ctx.threads, [server, path, timeout] { return fetch_page(server, path, timeout); }));
    }
    for (std::size_t i = 0; i < running.size(); ++i) {
        try {
            ladder::Page p = co_await running[i];
            ctx.report.page_ok(pages[i], p.status, p.bytes);
        } catch (const std::exception& e) {
            ctx.report.page_failed(pages[i], e.what());
        }
    }
    co_return seconds_since(start);
}

Task<double> process_part(DemoContext& ctx, Clock::time_point start, bool& failed) {
    std::vector<Job<CpuAnswer>> running;
    for (int i = 0; i < process_jobs; ++i)
        running.push_back(in_a_process(ctx.processes, ctx.size, i));
    for (auto& job : running) {
        try {
            co_await job;
        } catch (const std::exception& e) {
            say(ctx, "  a process job failed: %s\n", e.what());
            failed = true;
        }
    }
    co_return seconds_since(start);
}

// 07's crawl_page() for each page: every page at once, on the loop's thread.
Task<double> page_part(DemoContext& ctx, Clock::time_point start) {
    std::vector<Job<void>> running;
    for (int i = 0; i < ctx.options.count; ++i)
        running.push_back(create_task(crawl_page(*ctx.server, ctx.pages++,
                                                 milliseconds(ctx.options.timeout_ms), ctx.report)));
    for (auto& job : running) co_await job;
    co_return seconds_since(start);
}

Task<DemoResult> mixed_demo(DemoContext& ctx) {
    DemoResult r;
    say(ctx,
        "mixed: %d blocking %d ms fetches in threads + %d CPU jobs in processes + %d pages "
        "on the loop, all at once\n",
        blocking_calls, ctx.blocking_ms, process_jobs, ctx.options.count);
    bool process_failed = false;
    auto start = Clock::now();
    Job<double> threads = create_task(blocking_part(ctx, start));
    Job<double> processes = create_task(process_part(ctx, start, process_failed));
    Job<double> pages = create_task(page_part(ctx, start));
    double threads_s = co_await threads, processes_s = co_await processes, pages_s = co_await pages;
    // Only this demo fetches pages: any failed page in the report is one of its.
    bool failed = process_failed || ctx.report.failed() > 0;
    double total_s = seconds_since(start);
    double slowest = std::max({threads_s, processes_s, pages_s});
    double sum = threads_s + processes_s + pages_s;
    say(ctx, "  %-30s %6.2f s\n  %-30s %6.2f s\n  %-30s %6.2f s\n", "blocking calls (thread pool)",
        threads_s, "CPU jobs (process pool)", processes_s, "pages (event loop)", pages_s);
    say(ctx, "  %-30s %6.2f s  = the slowest part (%.2f s), not their sum (%.2f s)\n", "total",
        total_s, slowest, sum);
    r.numbers = {{"threads_s", round3(threads_s)}, {"processes_s", round3(processes_s)},
                 {"pages_s", round3(pages_s)},     {"total_s", round3(total_s)},
                 {"slowest_s", round3(slowest)},   {"sum_s", round3(sum)}};
    ctx.measured["mixed"] = r.numbers;
    r.ok = !failed && total_s < sum; // the parts overlapped
    char what[160];
    std::snprintf(what, sizeof what, "total %.2f s: the slowest part %.2f s, not the sum %.2f s%s",
                  total_s, slowest, sum, failed ? "; some job FAILED" : "");
    r.what = what;
    co_return r;
}

// ------------------------------------------------------------- choose ----
// The rule of thumb of seed 000, with this machine's numbers beside it.

// A coroutine parked on a timer: how many bytes is its frame?
Task<void> parked_coroutine() {
    co_await sleep(milliseconds(1));
}

Task<double> thread_round_trip_us(ThreadExecutor& threads, int n) {
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        Job<int> job = run_in_executor(threads, [i] { return i; });
        co_await job;
    }
    co_return seconds_since(start) * 1e6 / n;
}

Task<double> process_round_trip_us(ProcessExecutor& processes, int n) {
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        Job<std::string> job = run_in_executor(processes, "echo", "x");
        co_await job;
    }
    co_return seconds_since(start) * 1e6 / n;
}

Task<DemoResult> choose_demo(DemoContext& ctx) {
    DemoResult r;
    r.ok = true;

    // What a waiting coroutine costs: a one-line sleep, and a page of 07's crawl
    // waiting for its answer (crawl_page's and fetch's frames: the send's is gone).
    // Tasks are lazy: making them allocates the frames, nothing runs.
    std::size_t before = frame_stats.bytes;
    Task<void> sleeping = parked_coroutine();
    std::size_t frame_bytes = frame_stats.bytes - before;
    Endpoint nowhere;
    Task<void> page = crawl_page(nowhere, 0, milliseconds(1), ctx.report);
    Task<Page> fetching = fetch(nowhere, "/", Clock::now());
    std::size_t page_bytes = frame_stats.bytes - before - frame_bytes;
    long stack_kb = default_thread_stack_kb();
    SwitchCosts handover = measure_switch_costs(); // seed 001: one switch, three ways
    double thread_us = co_await thread_round_trip_us(ctx.threads, 1000);
    double process_us = co_await process_round_trip_us(ctx.processes, 200);

    // CPU speed-ups: the cpu demo's if it ran, else a small run of our own.
    double threads_x = 0, processes_x = 0;
    if (ctx.measured.contains("cpu")) {
        const auto& modes = ctx.measured["cpu"]["modes"];
        threads_x = modes[1]["speedup"].get<double>();
        processes_x = modes[2]["speedup"].get<double>();
    } else {
        std::vector<Mode> modes = co_await all_modes(ctx, 2 * ctx.cores, ctx.size / 4);
        threads_x = modes[0].wall_s / modes[1].wall_s;
        processes_x = modes[0].wall_s / modes[2].wall_s;
    }
    char pages_line[96] = "";
    if (ctx.measured.contains("mixed"))
        std::snprintf(pages_line, sizeof pages_line, "; %d pages took %.2f s on the loop's thread",
                      ctx.options.count, ctx.measured["mixed"]["pages_s"].get<double>());

    char row[3][280];
    std::snprintf(row[0], sizeof row[0],
                  "a sleeping coroutine: %zu bytes, a waiting page: %zu bytes of frames; a "
                  "thread's stack: %ld KiB reserved%s",
                  frame_bytes, page_bytes, stack_kb, pages_line);
    std::snprintf(row[1], sizeof row[1],
                  "handing a call to a pool thread and back: %.0f us; the loop stays free",
                  thread_us);
    std::snprintf(row[2], sizeof row[2],
                  "%d cores: threads %.2fx, processes %.2fx; a process round trip: %.0f us",
                  ctx.cores, threads_x, processes_x, process_us);
    struct Rule {
        const char* work;
        const char* use;
    };
    const Rule rules[3] = {
        {"slow I/O (waiting)", "coroutines on the event loop"},
        {"quick or blocking I/O", "run_in_executor(thread pool)"},
        {"CPU-bound", "threads in C++; processes in Python (GIL)"},
    };
    say(ctx, "choose: seed 000's rule of thumb, measured on this machine\n");
    nlohmann::json rows = nlohmann::json::array();
    for (int i = 0; i < 3; ++i) {
        say(ctx, "  %-22s %-42s %s\n", rules[i].work, rules[i].use, row[i]);
        rows.push_back({{"work", rules[i].work}, {"use", rules[i].use}, {"measured", row[i]}});
    }
    say(ctx,
        "  handing control to a piece of work and back: a kernel thread %.0f ns, a coroutine "
        "%.1f ns, a callback %.1f ns (one thread round trip = ~%.0f coroutine ones)\n",
        handover.thread_ns, handover.coroutine_ns, handover.callback_ns,
        handover.thread_ns / handover.coroutine_ns);
    r.numbers = {{"rows", rows},
                 {"frame_bytes", frame_bytes},
                 {"page_frame_bytes", page_bytes},
                 {"thread_stack_kb", stack_kb},
                 {"thread_round_trip_us", std::round(thread_us)},
                 {"switch_ns",
                  {{"thread", std::round(handover.thread_ns)},
                   {"coroutine", std::round(handover.coroutine_ns * 10) / 10},
                   {"callback", std::round(handover.callback_ns * 10) / 10}}},
                 {"process_round_trip_us", std::round(process_us)},
                 {"threads_speedup", std::round(threads_x * 100) / 100},
                 {"processes_speedup", std::round(processes_x * 100) / 100}};
    r.what = "thread hand-off " + std::to_string(static_cast<int>(std::round(thread_us))) +
             " us, process round trip " + std::to_string(static_cast<int>(std::round(process_us))) +
             " us";
    co_return r;
}

} // namespace

const Demo demos[4] = {
    {"cpu", cpu_demo}, {"lag", lag_demo}, {"mixed", mixed_demo}, {"choose", choose_demo}};

int pages_of(const std::string& only, int count) {
    return only.empty() || only == "mixed" ? blocking_calls + count : 0;
}

ProcessExecutor::NamedFunctions worker_functions() {
    return {
        {"cpu",
         [](const std::string& argument) {
             unsigned long long n = 0, seed = 0;
             if (std::sscanf(argument.c_str(), "%llu %llu", &n, &seed) != 2)
                 throw std::invalid_argument("cpu wants 'n seed', got '" + argument + "'");
             return to_message(cpu_job(n, seed));
         }},
        {"echo", [](const std::string& argument) { return argument; }},
    };
}

} // namespace ladder::coro::executor_demos
