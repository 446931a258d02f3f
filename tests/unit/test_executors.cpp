// Stage 09's executors (stages/09_executors/): the Doorbell, run_in_executor
// and wrap_future on a ThreadExecutor, run_in_executor on a ProcessExecutor,
// and the CPU job. Run it under TSan too:
//   meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
//
// Times: only facts as lower bounds (a 300 ms sleep_for takes >= 300 ms; two
// workers run six 40 ms naps in >= 120 ms) and generous upper bounds, all on
// the loop's own clock. Where "still running" must be true, the thread job
// waits at a gate the test opens, instead of hoping it is slow enough.
//
// fork() and threads: the process tests come first and make their
// ProcessExecutor before anything else, and every thread test joins its
// threads before it ends (a ThreadExecutor's destructor does), so each fork
// happens in a process with no thread of ours besides the main one.
#include "08_toolkit/cancellation.hpp"
#include "08_toolkit/job.hpp"
#include "08_toolkit/sleep.hpp"
#include "09_executors/cpu_job.hpp"
#include "09_executors/doorbell.hpp"
#include "09_executors/process_executor.hpp"
#include "09_executors/thread_executor.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace ladder::coro;
using ladder::Clock;
using ladder::cpu_job;
using ladder::CpuAnswer;
using ladder::frame_stats;
using ladder::from_message;
using ladder::sum_of_random_squares;
using ladder::sum_of_squares_plain;
using ladder::ThreadPool;
using ladder::to_message;
using namespace std::chrono_literals;

namespace {

// ----------------------------------------------------------- helpers ----

std::size_t entries_in(const char* dir) {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        (void)entry;
        ++n;
    }
    return n;
}
std::size_t open_fds() {
    return entries_in("/proc/self/fd"); // the iterator's own fd is counted every time alike
}
std::size_t threads_of_this_process() {
    return entries_in("/proc/self/task");
}

// No child process at all: none running, no zombie waiting to be reaped.
bool no_children() {
    errno = 0;
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// Let the loop run (1 ms sleeps) until pred() holds or `limit` passes.
template <class Pred>
Task<bool> eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
    auto deadline = Clock::now() + limit;
    while (!pred() && Clock::now() < deadline) co_await sleep(1ms);
    co_return pred();
}

// A heartbeat asks for 10 ms sleeps; how late it wakes is the loop's lag.
constexpr auto beat = 10ms;
struct Heartbeat {
    bool stop = false;
    std::vector<Clock::time_point> beats; // when each beat woke
    std::vector<double> lags_ms;          // how late
    std::size_t beats_between(Clock::time_point from, Clock::time_point to) const {
        return static_cast<std::size_t>(
            std::count_if(beats.begin(), beats.end(), [&](auto t) { return t > from && t < to; }));
    }
    double max_lag_ms() const {
        return lags_ms.empty() ? 0 : *std::max_element(lags_ms.begin(), lags_ms.end());
    }
};
Task<void> heartbeat(Heartbeat& h) {
    while (!h.stop) {
        auto asked = Clock::now();
        co_await sleep(beat);
        auto woke = Clock::now();
        h.beats.push_back(woke);
        h.lags_ms.push_back(ms(woke - asked - beat));
    }
}

struct TypedError : std::logic_error {
    using std::logic_error::logic_error;
};

// The jobs every test worker process knows (the table is copied by fork()).
ProcessExecutor::NamedFunctions test_functions() {
    return {
        {"echo", [](const std::string& a) { return a; }},
        {"pid", [](const std::string&) { return std::to_string(::getpid()); }},
        {"boom", [](const std::string&) -> std::string { throw std::runtime_error("boom"); }},
        {"kill9",
         [](const std::string&) -> std::string {
             ::raise(SIGKILL); // the worker dies mid-job, without a reply
             return "unreachable";
         }},
        {"exit3", [](const std::string&) -> std::string { ::_exit(3); }},
        // "ms tag": sleep ms, then answer "tag pid".
        {"nap",
         [](const std::string& a) {
             auto space = a.find(' ');
             std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(a.substr(0, space))));
             return a.substr(space + 1) + " " + std::to_string(::getpid());
         }},
    };
}

