// Stage 08's tools (stages/08_toolkit/): timers, cancellation, wait/wait_for/
// as_completed/gather, Lock, Event, Condition, Semaphore, Queue. Orders are
// decided by the loop (deadlines, FIFO lists), not by wall-clock luck; the
// only time bounds are "cancelled long before the 10 s it would have slept".
#include "08_toolkit/cancellation.hpp"
#include "08_toolkit/condition.hpp"
#include "08_toolkit/event.hpp"
#include "08_toolkit/job.hpp"
#include "08_toolkit/lock.hpp"
#include "08_toolkit/queue.hpp"
#include "08_toolkit/semaphore.hpp"
#include "08_toolkit/sleep.hpp"
#include "08_toolkit/wait.hpp"

#include "07_coroutines/gather.hpp"
#include "07_coroutines/io.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>

#include <chrono>
#include <string>
#include <vector>

using namespace ladder;
using namespace ladder::coro;
using namespace std::chrono_literals;

namespace {

Task<void> sleeper(std::chrono::milliseconds ms, std::vector<int>& log, int id) {
    co_await sleep(ms);
    log.push_back(id);
}

Task<int> value_after(std::chrono::milliseconds ms, int v) {
    co_await sleep(ms);
    co_return v;
}

Task<int> fail_after(std::chrono::milliseconds ms) {
    co_await sleep(ms);
    throw std::runtime_error("boom");
}

// Sleeps "forever"; notes whether its clean-up (a catch and a destructor) ran.
struct Flag {
    bool& set;
    ~Flag() { set = true; }
};
Task<int> long_sleeper(bool& caught, bool& destroyed) {
    Flag f{destroyed};
    try {
        co_await sleep(10s);
    } catch (const CancelledError&) {
        caught = true;
        throw;
    }
    co_return 1;
}

// asyncio.run() for this stage: a fresh loop with 08's cancellation attached.
template <class T>
T run08(Task<T> main) {
    Loop loop;
    Cancellation cancellation(loop);
    return loop.run_until_complete(std::move(main));
}

class Toolkit : public ::testing::Test {
  protected:
    void SetUp() override { frames_before_ = frame_stats.live(); }
    void TearDown() override { EXPECT_EQ(frame_stats.live(), frames_before_) << "leaked frames"; }
    std::size_t frames_before_ = 0;
};

} // namespace

