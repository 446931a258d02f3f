// Stage 07's coroutine toolkit piece by piece: the loop's lists, Task, run and
// spawn, gather, and the I/O awaitables (the last against epoll and poll).
#include "error.hpp"
#include "07_coroutines/gather.hpp"
#include "07_coroutines/io.hpp"
#include "07_coroutines/lists.hpp"
#include "07_coroutines/loop.hpp"
#include "net.hpp"
#include "07_coroutines/task.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ladder;
using namespace ladder::coro;
using namespace std::chrono_literals;
using Steps = std::vector<std::string>;

namespace {

// Every test must free every coroutine frame it made.
class Coroutines : public ::testing::Test {
  protected:
    void SetUp() override { live_before_ = frame_stats.live(); }
    void TearDown() override {
        EXPECT_EQ(frame_stats.live(), live_before_) << "coroutine frames leaked";
    }
    std::size_t live_before_ = 0;
};

struct Pair {
    Fd a, b;
};

Pair pipe_pair() { // a: read end, b: write end
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) throw_errno("pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

Pair socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        throw_errno("socketpair");
    return {Fd(fds[0]), Fd(fds[1])};
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- small coroutines the tests compose ---------------------------------------------

Task<int> value(int v) {
    co_return v;
}

Task<int> traced(Steps& trace, std::string name, int v) {
    trace.push_back(name);
    co_return v;
}

Task<int> after_turns(int turns, int v) {
    for (int i = 0; i < turns; ++i) co_await yield_now();
    co_return v;
}

Task<std::string> text_after_turns(int turns, std::string text) {
    for (int i = 0; i < turns; ++i) co_await yield_now();
    co_return text;
}

Task<void> fail_after_turns(int turns, std::string message, Steps& trace) {
    for (int i = 0; i < turns; ++i) co_await yield_now();
    trace.push_back("throw " + message);
    throw std::runtime_error(message);
}

Task<void> worker(Steps& trace, std::string name, int steps) {
    for (int i = 0; i < steps; ++i) {
        trace.push_back(name + std::to_string(i));
        co_await yield_now();
    }
}

Task<void> wait_readable(int fd, Clock::time_point deadline, Steps& trace, std::string name) {
    co_await readable(fd, deadline, "recv");
    trace.push_back(name + " woke");
}

Task<int> chain(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await chain(depth - 1);
}

} // namespace

// --- the ready list and the deadline heap ---------------------------------------------

TEST(ReadyList, IsFirstInFirstOutAndEntriesLeaveWhenDestroyed) {
    ReadyList list;
    Wakeup a, b;
    auto c = std::make_unique<Wakeup>();
    list.push_back(a);
    list.push_back(*c);
    list.push_back(b);
    list.push_back(a); // queued again: moves to the back, never twice
    c.reset();         // destroyed while queued: takes itself off
    EXPECT_EQ(list.pop_front(), &b);
    EXPECT_EQ(list.pop_front(), &a);
    EXPECT_EQ(list.pop_front(), nullptr);

    ReadyList other;
    other.push_back(a);
    other.push_back(b);
    list.splice(other);
    EXPECT_TRUE(other.empty());
    EXPECT_EQ(list.pop_front(), &a);
    EXPECT_EQ(list.pop_front(), &b);
    EXPECT_TRUE(list.empty());
}

TEST(DeadlineHeap, GivesEarliestFirstAfterRandomPushesAndErases) {
    std::mt19937 rng(7);
    std::vector<std::unique_ptr<Waiter>> waiters;
    DeadlineHeap heap;
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < 500; ++i) {
        waiters.push_back(std::make_unique<Waiter>());
        waiters.back()->deadline = t0 + std::chrono::milliseconds(rng() % 1000);
        heap.push(*waiters.back());
    }
    // Take out every third one, as if its fd had become ready first.
    for (std::size_t i = 0; i < waiters.size(); i += 3) {
        heap.erase(*waiters[i]);
        EXPECT_EQ(waiters[i]->heap_index, Waiter::no_index);
    }
    std::vector<Clock::time_point> popped;
    while (!heap.empty()) {
        popped.push_back(heap.top().deadline);
        heap.erase(heap.top());
    }
    EXPECT_EQ(popped.size(), 500u - 167u);
    EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
}

// --- Task -----------------------------------------------------------------------------------