// Every test runs on a loop with 08's cancellation attached; what a test
// makes (executors) is destroyed before the loop is.
class Fixture : public ::testing::Test {
  protected:
    void SetUp() override { frames_before_ = frame_stats.live(); }
    void TearDown() override { EXPECT_EQ(frame_stats.live(), frames_before_) << "leaked frames"; }
    void go(Task<void> main) { loop.run_until_complete(std::move(main)); }
    std::size_t frames_before_ = 0;
    Loop loop;
    Cancellation cancellation{loop};
};
class ProcessExecutors : public Fixture {};
class ThreadExecutors : public Fixture {};
class Doorbells : public Fixture {};

} // namespace

// ================================================== ProcessExecutor ====
// First in the file: the forks happen before any test has started a thread.

TEST_F(ProcessExecutors, AnswersErrorsAndUnknownNames) {
    ProcessExecutor px(2, test_functions()); // fork first, before anything else
    EXPECT_EQ(px.size(), 2);
    EXPECT_EQ(px.alive(), 2);
    go([&]() -> Task<void> {
        Job<std::string> echo = run_in_executor(px, "echo", "hello\nworld");
        EXPECT_EQ(co_await echo, "hello\nworld"); // the argument may hold the separator
        Job<std::string> pid = run_in_executor(px, "pid", "");
        EXPECT_NE(co_await pid, std::to_string(::getpid())); // it ran in another process

        Job<std::string> boom = run_in_executor(px, "boom", "");
        try {
            co_await boom;
            ADD_FAILURE() << "a job that throws must fail";
        } catch (const ProcessJobError& e) {
            EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
        }
        EXPECT_EQ(px.alive(), 2); // an exception is an answer: the worker lives on

        Job<std::string> unknown = run_in_executor(px, "no-such-job", "x");
        try {
            co_await unknown;
            ADD_FAILURE() << "an unknown job name must fail";
        } catch (const ProcessJobError& e) {
            EXPECT_NE(std::string(e.what()).find("no-such-job"), std::string::npos) << e.what();
        }
        EXPECT_EQ(px.alive(), 2);
        Job<std::string> again = run_in_executor(px, "echo", "still here");
        EXPECT_EQ(co_await again, "still here");
    }());
    px.shutdown();
    EXPECT_EQ(px.alive(), 0);
    EXPECT_TRUE(no_children()) << "shutdown() must reap every worker";
}

TEST_F(ProcessExecutors, ADeadWorkerFailsItsJobAndTheOthersCarryOn) {
    ProcessExecutor px(2, test_functions());
    go([&]() -> Task<void> {
        Job<std::string> crash = run_in_executor(px, "kill9", "");
        try {
            co_await crash;
            ADD_FAILURE() << "a job whose worker dies must fail";
        } catch (const ProcessJobError& e) {
            std::string what = e.what();
            EXPECT_NE(what.find("kill9"), std::string::npos) << what;
            EXPECT_NE(what.find("signal 9"), std::string::npos) << what;
        }
        EXPECT_EQ(px.alive(), 1);
        for (int i = 0; i < 3; ++i) { // the survivor runs the later jobs
            Job<std::string> echo = run_in_executor(px, "echo", std::to_string(i));
            EXPECT_EQ(co_await echo, std::to_string(i));
        }

        Job<std::string> exits = run_in_executor(px, "exit3", "");
        try {
            co_await exits;
            ADD_FAILURE() << "a job whose worker exits must fail";
        } catch (const ProcessJobError& e) {
            EXPECT_NE(std::string(e.what()).find("status 3"), std::string::npos) << e.what();
        }
        EXPECT_EQ(px.alive(), 0);

        Job<std::string> orphan = run_in_executor(px, "echo", "anyone?");
        try {
            co_await orphan;
            ADD_FAILURE() << "with no worker left, a job must fail";
        } catch (const ProcessJobError& e) {
            EXPECT_NE(std::string(e.what()).find("no worker process left"), std::string::npos)
                << e.what();
        }
    }());
    EXPECT_TRUE(no_children()) << "a worker that died is reaped when its job fails";
}