TEST_F(Toolkit, SleepersWakeInDeadlineOrder) {
    std::vector<int> log;
    run08([&]() -> Task<void> {
        std::vector<Job<void>> jobs;
        jobs.push_back(create_task(sleeper(30ms, log, 3)));
        jobs.push_back(create_task(sleeper(10ms, log, 1)));
        jobs.push_back(create_task(sleeper(20ms, log, 2)));
        for (auto& j : jobs) co_await j;
    }());
    EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

TEST_F(Toolkit, CancelThrowsAtTheCoAwaitAndCleansUp) {
    bool caught = false, destroyed = false, saw_cancel = false;
    auto start = Clock::now();
    run08([&]() -> Task<void> {
        Job<int> job = create_task(long_sleeper(caught, destroyed));
        co_await sleep(5ms);
        EXPECT_FALSE(job.done());
        job.cancel();
        try {
            co_await job;
        } catch (const CancelledError&) {
            saw_cancel = true;
        }
        EXPECT_TRUE(job.cancelled());
    }());
    EXPECT_TRUE(caught);
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(saw_cancel);
    EXPECT_LT(Clock::now() - start, 5s); // not the 10 s it would have slept
}

TEST_F(Toolkit, CancelledErrorIsNotAStdException) {
    bool swallowed = false;
    run08([&]() -> Task<void> {
        auto sleeper = [&]() -> Task<void> { // named: its coroutine refers to it
            try {
                co_await sleep(10s);
            } catch (const std::exception&) {
                swallowed = true; // must not happen: cancellation goes through
            }
        };
        Job<void> job = create_task(sleeper());
        co_await yield_now();
        job.cancel();
        co_await job.finished();
        EXPECT_TRUE(job.cancelled());
    }());
    EXPECT_FALSE(swallowed);
}

TEST_F(Toolkit, CancelBeforeItParksTakesEffectAtItsNextCoAwait) {
    bool caught = false, destroyed = false;
    run08([&]() -> Task<void> {
        Job<int> job = create_task(long_sleeper(caught, destroyed));
        job.cancel(); // parked already: woken at once
        co_await job.finished();
        EXPECT_TRUE(job.cancelled());
    }());
    EXPECT_TRUE(caught);
}

TEST_F(Toolkit, WaitForTimesOutAndCancelsTheTask) {
    bool caught = false, destroyed = false, timed_out = false;
    auto start = Clock::now();
    run08([&]() -> Task<void> {
        try {
            co_await wait_for(long_sleeper(caught, destroyed), 20ms);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        // In time: the result.
        EXPECT_EQ(co_await wait_for(value_after(1ms, 7), 5s), 7);
    }());
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(caught);    // the inner task saw CancelledError...
    EXPECT_TRUE(destroyed); // ...and was cleaned up before wait_for returned
    EXPECT_GE(Clock::now() - start, 20ms);
    EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(Toolkit, WaitFirstCompletedLeavesTheRestPending) {
    run08([&]() -> Task<void> {
        std::vector<Job<int>> jobs;
        jobs.push_back(create_task(value_after(50ms, 0)));
        jobs.push_back(create_task(value_after(1ms, 1)));
        jobs.push_back(create_task(value_after(60ms, 2)));
        std::vector<JobBase*> cores;
        for (auto& j : jobs) cores.push_back(&j.base());
        WaitResult r = co_await wait(cores, Return::first_completed);
        EXPECT_EQ(r.done, (std::vector<std::size_t>{1}));
        EXPECT_EQ(r.pending, (std::vector<std::size_t>{0, 2}));
        r = co_await wait(cores, Return::all_completed);
        EXPECT_EQ(r.done.size(), 3u);
        EXPECT_TRUE(r.pending.empty());
        // With a timeout that passes first: no error, just pending ones.
        Job<int> slow = create_task(value_after(10s, 9));
        std::vector<JobBase*> just_slow{&slow.base()};
        r = co_await wait(just_slow, Return::all_completed, 5ms);
        EXPECT_EQ(r.pending.size(), 1u);
        slow.cancel();
        co_await slow.finished();
    }());
}

TEST_F(Toolkit, AsCompletedGivesCompletionOrder) {
    std::vector<int> order;
    run08([&]() -> Task<void> {
        std::vector<Job<int>> jobs;
        for (int ms : {40, 10, 30, 20}) jobs.push_back(create_task(value_after(ms * 1ms, ms)));
        std::vector<JobBase*> cores;
        for (auto& j : jobs) cores.push_back(&j.base());
        AsCompleted next(cores);
        while (next.left()) order.push_back(co_await jobs[co_await next()]);
    }());
    EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 40}));
}

TEST_F(Toolkit, GatherResultsKeepsEveryOutcomeInOrder) {
    run08([&]() -> Task<void> {
        std::vector<Job<int>> jobs;
        jobs.push_back(create_task(value_after(5ms, 1)));
        jobs.push_back(create_task(fail_after(1ms)));
        jobs.push_back(create_task(value_after(3ms, 3)));
        auto results = co_await gather_results(jobs); // return_exceptions=True
        EXPECT_EQ(results.size(), 3u);
        EXPECT_EQ(*results[0].value, 1);
        EXPECT_FALSE(results[1].ok());
        EXPECT_EQ(*results[2].value, 3);
    }());
}

namespace {
Task<void> gather_then_note(std::vector<Job<int>>& jobs, bool& finished) {
    co_await gather_results(jobs);
    finished = true;
}
} // namespace

