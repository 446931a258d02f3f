// ThreadPool (stages/03_thread_pool/thread_pool.hpp): results and exceptions
// through futures, a bounded number of threads, a clean join. Run it under
// TSan too: meson setup build-tsan -Db_sanitize=thread -Db_lundef=false
#include "03_thread_pool/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using ladder::ThreadPool;
using namespace std::chrono_literals;

TEST(ThreadPool, ReturnsEachResultThroughItsFuture) {
    ThreadPool pool(4);
    std::vector<std::future<int>> squares;
    for (int i = 0; i < 100; ++i) squares.push_back(pool.submit([i] { return i * i; }));
    for (int i = 0; i < 100; ++i) EXPECT_EQ(squares[i].get(), i * i);
}

TEST(ThreadPool, AnExceptionInATaskReachesTheCallerThroughTheFuture) {
    // `caught` keeps the exception alive until after the pool has joined, so it
    // is freed on this thread. (Otherwise the pool thread may free it last, and
    // ThreadSanitizer, which cannot see the atomic reference count inside the
    // uninstrumented C++ runtime, reports a data race that is not there.)
    std::exception_ptr caught;
    {
        ThreadPool pool(2);
        auto bad = pool.submit([]() -> int { throw std::runtime_error("page 3 failed"); });
        try {
            bad.get();
            ADD_FAILURE() << "get() should have thrown";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "page 3 failed");
            caught = std::current_exception();
        }
        // The thread that ran it is still there for the next task.
        EXPECT_EQ(pool.submit([] { return 7; }).get(), 7);
    }
    EXPECT_TRUE(caught);
}

TEST(ThreadPool, AcceptsMoveOnlyTasks) {
    ThreadPool pool(1);
    auto value = std::make_unique<std::string>("moved in");
    auto f = pool.submit([v = std::move(value)] { return *v; });
    EXPECT_EQ(f.get(), "moved in");
}

TEST(ThreadPool, RunsNoMoreThanItsThreadsAtOnce) {
    ThreadPool pool(3);
    std::atomic<int> running{0}, peak{0};
    std::vector<std::future<void>> done;
    for (int i = 0; i < 12; ++i)
        done.push_back(pool.submit([&] {
            int now = ++running;
            int seen = peak.load();
            while (now > seen && !peak.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::sleep_for(10ms);
            --running;
        }));
    for (auto& f : done) f.get();
    EXPECT_LE(peak.load(), 3);
    EXPECT_GE(peak.load(), 1);
}

// N tasks that each wait until all N have started can only finish if the pool
// really runs N at once. Each waits at most 5 s, so a broken pool fails, not hangs.
TEST(ThreadPool, RunsAsManyTasksAtOnceAsItHasThreads) {
    constexpr int n = 8;
    ThreadPool pool(n);
    std::mutex m;
    std::condition_variable cv;
    int arrived = 0;
    std::vector<std::future<bool>> met;
    for (int i = 0; i < n; ++i)
        met.push_back(pool.submit([&] {
            std::unique_lock lock(m);
            ++arrived;
            cv.notify_all();
            return cv.wait_for(lock, 5s, [&] { return arrived == n; });
        }));
    for (auto& f : met) EXPECT_TRUE(f.get());
}

TEST(ThreadPool, ReusesItsThreads) {
    ThreadPool pool(2);
    EXPECT_EQ(pool.size(), 2);
    std::mutex m;
    std::set<std::thread::id> ids;
    std::vector<std::future<void>> done;
    for (int i = 0; i < 50; ++i)
        done.push_back(pool.submit([&] {
            std::lock_guard lock(m);
            ids.insert(std::this_thread::get_id());
        }));
    for (auto& f : done) f.get();
    EXPECT_LE(ids.size(), 2u);
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u); // never on the caller's thread
}

TEST(ThreadPool, EachTaskKnowsWhichWorkerRunsIt) {
    EXPECT_EQ(ThreadPool::current_worker(), -1); // not a pool thread
    ThreadPool pool(3);
    std::vector<std::future<int>> who;
    for (int i = 0; i < 30; ++i)
        who.push_back(pool.submit([] { return ThreadPool::current_worker(); }));
    for (auto& f : who) {
        int w = f.get();
        EXPECT_GE(w, 0);
        EXPECT_LT(w, 3);
    }
}

TEST(ThreadPool, DestructionRunsTheQueuedTasksThenJoins) {
    std::atomic<int> ran{0};
    std::vector<std::future<void>> done;
    {
        ThreadPool pool(1);
        for (int i = 0; i < 20; ++i)
            done.push_back(pool.submit([&] {
                std::this_thread::sleep_for(1ms);
                ++ran;
            }));
    } // joins here, after all 20
    EXPECT_EQ(ran.load(), 20);
    for (auto& f : done) EXPECT_EQ(f.wait_for(0s), std::future_status::ready);
}

TEST(ThreadPool, ManyThreadsMaySubmitAtOnce) {
    ThreadPool pool(3);
    std::atomic<long> sum{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p)
        producers.emplace_back([&] {
            std::vector<std::future<void>> mine;
            for (int i = 1; i <= 250; ++i) mine.push_back(pool.submit([&sum, i] { sum += i; }));
            for (auto& f : mine) f.get();
        });
    for (auto& t : producers) t.join();
    EXPECT_EQ(sum.load(), 4 * (250 * 251 / 2));
}

TEST(ThreadPool, NeedsAtLeastOneThread) {
    EXPECT_THROW(ThreadPool(0), std::invalid_argument);
    EXPECT_THROW(ThreadPool(-3), std::invalid_argument);
}