TEST_F(ProcessExecutors, MoreJobsThanWorkersQueueAndAllFinish) {
    ProcessExecutor px(2, test_functions());
    std::set<std::string> pids;
    Clock::duration took{};
    go([&]() -> Task<void> {
        auto start = Clock::now();
        std::vector<Job<std::string>> jobs;
        for (int i = 0; i < 6; ++i)
            jobs.push_back(run_in_executor(px, "nap", "40 job" + std::to_string(i)));
        for (int i = 0; i < 6; ++i) {
            std::string answer = co_await jobs[static_cast<std::size_t>(i)];
            auto space = answer.find(' ');
            EXPECT_EQ(answer.substr(0, space), "job" + std::to_string(i)); // its own answer
            pids.insert(answer.substr(space + 1));
        }
        took = Clock::now() - start;
    }());
    EXPECT_LE(pids.size(), 2u); // only the two workers ran them
    EXPECT_EQ(pids.count(std::to_string(::getpid())), 0u);
    // Two workers, one job each at a time: three rounds of 40 ms at least.
    EXPECT_GE(took, 120ms);
    EXPECT_LT(took, 5s);
    px.shutdown();
    EXPECT_TRUE(no_children());
}

TEST_F(ProcessExecutors, CancellingOrDroppingAJobKillsItsWorker) {
    ProcessExecutor px(3, test_functions());
    go([&]() -> Task<void> {
        auto start = Clock::now();
        // Worker 0 (the first idle one) takes it and naps for 5 s.
        Job<std::string> slow = run_in_executor(px, "nap", "5000 stale");
        co_await sleep(20ms);
        EXPECT_FALSE(slow.done());
        slow.cancel();
        bool cancelled = false;
        try {
            co_await slow;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(px.alive(), 2) << "the cancelled job's worker must be killed";
        EXPECT_LT(Clock::now() - start, 4s); // not the 5 s nap

        { // A Job destroyed while its worker computes: the same.
            Job<std::string> dropped = run_in_executor(px, "nap", "5000 stale");
            co_await sleep(10ms);
        }
        EXPECT_EQ(px.alive(), 1);

        // The next job gets its own answer, not a reply meant for a dead job.
        Job<std::string> fresh = run_in_executor(px, "nap", "0 fresh");
        std::string answer = co_await fresh;
        EXPECT_EQ(answer.substr(0, answer.find(' ')), "fresh");
        EXPECT_LT(Clock::now() - start, 4s);
    }());
    EXPECT_EQ(px.alive(), 1);
    px.shutdown();
    EXPECT_TRUE(no_children());
}

TEST_F(ProcessExecutors, CancellingAQueuedJobKillsNoWorker) {
    ProcessExecutor px(1, test_functions());
    go([&]() -> Task<void> {
        Job<std::string> first = run_in_executor(px, "nap", "250 first");
        Job<std::string> queued = run_in_executor(px, "echo", "never");
        Job<std::string> third = run_in_executor(px, "echo", "third");
        co_await sleep(5ms);
        EXPECT_FALSE(queued.done()); // the only worker naps (250 ms): it waits for it
        queued.cancel();
        co_await queued.finished();
        EXPECT_TRUE(queued.cancelled());
        EXPECT_EQ(px.alive(), 1); // it never reached a worker: nobody to kill
        std::string answer = co_await first;
        EXPECT_EQ(answer.substr(0, answer.find(' ')), "first");
        EXPECT_EQ(co_await third, "third"); // the free worker passed on to the next in line
    }());
    px.shutdown();
    EXPECT_TRUE(no_children());
}

TEST_F(ProcessExecutors, DestroyingTheExecutorKillsBusyWorkers) {
    {
        ProcessExecutor px(2, test_functions());
        go([&]() -> Task<void> {
            Job<std::string> echo = run_in_executor(px, "echo", "x");
            EXPECT_EQ(co_await echo, "x");
        }());
        EXPECT_EQ(px.alive(), 2);
    } // no shutdown(): the destructor kills and reaps
    EXPECT_TRUE(no_children());
}

TEST_F(ProcessExecutors, NoFdOrChildLeftAfterShutdown) {
    const std::size_t before = open_fds();
    {
        ProcessExecutor px(2, test_functions());
        EXPECT_EQ(open_fds(), before + 2); // one socket per worker
        go([&]() -> Task<void> {
            for (int i = 0; i < 100; ++i) {
                Job<std::string> echo = run_in_executor(px, "echo", std::to_string(i));
                EXPECT_EQ(co_await echo, std::to_string(i));
            }
        }());
        EXPECT_EQ(open_fds(), before + 2);
        px.shutdown();
        EXPECT_EQ(open_fds(), before);
        EXPECT_TRUE(no_children());
    }
    EXPECT_EQ(open_fds(), before);
}

// =================================================== ThreadExecutor ====

TEST_F(ThreadExecutors, ResultsOfEveryKindAndVoid) {
    ThreadExecutor ex(loop, 2);
    EXPECT_EQ(ex.size(), 2);
    bool ran = false; // written on a pool thread; the doorbell's mutex orders it before our read
    go([&]() -> Task<void> {
        Job<int> number = run_in_executor(ex, [] { return 6 * 7; });
        Job<std::string> text = run_in_executor(ex, [] { return std::string(1000, 'x') + "!"; });
        Job<std::unique_ptr<int>> owned =
            run_in_executor(ex, [] { return std::make_unique<int>(9); }); // move-only result
        Job<int> from_owned = run_in_executor(
            ex, [p = std::make_unique<int>(5)] { return *p + 1; }); // move-only function
        Job<void> nothing = run_in_executor(ex, [&ran] { ran = true; });

        EXPECT_EQ(co_await number, 42);
        std::string t = co_await text;
        EXPECT_EQ(t.size(), 1001u);
        EXPECT_EQ(t.back(), '!');
        std::unique_ptr<int> p = co_await owned;
        EXPECT_TRUE(p);
        if (!p) co_return;
        EXPECT_EQ(*p, 9);
        EXPECT_EQ(co_await from_owned, 6);
        co_await nothing;
        EXPECT_TRUE(ran);
    }());
}

TEST_F(ThreadExecutors, AnExceptionComesBackAtTheCoAwait) {
    ThreadExecutor ex(loop, 2);
    std::string runtime_what, typed_what;
    int thrown_int = 0;
    go([&]() -> Task<void> {
        Job<int> bad =
            run_in_executor(ex, []() -> int { throw std::runtime_error("page 3 failed"); });
        Job<std::string> typed =
            run_in_executor(ex, []() -> std::string { throw TypedError("a typed one"); });
        Job<void> odd = run_in_executor(ex, [] { throw 17; });
        try {
            co_await bad;
        } catch (const std::runtime_error& e) {
            runtime_what = e.what();
        }
        try {
            co_await typed;
        } catch (const TypedError& e) { // the very type, not just std::exception
            typed_what = e.what();
        }
        try {
            co_await odd;
        } catch (int n) {
            thrown_int = n;
        }
        // The executor is still fine after its jobs threw.
        Job<int> good = run_in_executor(ex, [] { return 1; });
        EXPECT_EQ(co_await good, 1);
    }());
    EXPECT_EQ(runtime_what, "page 3 failed");
    EXPECT_EQ(typed_what, "a typed one");
    EXPECT_EQ(thrown_int, 17);
}

TEST_F(ThreadExecutors, FiveHundredJobsAllArriveAndTheDoorbellBatches) {
    constexpr int jobs = 500;
    ThreadExecutor ex(loop, 4);
    std::uint64_t rings = 0;
    go([&]() -> Task<void> {
        std::vector<Job<long>> running;
        for (int i = 0; i < jobs; ++i)
            running.push_back(run_in_executor(ex, [i] { return long{i} * i; }));
        EXPECT_EQ(ex.doorbell().rings(), 0u); // nothing arrives before we let the loop run
        for (int i = 0; i < jobs; ++i)
            EXPECT_EQ(co_await running[static_cast<std::size_t>(i)], long{i} * i);
        rings = ex.doorbell().rings();
    }());
    EXPECT_GE(rings, 1u);
    EXPECT_LE(rings, static_cast<std::uint64_t>(jobs)); // never more wake-ups than jobs
}

TEST_F(Doorbells, JobsPostedWhileTheLoopIsBusyCostOneRing) {
    // One thread runs the jobs in order, so once a plain task queued behind 50
    // jobs has run, all 50 have post()ed: the mailbox holds them all, and the
    // eventfd was written once (post rings only into an empty mailbox).
    ThreadExecutor ex(loop, 1);
    go([&]() -> Task<void> {
        Job<int> warm = run_in_executor(ex, [] { return 0; });
        co_await warm;
        const std::uint64_t rings_before = ex.doorbell().rings();
        std::vector<Job<int>> running;
        for (int i = 0; i < 50; ++i) running.push_back(run_in_executor(ex, [i] { return i; }));
        ex.pool().submit([] {}).get(); // the loop's thread blocks here on purpose
        for (int i = 0; i < 50; ++i) EXPECT_EQ(co_await running[static_cast<std::size_t>(i)], i);
        EXPECT_EQ(ex.doorbell().rings(), rings_before + 1) << "one wake-up delivered all 50";
    }());
}

TEST_F(ThreadExecutors, TheLoopKeepsTickingWhileAJobBlocks) {
    ThreadExecutor ex(loop, 1);
    Heartbeat h;
    Clock::time_point job_start, job_end;
    go([&]() -> Task<void> {
        Job<void> ticking = create_task(heartbeat(h));
        co_await sleep(3 * beat); // a few calm beats first
        job_start = Clock::now();
        Job<void> blocking = run_in_executor(ex, [] { std::this_thread::sleep_for(300ms); });
        co_await blocking;
        job_end = Clock::now();
        h.stop = true;
        co_await ticking;
    }());
    EXPECT_GE(job_end - job_start, 300ms); // a fact: sleep_for sleeps at least that long
    // ~30 beats fit in 300 ms; a third of them is plenty even on a loaded machine.
    EXPECT_GE(h.beats_between(job_start, job_end), 10u);
    EXPECT_LT(h.max_lag_ms(), 150.0) << "no beat waited for the job";
}

TEST_F(ThreadExecutors, TheSameCallInlineFreezesTheLoop) {
    Heartbeat h;
    Clock::time_point block_start, block_end;
    go([&]() -> Task<void> {
        Job<void> ticking = create_task(heartbeat(h));
        co_await sleep(3 * beat);
        block_start = Clock::now();
        std::this_thread::sleep_for(300ms); // on the loop's own thread
        block_end = Clock::now();
        h.stop = true;
        co_await ticking;
    }());
    // Facts: no beat can happen while the loop's thread sleeps, and the beat
    // parked when the block began (asked <= block_start) woke after it ended.
    EXPECT_EQ(h.beats_between(block_start, block_end), 0u);
    EXPECT_GE(h.max_lag_ms(), ms(300ms - beat));
}

TEST_F(ThreadExecutors, TheJobRunsOnAPoolThreadAndTheLoopThreadResumes) {
    ThreadExecutor ex(loop, 2);
    const auto test_thread = std::this_thread::get_id();
    std::thread::id job_thread, resumed_on;
    int worker = -2;
    go([&]() -> Task<void> {
        Job<std::thread::id> where = run_in_executor(ex, [&worker] {
            worker = ThreadPool::current_worker(); // 0..size-1 on a pool thread
            return std::this_thread::get_id();
        });
        job_thread = co_await where;
        resumed_on = std::this_thread::get_id();
    }());
    EXPECT_NE(job_thread, test_thread);
    EXPECT_EQ(resumed_on, test_thread);
    EXPECT_GE(worker, 0);
    EXPECT_LT(worker, 2);
}

TEST_F(ThreadExecutors, WrapFutureOfAPromiseAnotherThreadKeeps) {
    ThreadExecutor ex(loop, 2);
    std::promise<int> value;
    std::promise<std::string> failure;
    std::promise<void> done;
    std::thread keeper;
    std::string what;
    go([&]() -> Task<void> {
        Job<int> a = wrap_future(ex, value.get_future());
        Job<std::string> b = wrap_future(ex, failure.get_future());
        Job<void> c = wrap_future(ex, done.get_future());
        co_await sleep(10ms);
        EXPECT_FALSE(a.done()); // a fact: nobody has kept the promise yet
        EXPECT_FALSE(b.done());
        EXPECT_FALSE(c.done());
        keeper = std::thread([&] {
            std::this_thread::sleep_for(10ms);
            value.set_value(7);
            failure.set_exception(std::make_exception_ptr(std::runtime_error("far away")));
            done.set_value();
        });
        EXPECT_EQ(co_await a, 7);
        try {
            co_await b;
            ADD_FAILURE() << "set_exception must reach the co_await";
        } catch (const std::runtime_error& e) {
            what = e.what();
        }
        co_await c;
    }());
    keeper.join();
    EXPECT_EQ(what, "far away");
}

TEST_F(ThreadExecutors, WrapFutureOfThePoolsOwnSubmit) {
    ThreadExecutor ex(loop, 2);
    go([&]() -> Task<void> {
        Job<int> job = wrap_future(ex, ex.pool().submit([] { return 40 + 2; }));
        EXPECT_EQ(co_await job, 42);
    }());
}

TEST_F(ThreadExecutors, CancelStopsTheWaitingNotTheThread) {
    ThreadExecutor ex(loop, 2);
    std::atomic<bool> finished{false};
    std::promise<void> open;
    std::shared_future<void> gate = open.get_future().share();
    go([&]() -> Task<void> {
        Job<int> job = run_in_executor(ex, [&finished, gate] {
            gate.wait(); // until the test opens it: "still running" is a fact, not a guess
            finished = true;
            return 1;
        });
        co_await sleep(5ms);
        job.cancel();
        bool cancelled = false;
        try {
            co_await job;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(job.cancelled());
        EXPECT_FALSE(finished) << "the thread job cannot have ended: its gate is shut";
        const std::uint64_t rings = ex.doorbell().rings();

        open.set_value();
        // The late completion arrives and is dropped; nothing waits for it.
        EXPECT_TRUE(co_await eventually([&] { return ex.doorbell().rings() > rings; }));
        EXPECT_TRUE(finished);

        // Cancelling one job cancels nothing else: the executor works on.
        Job<int> next = run_in_executor(ex, [] { return 2; });
        EXPECT_EQ(co_await next, 2);
    }());
}

TEST_F(ThreadExecutors, DestroyedWhileACancelledOrDroppedJobStillRuns) {
    std::atomic<int> finished{0};
    std::promise<void> open;
    std::shared_future<void> gate = open.get_future().share();
    go([&]() -> Task<void> {
        auto ex = std::make_unique<ThreadExecutor>(loop, 2);
        auto gated = [&finished, gate] {
            gate.wait();
            ++finished;
            return std::string("late");
        };
        Job<std::string> cancelled = run_in_executor(*ex, gated);
        {
            Job<std::string> dropped = run_in_executor(*ex, gated); // destroyed unawaited
            co_await sleep(1ms);
        }
        cancelled.cancel();
        co_await cancelled.finished();
        EXPECT_TRUE(cancelled.cancelled());
        EXPECT_EQ(finished, 0); // a fact: the gate is shut
        // The gate opens only once the destructor is under way: the jobs still
        // run while it joins, and post() to the doorbell after that (which must
        // outlive the pool's threads).
        std::thread opener([&open] {
            std::this_thread::sleep_for(20ms);
            open.set_value();
        });
        ex.reset();
        EXPECT_EQ(finished, 2); // joined: both jobs ran to the end
        // Its answering coroutine left the loop, and with it its eventfd.
        EXPECT_EQ(Loop::current().waiting(), 0u);
        opener.join();
        co_await sleep(5ms); // the loop turns on without the executor's eventfd
    }());
}

TEST_F(ThreadExecutors, AnExecutorBelongsToTheLoopItIsMadeOn) {
    {
        Loop other; // now the current loop: `loop` is not
        EXPECT_THROW(ThreadExecutor(loop, 1), std::logic_error);
    }
    ThreadExecutor ex(loop, 1); // on the current loop: fine
    int got = 0;
    go([&]() -> Task<void> {
        Job<int> job = run_in_executor(ex, [] { return 10; });
        got = co_await job;
    }());
    EXPECT_EQ(got, 10);
}

TEST_F(ThreadExecutors, NoFdOrThreadLeftBehind) {
    std::thread([] {}).join(); // any thread a sanitizer starts at the first one exists by now
    const std::size_t threads_before = threads_of_this_process();
    go([&]() -> Task<void> {
        const std::size_t before = open_fds(); // the loop's epoll fd included
        {
            ThreadExecutor ex(loop, 4);
            EXPECT_EQ(open_fds(), before + 1); // the doorbell's eventfd
            EXPECT_EQ(threads_of_this_process(), threads_before + 4);
            std::vector<Job<int>> running;
            for (int i = 0; i < 1000; ++i)
                running.push_back(run_in_executor(ex, [i] { return i; }));
            long sum = 0;
            for (auto& job : running) sum += co_await job;
            EXPECT_EQ(sum, 999L * 1000 / 2);
            EXPECT_EQ(open_fds(), before + 1); // one eventfd for every job
        }
        EXPECT_EQ(open_fds(), before);
    }());
    EXPECT_EQ(threads_of_this_process(), threads_before) << "the destructor joins its threads";
}

// ========================================================== cpu_job ====

TEST(CpuJob, SumOfRandomSquaresIsDeterministicAndSeeded) {
    EXPECT_EQ(sum_of_random_squares(0, 7), 0u);
    EXPECT_EQ(sum_of_random_squares(100000, 1), sum_of_random_squares(100000, 1));
    EXPECT_NE(sum_of_random_squares(100000, 1), sum_of_random_squares(100000, 1000003));
    // Each step adds the square of a 32-bit number: the difference of two
    // successive sums is a perfect square, whatever the sequence is.
    for (std::uint64_t n = 0; n < 50; ++n) {
        std::uint64_t step = sum_of_random_squares(n + 1, 12345) - sum_of_random_squares(n, 12345);
        auto root = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(step)));
        while (root * root > step) --root;
        while ((root + 1) * (root + 1) <= step) ++root;
        EXPECT_EQ(root * root, step) << "n = " << n;
        EXPECT_LT(root, std::uint64_t{1} << 32);
    }
    // The seed's plain loop is the closed form n(n-1)(2n-1)/6, however it is compiled.
    EXPECT_EQ(sum_of_squares_plain(1000), 332833500u);
}