TEST_F(Toolkit, CancellingAGatherCancelsTheJobsItGathersAndIsNotTakenForAnOutcome) {
    run08([&]() -> Task<void> {
        std::vector<Job<int>> jobs;
        jobs.push_back(create_task(value_after(10s, 1)));
        jobs.push_back(create_task(value_after(1ms, 2)));
        bool finished = false;
        Job<void> gathering = create_task(gather_then_note(jobs, finished));
        co_await sleep(5ms); // the second job is done; the first sleeps on
        gathering.cancel();  // its own CancelledError is not taken for a job's outcome...
        co_await gathering.finished();
        EXPECT_TRUE(gathering.cancelled());
        EXPECT_FALSE(finished);
        co_await jobs[0].finished(); // ...and the job still running was cancelled with it
        EXPECT_TRUE(jobs[0].cancelled());
        EXPECT_FALSE(jobs[1].cancelled());
        EXPECT_EQ(co_await jobs[1], 2);
    }());
}

TEST_F(Toolkit, JobsHaveNamesStatesAndAreListedUntilTheyEnd) {
    run08([&]() -> Task<void> {
        EXPECT_EQ(current_task(), nullptr); // the main coroutine is not a job
        Job<int> named = create_task(value_after(10s, 1), "slow page");
        Job<int> plain = create_task(value_after(1ms, 2));
        EXPECT_EQ(named.base().name(), "slow page");
        EXPECT_EQ(plain.base().name().rfind("Job-", 0), 0u) << plain.base().name();
        std::string state = named.base().state(); // "waiting at value_after:<line> (a timer)"
        EXPECT_EQ(state.rfind("waiting at value_after:", 0), 0u) << state;
        EXPECT_TRUE(state.ends_with(" (a timer)")) << state;
        std::vector<std::string> seen_from_inside;
        auto who_am_i = [&]() -> Task<void> {
            seen_from_inside.push_back(current_task()->name());
            seen_from_inside.push_back(current_task()->state());
            co_return;
        };
        Job<void> inside = create_task(who_am_i(), "asking");
        EXPECT_EQ(seen_from_inside, (std::vector<std::string>{"asking", "running"}));
        EXPECT_EQ(all_tasks().size(), 2u); // the two sleepers: "asking" ended at once
        co_await plain;
        EXPECT_EQ(plain.base().state(), "done");
        EXPECT_EQ(all_tasks().size(), 1u);
        named.cancel();
        co_await named.finished();
        EXPECT_EQ(named.base().state(), "cancelled");
        EXPECT_TRUE(all_tasks().empty());
        Job<int> failing = create_task(fail_after(1ms));
        co_await failing.finished();
        EXPECT_EQ(failing.base().state(), "failed: boom");
    }());
}