TEST_F(Coroutines, ATaskIsLazyAndOwnsItsFrame) {
    Steps trace;
    std::size_t before = frame_stats.allocated, bytes_before = frame_stats.bytes;
    {
        // In a vector, so no compiler can keep the frame on the stack instead
        // (clang does that for a Task that never leaves the function).
        std::vector<Task<int>> tasks;
        tasks.push_back(traced(trace, "ran", 1));
        EXPECT_EQ(frame_stats.allocated, before + 1); // the frame exists...
        EXPECT_TRUE(trace.empty());                   // ...but nothing ran
        EXPECT_FALSE(tasks[0].done());
        EXPECT_FALSE(tasks[0].started());
        Task<int> moved = std::move(tasks[0]); // move-only: the frame changes owner
        EXPECT_FALSE(tasks[0].valid());
        EXPECT_TRUE(moved.valid());
        EXPECT_GT(frame_stats.bytes, bytes_before);
    } // destroyed without ever running: the frame is freed (TearDown checks)
    EXPECT_TRUE(trace.empty());
}

namespace {
Task<int> await_later(Steps& trace) {
    Task<int> child = traced(trace, "child runs", 7);
    trace.push_back("child created");
    int v = co_await child; // the first co_await starts it
    trace.push_back("child awaited");
    co_return v;
}
} // namespace

TEST_F(Coroutines, AwaitingATaskRunsItAndReturnsItsValue) {
    Steps trace;
    EXPECT_EQ(run(await_later(trace)), 7);
    EXPECT_EQ(trace, (Steps{"child created", "child runs", "child awaited"}));
}

namespace {
Task<int> level3(bool fail) {
    if (fail) throw TimeoutError("deep failure");
    co_return 3;
}
Task<int> level2(bool fail) {
    int v = co_await level3(fail);
    co_return 2 * v;
}
Task<int> level1(bool fail) {
    try {
        int v = co_await level2(fail);
        co_return 1 + v;
    } catch (const TimeoutError& e) {
        EXPECT_STREQ(e.what(), "deep failure");
    }
    co_return -1;
}
Task<void> void_failure() {
    throw std::logic_error("void failure");
    co_return;
}
} // namespace

TEST_F(Coroutines, ValuesAndExceptionsTravelThroughNestedAwaits) {
    EXPECT_EQ(run(level1(false)), 7);
    EXPECT_EQ(run(level1(true)), -1); // thrown two levels down, caught at the top co_await
    try {
        run(level2(true)); // run() rethrows the root task's exception, type and all
        FAIL() << "no exception";
    } catch (const TimeoutError& e) {
        EXPECT_STREQ(e.what(), "deep failure");
    }
    EXPECT_THROW(run(void_failure()), std::logic_error);
}