TEST(CpuJob, TimeGrowsWithN) {
    constexpr std::uint64_t n = 3'000'000; // ~5 ms optimised; a debug TSan build is slower
    CpuAnswer small = cpu_job(n, 99);
    CpuAnswer large = cpu_job(4 * n, 99);
    EXPECT_EQ(small.sum, sum_of_random_squares(n, 99));
    EXPECT_EQ(large.sum, sum_of_random_squares(4 * n, 99));
    EXPECT_GT(small.cpu_s, 0.0);
    // Four times the numbers, four times the work: more than twice the CPU time.
    EXPECT_GT(large.cpu_s, 2 * small.cpu_s) << small.cpu_s << " s vs " << large.cpu_s << " s";
}

TEST(CpuJob, MessagesRoundTripAndGarbageThrows) {
    CpuAnswer a{18446744073709551615u, 0.123456};
    CpuAnswer b = from_message(to_message(a));
    EXPECT_EQ(b.sum, a.sum);
    EXPECT_NEAR(b.cpu_s, a.cpu_s, 1e-6);
    EXPECT_THROW(from_message(""), std::runtime_error);
    EXPECT_THROW(from_message("garbage"), std::runtime_error);
    EXPECT_THROW(from_message("12"), std::runtime_error);
}

Task<void> cancel_after(std::chrono::milliseconds delay, Job<std::string>& job) {
    co_await sleep(delay);
    job.cancel();
}