TEST_F(Toolkit, ShieldLetsTheWaitTimeOutButNotTheJob) {
    run08([&]() -> Task<void> {
        Job<int> page = create_task(value_after(30ms, 7));
        bool timed_out = false;
        try {
            co_await wait_for(shield(page), 5ms);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(page.done()); // the wait was cancelled; the job was not
        EXPECT_EQ(co_await page, 7);
    }());
}

TEST_F(Toolkit, DoneCallbacksRunInOrderWhenTheJobEndsOrAtOnceIfItHas) {
    std::vector<int> calls;
    run08([&]() -> Task<void> {
        Job<int> job = create_task(value_after(1ms, 1));
        job.base().add_done_callback([&] { calls.push_back(1); });
        job.base().add_done_callback([&] { calls.push_back(2); });
        EXPECT_TRUE(calls.empty());
        co_await job.finished();
        EXPECT_EQ(calls, (std::vector<int>{1, 2}));
        job.base().add_done_callback([&] { calls.push_back(3); }); // done already: now
        EXPECT_EQ(calls, (std::vector<int>{1, 2, 3}));
    }());
}

TEST_F(Toolkit, LockIsExclusiveAndFifo) {
    std::vector<int> order;
    int inside = 0, peak = 0;
    run08([&]() -> Task<void> {
        Lock lock;
        auto worker = [&](int id) -> Task<void> {
            auto held = co_await lock.acquire();
            order.push_back(id);
            peak = std::max(peak, ++inside);
            co_await sleep(2ms); // holding the lock across an await: the others wait
            --inside;
        };
        std::vector<Job<void>> jobs;
        for (int i = 0; i < 5; ++i) jobs.push_back(create_task(worker(i)));
        for (auto& j : jobs) co_await j;
        EXPECT_FALSE(lock.locked());
    }());
    EXPECT_EQ(peak, 1);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(Toolkit, ACancelledLockWaiterDoesNotSwallowTheWakeup) {
    std::vector<int> got;
    run08([&]() -> Task<void> {
        Lock lock;
        auto holder = co_await lock.acquire();
        auto waiter = [&](int id) -> Task<void> {
            auto held = co_await lock.acquire();
            got.push_back(id);
        };
        Job<void> a = create_task(waiter(1));
        Job<void> b = create_task(waiter(2));
        EXPECT_EQ(lock.waiting(), 2u);
        a.cancel();
        co_await a.finished();
        EXPECT_TRUE(a.cancelled());
        EXPECT_EQ(lock.waiting(), 1u);
        holder.release();
        co_await b;
        EXPECT_FALSE(lock.locked());
    }());
    EXPECT_EQ(got, (std::vector<int>{2}));
}

TEST_F(Toolkit, EventWakesEveryWaiterAndCancelLeavesIt) {
    int woken = 0;
    run08([&]() -> Task<void> {
        Event event;
        auto waiter = [&]() -> Task<void> {
            co_await event.wait();
            ++woken;
        };
        std::vector<Job<void>> jobs;
        for (int i = 0; i < 4; ++i) jobs.push_back(create_task(waiter()));
        EXPECT_EQ(event.waiting(), 4u);
        jobs[0].cancel();
        co_await jobs[0].finished();
        EXPECT_EQ(event.waiting(), 3u);
        event.set();
        for (std::size_t i = 1; i < jobs.size(); ++i) co_await jobs[i];
        co_await event.wait(); // set: returns at once
    }());
    EXPECT_EQ(woken, 3);
}

TEST_F(Toolkit, ConditionNotifyNWakesExactlyN) {
    int woken = 0;
    run08([&]() -> Task<void> {
        Condition cond;
        auto waiter = [&]() -> Task<void> {
            auto held = co_await cond.acquire();
            co_await cond.wait();
            ++woken;
        };
        std::vector<Job<void>> jobs;
        for (int i = 0; i < 5; ++i) jobs.push_back(create_task(waiter()));
        co_await yield_now();
        EXPECT_EQ(cond.waiting(), 5u);
        {
            auto held = co_await cond.acquire();
            EXPECT_EQ(cond.notify(2), 2u);
        }
        co_await sleep(5ms);
        EXPECT_EQ(woken, 2);
        EXPECT_EQ(cond.waiting(), 3u);
        jobs[4].cancel(); // a cancelled waiter takes the lock back, then ends
        co_await jobs[4].finished();
        EXPECT_FALSE(cond.locked());
        {
            auto held = co_await cond.acquire();
            EXPECT_EQ(cond.notify_all(), 2u);
        }
        for (int i = 0; i < 4; ++i) co_await jobs[static_cast<std::size_t>(i)];
    }());
    EXPECT_EQ(woken, 4);
}

TEST_F(Toolkit, SemaphoreBoundIsNeverExceeded) {
    int inside = 0, peak = 0;
    run08([&]() -> Task<void> {
        Semaphore sem(2);
        auto worker = [&](int ms) -> Task<void> {
            auto permit = co_await sem.acquire();
            peak = std::max(peak, ++inside);
            co_await sleep(ms * 1ms);
            --inside;
        };
        std::vector<Job<void>> jobs;
        for (int i = 0; i < 7; ++i) jobs.push_back(create_task(worker(1 + i % 3)));
        jobs[6].cancel(); // a cancelled waiter leaves the queue, permit untouched
        for (auto& j : jobs) co_await j.finished();
        EXPECT_EQ(sem.free(), 2);
        EXPECT_THROW(sem.release(), std::logic_error); // bounded
    }());
    EXPECT_EQ(peak, 2);
}

TEST_F(Toolkit, QueueIsBoundedAndJoinWaitsForTaskDone) {
    std::vector<int> consumed;
    std::size_t max_size = 0;
    run08([&]() -> Task<void> {
        Queue<int> queue(2);
        auto producer = [&]() -> Task<void> {
            for (int i = 0; i < 6; ++i) {
                co_await queue.put(i);
                max_size = std::max(max_size, queue.size());
            }
        };
        auto consumer = [&]() -> Task<void> {
            for (;;) {
                int item = co_await queue.get();
                co_await sleep(1ms);
                consumed.push_back(item);
                queue.task_done();
            }
        };
        Job<void> p = create_task(producer());
        Job<void> c1 = create_task(consumer());
        Job<void> c2 = create_task(consumer());
        co_await p;
        co_await queue.join();
        EXPECT_EQ(queue.unfinished(), 0u);
        c1.cancel(); // consumers park in get() forever: cancel them (as the 500 Lines crawler does)
        c2.cancel();
        co_await c1.finished();
        co_await c2.finished();
        EXPECT_TRUE(c1.cancelled() && c2.cancelled());
    }());
    EXPECT_LE(max_size, 2u);
    std::sort(consumed.begin(), consumed.end());
    EXPECT_EQ(consumed, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

// --- cancellation through 07's hooks ------------------------------------------------------

namespace {
Task<std::string> read_forever(Socket& sock, bool& caught) {
    std::string got;
    try {
        while (co_await sock.recv(got)) {
        }
    } catch (const CancelledError&) {
        caught = true; // at 07's own co_await, which knows nothing of jobs
        throw;
    }
    co_return got;
}
Task<void> two_reads(Socket& a, Socket& b, bool& caught_a, bool& caught_b) {
    std::vector<Task<std::string>> both;
    both.push_back(read_forever(a, caught_a));
    both.push_back(read_forever(b, caught_b));
    co_await gather(std::move(both)); // one job, parked in two places at once
}
} // namespace

TEST_F(Toolkit, CancelReachesEveryPlaceAJobIsParkedEvenIn07sAwaits) {
    int fds1[2], fds2[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds1), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds2), 0);
    Fd keep1(fds1[1]), keep2(fds2[1]);
    Socket a{Fd(fds1[0])}, b{Fd(fds2[0])};
    bool caught_a = false, caught_b = false;
    run08([&]() -> Task<void> {
        Job<void> job = create_task(two_reads(a, b, caught_a, caught_b));
        co_await yield_now();
        EXPECT_EQ(Loop::current().waiting(), 2u);
        job.cancel();
        co_await job.finished();
        EXPECT_TRUE(job.cancelled());
        EXPECT_EQ(Loop::current().waiting(), 0u); // both waits left the loop
    }());
    EXPECT_TRUE(caught_a); // the first: at its co_await; the second went with gather's frame
}

TEST_F(Toolkit, ACancelWhileTheJobIsReadyTakesEffectAtItsNextAwait) {
    std::vector<std::string> trace;
    run08([&]() -> Task<void> {
        Event go;
        auto steps = [&]() -> Task<void> {
            co_await go.wait();
            trace.push_back("ran on"); // woken before the cancel: this step still runs...
            co_await yield_now();      // ...and CancelledError comes here
            trace.push_back("never");
        };
        Job<void> job = create_task(steps());
        go.set();     // the job is on the ready list now, no longer parked...
        job.cancel(); // ...so the cancel waits for its next co_await
        co_await job.finished();
        EXPECT_TRUE(job.cancelled());
    }());
    EXPECT_EQ(trace, (std::vector<std::string>{"ran on"}));
}

TEST_F(Toolkit, AnEmptyJobIsAClearError) {
    Job<int> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_THROW(empty.done(), std::logic_error);
    EXPECT_THROW(empty.cancel(), std::logic_error);
    Loop loop;
    EXPECT_THROW((void)create_task(value_after(1ms, 1)), std::logic_error); // no Cancellation here
}