namespace {
void* run_deep_chain(void* result) {
    *static_cast<int*>(result) = run(chain(100'000));
    return nullptr;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool instrumented = true;
#else
constexpr bool instrumented = false;
#endif
#if defined(__clang__) || defined(__OPTIMIZE__)
constexpr bool optimized_or_clang = true;
#else
constexpr bool optimized_or_clang = false;
#endif
// GCC turns the transfer into a jump only when it optimizes and ASan does not
// instrument the frames (clang does it always, on x86-64). Elsewhere the chain
// gets a stack big enough to hold 100,000 calls, and only its result is checked.
constexpr bool transfer_is_a_jump = optimized_or_clang && !instrumented;
} // namespace

TEST_F(Coroutines, AHundredThousandDeepChainDoesNotGrowTheStack) {
    // On a 512 KiB stack: 100,000 nested resume() calls would need several MiB.
    // With symmetric transfer each start and each return is a jump.
    std::size_t stack_bytes = transfer_is_a_jump ? 512 * 1024 : 512 * 1024 * 1024;
    std::size_t before = frame_stats.allocated;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_bytes);
    pthread_t thread;
    int result = -1;
    ASSERT_EQ(pthread_create(&thread, &attr, run_deep_chain, &result), 0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
    EXPECT_EQ(result, 100'000);
    EXPECT_EQ(frame_stats.allocated - before, 100'001u);
}

// --- the loop: run, spawn, the ready list ----------------------------------------------

namespace {
Task<void> two_workers(Steps& trace) {
    Task<void> a = spawn(worker(trace, "a", 3)); // runs now, up to its first co_await
    Task<void> b = spawn(worker(trace, "b", 2));
    trace.push_back("main");
    co_await a;
    co_await b;
    trace.push_back("end");
}
} // namespace

TEST_F(Coroutines, SpawnedTasksStartAtOnceThenTakeTurnsInReadyListOrder) {
    Steps trace;
    run(two_workers(trace));
    EXPECT_EQ(trace, (Steps{"a0", "b0", "main", "a1", "b1", "a2", "end"}));
}

namespace {
Task<int> await_finished_task() {
    Task<int> t = spawn(value(5));
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(t.done()); // it ran on its own...
    co_return co_await t;  // ...and co_await just takes the result
}
} // namespace

TEST_F(Coroutines, AwaitingASpawnedTaskThatAlreadyFinishedGivesItsResult) {
    EXPECT_EQ(run(await_finished_task()), 5);
}

namespace {
Task<void> drop_parked_tasks(int idle_fd, int ready_fd, Steps& trace) {
    Loop& loop = Loop::current();
    {
        Task<void> t = spawn(wait_readable(idle_fd, never, trace, "parked"));
        EXPECT_EQ(loop.waiting(), 1u);
    } // destroyed while on the waiting list
    EXPECT_EQ(loop.waiting(), 0u);
    {
        Task<void> t = spawn(wait_readable(ready_fd, never, trace, "woken"));
        co_await yield_now(); // this turn wakes it too, behind us on the ready list
        EXPECT_EQ(loop.waiting(), 0u);
    } // destroyed while on the ready list: woken, not yet resumed
    Task<void> queued = spawn(worker(trace, "queued", 2)); // "queued0", then on the ready list
} // destroyed while still on the ready list
} // namespace

TEST_F(Coroutines, DroppingATaskTakesItOffTheLoopWhereverItIsParked) {
    Pair idle = pipe_pair(), ready = pipe_pair();
    ASSERT_EQ(::write(ready.b.get(), "x", 1), 1);
    Steps trace;
    run(drop_parked_tasks(idle.a.get(), ready.a.get(), trace));
    EXPECT_EQ(trace, (Steps{"queued0"})); // no "woken", no "queued1": nothing stale ran
}

namespace {
Task<void> stuck() {
    co_await std::suspend_always{}; // nothing will ever resume this
}
} // namespace

TEST_F(Coroutines, RunSaysSoWhenTheMainTaskCanNeverFinish) {
    EXPECT_THROW(run(stuck()), std::logic_error);
}

TEST_F(Coroutines, OutsideRunThereIsNoLoop) {
    EXPECT_EQ(Loop::current_or_null(), nullptr);
    EXPECT_THROW(Loop::current(), std::logic_error);
}

// --- gather -------------------------------------------------------------------------

namespace {
Task<std::vector<int>> gather_vector() {
    std::vector<Task<int>> tasks;
    tasks.push_back(after_turns(3, 0));
    tasks.push_back(after_turns(1, 1));
    tasks.push_back(after_turns(2, 2));
    co_return co_await gather(std::move(tasks));
}
Task<void> gather_tuple(Steps& trace) {
    auto [n, nothing, text] =
        co_await gather(after_turns(2, 5), worker(trace, "w", 2), text_after_turns(0, "hi"));
    EXPECT_EQ(n, 5);
    EXPECT_EQ(text, "hi");
    (void)nothing; // std::monostate for the Task<void>
    trace.push_back("gathered");
}
Task<std::size_t> gather_nothing() {
    std::vector<int> none = co_await gather(std::vector<Task<int>>{});
    co_return none.size();
}
} // namespace

TEST_F(Coroutines, GatherReturnsEveryResultInTheTasksOrder) {
    EXPECT_EQ(run(gather_vector()), (std::vector<int>{0, 1, 2}));
    Steps trace;
    run(gather_tuple(trace));
    EXPECT_EQ(trace, (Steps{"w0", "w1", "gathered"}));
    EXPECT_EQ(run(gather_nothing()), 0u);
}

namespace {
Task<void> gather_with_errors(int fd, Steps& trace) {
    Loop& loop = Loop::current();
    try {
        co_await gather(wait_readable(fd, never, trace, "parked"), // would wait forever
                        fail_after_turns(2, "early", trace),       // fails first
                        fail_after_turns(5, "late", trace));       // would fail later
        trace.push_back("no error?");
    } catch (const std::runtime_error& e) {
        trace.push_back(std::string("caught ") + e.what());
        EXPECT_EQ(loop.waiting(), 0u); // the parked one went with gather's Task
    }
    for (int i = 0; i < 6; ++i) co_await yield_now(); // "late" would have thrown by now
}
} // namespace

namespace {
Task<std::string> gather_on_the_spot(Steps& trace) {
    auto [a, b] = co_await gather(value(1), value(2)); // both finish while starting
    std::vector<Task<void>> tasks;
    tasks.push_back(fail_after_turns(0, "at once", trace));
    tasks.push_back(worker(trace, "never started", 1));
    try {
        co_await gather(std::move(tasks));
    } catch (const std::runtime_error& e) {
        co_return std::to_string(a + b) + " " + e.what();
    }
    co_return "no error?";
}
} // namespace

TEST_F(Coroutines, GatherHandlesTasksThatFinishWhileStarting) {
    Steps trace;
    EXPECT_EQ(run(gather_on_the_spot(trace)), "3 at once");
    EXPECT_EQ(trace, (Steps{"throw at once"})); // the second task was not even started
}

TEST_F(Coroutines, GatherRethrowsTheFirstErrorAtOnceAndDropsTheRest) {
    Pair p = pipe_pair();
    Steps trace;
    run(gather_with_errors(p.a.get(), trace));
    EXPECT_EQ(trace, (Steps{"throw early", "caught early"}));
}

// --- I/O: readable, writable, timeouts, and the three crawler helpers ---------------------

class CoroutineIo : public Coroutines, public ::testing::WithParamInterface<const char*> {};
INSTANTIATE_TEST_SUITE_P(Selectors, CoroutineIo, ::testing::Values("epoll", "poll"));

namespace {
Task<void> write_after_turns(int fd, int turns, Steps& trace) {
    for (int i = 0; i < turns; ++i) co_await yield_now();
    trace.push_back("write");
    EXPECT_EQ(::write(fd, "x", 1), 1);
}
Task<void> reader_and_writer(int read_fd, int write_fd, Steps& trace) {
    co_await gather(wait_readable(read_fd, never, trace, "reader"),
                    write_after_turns(write_fd, 3, trace));
}
} // namespace

TEST_P(CoroutineIo, ReadableWakesWhenDataArrives) {
    Pair p = pipe_pair();
    Steps trace;
    run(reader_and_writer(p.a.get(), p.b.get(), trace), GetParam());
    EXPECT_EQ(trace, (Steps{"write", "reader woke"}));
}

namespace {
Task<void> wait_until_timeout(int fd, Clock::time_point deadline, Steps& trace, std::string name) {
    try {
        co_await readable(fd, deadline, "recv");
    } catch (const TimeoutError& e) {
        trace.push_back(name + ": " + e.what());
    }
}
Task<void> time_out_in_order(int fd1, int fd2, Steps& trace) {
    Clock::time_point now = Clock::now();
    co_await gather(wait_until_timeout(fd1, now + 120ms, trace, "second"),
                    wait_until_timeout(fd2, now + 60ms, trace, "first"));
}
} // namespace

TEST_P(CoroutineIo, DeadlinesFireInOrderAsTimeoutErrorsAtTheAwait) {
    Pair p1 = pipe_pair(), p2 = pipe_pair(); // nobody writes: only the deadlines can wake them
    Steps trace;
    Clock::time_point start = Clock::now();
    run(time_out_in_order(p1.a.get(), p2.a.get(), trace), GetParam());
    EXPECT_EQ(trace, (Steps{"first: recv timed out", "second: recv timed out"}));
    EXPECT_GE(seconds_since(start), 0.120);
    EXPECT_LT(seconds_since(start), 5.0);
}

namespace {
Task<void> ready_before_deadline(int read_fd, int write_fd, Steps& trace) {
    Loop& loop = Loop::current();
    co_await gather(wait_readable(read_fd, Clock::now() + 50ms, trace, "reader"),
                    write_after_turns(write_fd, 1, trace));
    EXPECT_EQ(loop.waiting(), 0u); // its deadline left the heap when its fd woke it
    // Wait past that deadline: a stale heap entry would fire now.
    Pair idle = pipe_pair();
    try {
        co_await readable(idle.a.get(), Clock::now() + 100ms, "idle");
    } catch (const TimeoutError&) {
        trace.push_back("idle timed out");
    }
}
} // namespace

TEST_P(CoroutineIo, AWaiterWokenByItsFdNeverTimesOut) {
    Pair p = pipe_pair();
    Steps trace;
    run(ready_before_deadline(p.a.get(), p.b.get(), trace), GetParam());
    EXPECT_EQ(trace, (Steps{"write", "reader woke", "idle timed out"}));
}

namespace {
Task<void> send_then_close(const Socket& sock, const std::string& data) {
    co_await async_send_all(sock, data, Clock::now() + 10s);
    ::shutdown(sock.fd(), SHUT_WR);
}
Task<std::string> send_and_read(const Socket& a, const Socket& b, const std::string& data) {
    auto [sent, received] =
        co_await gather(send_then_close(a, data), async_read_all(b, Clock::now() + 10s));
    (void)sent;
    co_return received;
}
} // namespace

TEST_P(CoroutineIo, SendAllAndReadAllMoveAMegabyteThroughASmallBuffer) {
    Pair p = socket_pair(); // far less than 1 MiB of buffer: the sender must park
    Socket a(std::move(p.a)), b(std::move(p.b));
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    std::string received = run(send_and_read(a, b, data), GetParam());
    EXPECT_EQ(received.size(), data.size());
    EXPECT_TRUE(received == data);
}

namespace {
Task<std::string> connect_and_accept(const Endpoint& server, int listener) {
    Socket client = co_await async_connect(server, Clock::now() + 5s);
    co_await readable(listener, Clock::now() + 5s, "accept");
    Socket accepted(Fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)));
    EXPECT_GE(accepted.fd(), 0);
    EXPECT_EQ(::send(client.fd(), "hello", 5, MSG_NOSIGNAL), 5);
    ::shutdown(client.fd(), SHUT_WR);
    co_return co_await async_read_all(accepted, Clock::now() + 5s);
}
Task<void> connect_only(const Endpoint& server) {
    Socket sock = co_await async_connect(server, Clock::now() + 5s);
}
} // namespace

TEST_P(CoroutineIo, AsyncConnectConnectsOrThrowsTheReason) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    Endpoint server = resolve("127.0.0.1", local_port(listener.get()));
    EXPECT_EQ(run(connect_and_accept(server, listener.get()), GetParam()), "hello");

    listener.reset(); // now nobody listens there
    try {
        run(connect_only(server), GetParam());
        FAIL() << "connected to a closed port";
    } catch (const SysError& e) {
        EXPECT_NE(std::string(e.what()).find("Connection refused"), std::string::npos) << e.what();
    }
}

namespace {
Task<std::vector<std::size_t>> watch_a_socket(Socket& a, const Socket& b) {
    Loop& loop = Loop::current();
    std::vector<std::size_t> watched;
    co_await writable(a, never, "write"); // a socket is writable at once
    watched.push_back(loop.watched());    // 1: still watched, though nobody waits now
    co_await yield_now();                 // a is ready, watched, unawaited...
    watched.push_back(loop.watched());    // 0: ...so the loop stopped watching it
    EXPECT_EQ(::send(b.fd(), "x", 1, MSG_NOSIGNAL), 1);
    co_await readable(a, never, "read");
    watched.push_back(loop.watched()); // 1
    a.close();                         // the socket stops the watch before it closes the fd
    watched.push_back(loop.watched()); // 0
    co_return watched;
}
} // namespace

TEST_P(CoroutineIo, ASocketStaysWatchedBetweenAwaitsUntilItCloses) {
    Pair p = socket_pair();
    Socket a(std::move(p.a)), b(std::move(p.b));
    EXPECT_EQ(run(watch_a_socket(a, b), GetParam()), (std::vector<std::size_t>{1, 0, 1, 0}));
    EXPECT_LT(a.fd(), 0);
}

TEST_P(CoroutineIo, AWaitOnABadFdFailsAtTheAwait) {
    Pair p = pipe_pair();
    int fd = p.a.get();
    p.a.reset(); // closed: epoll refuses it; poll reports it as an error at once
    Steps trace;
    try {
        run(wait_readable(fd, Clock::now() + 2s, trace, "closed"), GetParam());
    } catch (const std::exception&) {
        trace.push_back("threw");
    }
    EXPECT_EQ(trace.size(), 1u); // either way: no hang, no crash, one outcome
}