// A job waiting for a free worker is woken when one frees up; if it is
// cancelled after that wake-up but before it runs, ProcessExecutor::run must
// take the cancel before hand_out() (JobBase::cancelling()) — otherwise its
// AbandonGuard kills the worker it just took, and with one worker every later
// job gets "no worker process left". (The window is hit when the worker
// replies within the 300 ms the loop's thread is kept busy; either way the
// test must pass.)
TEST_F(ProcessExecutors, CancellingAQueuedJobAsItsWorkerFreesUpKillsNoWorker) {
    ProcessExecutor px(1, test_functions());
    go([&]() -> Task<void> {
        Job<std::string> first = run_in_executor(px, "echo", "first");
        Job<std::string> queued = run_in_executor(px, "echo", "never");
        Job<void> canceller = create_task(cancel_after(1ms, queued));
        // Keep the loop's thread busy while the worker replies and the
        // canceller's timer passes: the next turn sees both at once. The
        // reply wakes `queued` (the worker is free), then the canceller
        // cancels it before it has run.
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(co_await first, "first");
        co_await canceller;
        co_await queued.finished();
        EXPECT_TRUE(queued.cancelled());
        EXPECT_EQ(px.alive(), 1) << "a job cancelled before it reached a worker killed one";
        Job<std::string> third = run_in_executor(px, "echo", "third");
        EXPECT_EQ(co_await third, "third");
    }());
    px.shutdown();
    EXPECT_TRUE(no_children());
}
