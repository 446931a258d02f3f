// Stage 07 piece by piece: Task, the loop and its hooks, gather, the Socket
// awaitables (against epoll and poll), and the lifetime rules that keep a
// destroyed frame from touching anything.
#include "07_coroutines/crawl.hpp"
#include "07_coroutines/gather.hpp"
#include "07_coroutines/hooks.hpp"
#include "07_coroutines/io.hpp"
#include "07_coroutines/loop.hpp"
#include "07_coroutines/lowered/lowered.hpp"
#include "07_coroutines/watch/watch.hpp"
#include "07_coroutines/task.hpp"
#include "error.hpp"
#include "http.hpp"
#include "net.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
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

// co_await next_turn(): to the back of the ready list (asyncio.sleep(0); 08's
// yield_now() takes the timers' way instead).
struct next_turn {
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) {
        waiter.handle = self;
        Loop::current().call_soon(waiter);
    }
    void await_resume() const noexcept {}
};

// co_await Socket::Wait<Readable>{sock, {}}: just wait until sock is readable.
struct Readable {
    static constexpr unsigned events = EVENT_READ;
    static constexpr const char* what = "recv";
    bool try_now(Socket&) const noexcept { return false; }
    void finish(Socket&) const noexcept {}
};

// --- small coroutines the tests compose -----------------------------------------------

Task<int> value(int v) {
    co_return v;
}

Task<int> traced(Steps& trace, std::string name, int v) {
    trace.push_back(name);
    co_return v;
}

Task<int> after_turns(int turns, int v) {
    for (int i = 0; i < turns; ++i) co_await next_turn{};
    co_return v;
}

Task<void> fail_after_turns(int turns, std::string message, Steps& trace) {
    for (int i = 0; i < turns; ++i) co_await next_turn{};
    trace.push_back("throw " + message);
    throw std::runtime_error(message);
}

Task<void> worker(Steps& trace, std::string name, int steps) {
    for (int i = 0; i < steps; ++i) {
        trace.push_back(name + std::to_string(i));
        co_await next_turn{};
    }
}

Task<void> wait_readable(Socket& sock, Steps& trace, std::string name) {
    co_await Socket::Wait<Readable>{sock, {}};
    trace.push_back(name + " woke");
}

Task<int> chain(int depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await chain(depth - 1);
}

} // namespace

// --- Task -----------------------------------------------------------------------------

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
        run(level2(true)); // run() rethrows the main task's exception, type and all
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
    EXPECT_EQ(frame_stats.allocated - before, 0u); // that thread's frames were its own
}

namespace {
Task<void> await_an_empty_task() {
    Task<int> gone = value(1);
    Task<int> owner = std::move(gone);
    co_await gone; // moved from: a clear error here, not a null dereference
}
} // namespace

TEST_F(Coroutines, AnEmptyTaskIsAClearErrorNotACrash) {
    Task<int> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_FALSE(empty.started());
    EXPECT_FALSE(empty.done());
    EXPECT_THROW(empty.start(), std::logic_error);
    EXPECT_THROW(empty.result(), std::logic_error);
    try {
        run(await_an_empty_task());
        FAIL() << "awaited an empty Task";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("empty Task"), std::string::npos) << e.what();
    }
    Task<int> unfinished = after_turns(1, 1);
    EXPECT_THROW(unfinished.result(), std::logic_error); // not finished yet
}

// --- the loop ----------------------------------------------------------------------------

namespace {
Task<void> two_workers(Steps& trace) {
    Task<void> a = worker(trace, "a", 3);
    Task<void> b = worker(trace, "b", 2);
    a.start(); // runs now, up to its first co_await; then the loop takes it on
    b.start();
    trace.push_back("main");
    co_await a;
    co_await b;
    trace.push_back("end");
}
Task<int> await_a_finished_task() {
    Task<int> t = after_turns(1, 5);
    t.start();
    co_await next_turn{};
    co_await next_turn{};
    EXPECT_TRUE(t.done()); // it ran on its own...
    co_return co_await t;  // ...and co_await just takes the result
}
} // namespace

TEST_F(Coroutines, StartedTasksTakeTurnsInReadyListOrder) {
    Steps trace;
    run(two_workers(trace));
    EXPECT_EQ(trace, (Steps{"a0", "b0", "main", "a1", "b1", "a2", "end"}));
    EXPECT_EQ(run(await_a_finished_task()), 5);
}

namespace {
Task<void> drop_parked_tasks(Socket& idle, Socket& ready, Steps& trace) {
    Loop& loop = Loop::current();
    {
        Task<void> t = wait_readable(idle, trace, "parked");
        t.start();
        EXPECT_EQ(loop.waiting(), 1u);
    } // destroyed while on the waiting list
    EXPECT_EQ(loop.waiting(), 0u);
    {
        Task<void> t = wait_readable(ready, trace, "woken");
        t.start();
        co_await next_turn{}; // this turn wakes it too, behind us on the ready list
        EXPECT_EQ(loop.waiting(), 0u);
    } // destroyed while on the ready list: woken, not yet resumed
    Task<void> queued = worker(trace, "queued", 2);
    queued.start(); // "queued0", then it is on the ready list...
} // ...when it is destroyed
} // namespace

TEST_F(Coroutines, DroppingATaskTakesItOffTheLoopWhereverItIsParked) {
    Pair idle = pipe_pair(), ready = pipe_pair();
    ASSERT_EQ(::write(ready.b.get(), "x", 1), 1);
    Socket idle_end(std::move(idle.a)), ready_end(std::move(ready.a));
    Steps trace;
    run(drop_parked_tasks(idle_end, ready_end, trace));
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
    EXPECT_THROW(Loop::current(), std::logic_error);
}

// --- lifetimes: a frame never touches a loop it is not on --------------------------------

TEST_F(Coroutines, AWaiterOnlyEverTouchesTheLoopItIsParkedIn) {
    Pair p = pipe_pair();
    Socket sock(std::move(p.a));
    Steps trace;
    Loop outer;
    Task<void> parked = wait_readable(sock, trace, "parked");
    parked.start(); // parks in `outer`
    ASSERT_EQ(outer.waiting(), 1u);
    {
        Loop inner; // now the current loop
        Task<void> other = wait_readable(sock, trace, "never");
        parked = Task<void>(); // destroyed while `inner` is current: leaves `outer`
        EXPECT_EQ(outer.waiting(), 0u);
        EXPECT_EQ(inner.waiting(), 0u);
        other.start(); // the fd is free again: it can park in `inner`
        EXPECT_EQ(inner.waiting(), 1u);
    }
    EXPECT_TRUE(trace.empty());
}

TEST_F(Coroutines, ALoopDestroyedWithCoroutinesOnItCutsThemLooseAndSaysSo) {
    Pair p = pipe_pair(), q = pipe_pair();
    Socket a(std::move(p.a)), b(std::move(q.a));
    Steps trace;
    Task<void> waiting = wait_readable(a, trace, "waiting");
    Task<void> ready = worker(trace, "ready", 2);
    ::testing::internal::CaptureStderr();
    {
        Loop loop;
        waiting.start(); // on the waiting list
        ready.start();   // "ready0", then on the ready list
    } // the loop goes first: the tasks outlive it
    std::string said = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(said.find("2 coroutine(s) still on it"), std::string::npos) << said;
    waiting = Task<void>(); // their frames die later, touching nothing (ASan would see it)
    ready = Task<void>();
    EXPECT_EQ(trace, (Steps{"ready0"}));
}

namespace {
// A one-page website on a thread: answers one GET with the page for `path`.
std::thread serve_one_page(Fd listener, std::string path) {
    return std::thread([listener = std::move(listener), path]() mutable {
        Fd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        std::string request;
        char buf[512];
        while (request.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
            if (n <= 0) return;
            request.append(buf, static_cast<std::size_t>(n));
        }
        std::string body = R"({"path":")" + path + R"("})";
        std::string answer = "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\n\r\n" + body;
        ::send(client.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    });
}
Task<Page> fetch_with_temporaries(const Endpoint& server) {
    // The path is a temporary that dies at the end of this statement, long
    // before fetch runs: fetch must have taken it by value.
    auto t = fetch(server, page_path(3), Clock::now() + 5s);
    co_await next_turn{};
    co_return co_await t;
}
Task<std::string> send_a_temporary(Socket& a, Socket& b) {
    auto t = async_send_all(a, std::string(100'000, 'x')); // the string is gone...
    co_await next_turn{};
    Task<std::string> reader = [](Socket& b) -> Task<std::string> {
        std::string got;
        while (co_await b.recv(got)) {
        }
        co_return got;
    }(b);
    reader.start();
    co_await t; // ...before a byte of it is sent
    ::shutdown(a.fd(), SHUT_WR);
    co_return co_await reader;
}
} // namespace

TEST_F(Coroutines, CoroutinesTakeTheParametersACallerMayOutliveByValue) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    Endpoint server = resolve("127.0.0.1", local_port(listener.get()));
    set_nonblocking(listener.get()); // the thread waits in accept4 on a blocking copy
    int flags = ::fcntl(listener.get(), F_GETFL);
    ::fcntl(listener.get(), F_SETFL, flags & ~O_NONBLOCK);
    std::thread website = serve_one_page(std::move(listener), "/3");
    Page page = run(fetch_with_temporaries(server));
    website.join();
    EXPECT_EQ(page.status, 200);

    Pair p = socket_pair();
    Socket a(std::move(p.a)), b(std::move(p.b));
    EXPECT_EQ(run(send_a_temporary(a, b)), std::string(100'000, 'x'));
}

// --- gather ------------------------------------------------------------------------------

namespace {
Task<std::vector<int>> gather_three() {
    std::vector<Task<int>> tasks;
    tasks.push_back(after_turns(3, 0));
    tasks.push_back(after_turns(1, 1));
    tasks.push_back(value(2)); // done while starting
    co_return co_await gather(std::move(tasks));
}
Task<std::size_t> gather_nothing() {
    std::vector<int> none = co_await gather(std::vector<Task<int>>{});
    co_return none.size();
}
Task<void> gather_all_at_once(Steps& trace) {
    std::vector<Task<void>> tasks;
    tasks.push_back(worker(trace, "a", 2));
    tasks.push_back(worker(trace, "b", 2));
    co_await gather(std::move(tasks));
    trace.push_back("gathered");
}
} // namespace

TEST_F(Coroutines, GatherRunsAllAtOnceAndReturnsTheResultsInOrder) {
    EXPECT_EQ(run(gather_three()), (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(run(gather_nothing()), 0u);
    Steps trace;
    run(gather_all_at_once(trace));
    EXPECT_EQ(trace, (Steps{"a0", "b0", "a1", "b1", "gathered"})); // interleaved: concurrent
}

namespace {
Task<void> gather_with_errors(Socket& idle, Steps& trace) {
    Loop& loop = Loop::current();
    std::vector<Task<void>> tasks;
    tasks.push_back(fail_after_turns(2, "first", trace));
    tasks.push_back(wait_readable(idle, trace, "parked")); // would wait forever
    tasks.push_back(fail_after_turns(5, "late", trace));   // would fail later
    try {
        co_await gather(std::move(tasks));
        trace.push_back("no error?");
    } catch (const std::runtime_error& e) {
        trace.push_back(std::string("caught ") + e.what());
        EXPECT_EQ(loop.waiting(), 0u); // the parked one went with gather's frame
    }
    for (int i = 0; i < 6; ++i) co_await next_turn{}; // "late" would have thrown by now
}
} // namespace

TEST_F(Coroutines, GatherRethrowsAFailureAndDestroysTheTasksStillRunning) {
    Pair p = pipe_pair();
    Socket idle(std::move(p.a));
    Steps trace;
    run(gather_with_errors(idle, trace));
    EXPECT_EQ(trace, (Steps{"throw first", "caught first"}));
}

// --- the loop's hooks ------------------------------------------------------------------------

namespace {
struct Recorder : LoopHooks {
    Steps seen;
    void turn_began(std::uint64_t turn) override { seen.push_back("turn " + std::to_string(turn)); }
    void selected(const Timeout&, const std::vector<Ready>& ready_fds) override {
        seen.push_back("selected " + std::to_string(ready_fds.size()));
    }
    void parking(Waiter& w) override { seen.push_back(std::string("parking ") + w.function); }
    void woken(Waiter& w) override {
        seen.push_back(std::string("woken ") + w.function + (w.timed_out ? ", timed out" : ""));
    }
    void forgotten(Waiter& w) override { seen.push_back(std::string("forgotten ") + w.function); }
    void step_began(Waiter& w) override { seen.push_back(std::string("step ") + w.function); }
    void step_ended() override { seen.push_back("step ended"); }
    void turn_ended() override { seen.push_back("turn ended"); }
};
Task<void> read_one_byte(Socket& sock) {
    std::string got;
    co_await sock.recv(got);
}
Task<void> time_out(Socket& sock) {
    try {
        co_await Socket::Wait<Readable>{sock, {}};
    } catch (const TimeoutError&) {
    }
}
} // namespace

TEST_F(Coroutines, AHookSeesEveryParkWakeAndStepInOrder) {
    Pair p = socket_pair(), q = pipe_pair();
    ASSERT_EQ(::write(p.b.get(), "x", 1), 1);
    Socket readable_now(std::move(p.a)), never_ready(std::move(q.a), Clock::now() + 10ms);
    Recorder recorder;
    {
        Loop loop;
        loop.attach(recorder);
        loop.run_until_complete(read_one_byte(readable_now));
        loop.run_until_complete(time_out(never_ready));
        loop.detach(recorder);
        ASSERT_EQ(::write(p.b.get(), "y", 1), 1);
        loop.run_until_complete(read_one_byte(readable_now)); // detached: nothing more seen
    }
    // (read_one_byte and time_out: the coroutines that parked, for whoever watches.)
    EXPECT_EQ(recorder.seen, (Steps{"parking read_one_byte", "turn 1", "selected 1",
                                    "woken read_one_byte", "step read_one_byte", "step ended",
                                    "turn ended", "parking time_out", "turn 2", "selected 0",
                                    "woken time_out, timed out", "step time_out", "step ended",
                                    "turn ended"}));
}

namespace {
struct Refuse : LoopHooks {
    void parking(Waiter&) override { throw std::runtime_error("not now"); }
};
Task<std::string> park_refused(Socket& sock) {
    try {
        co_await Socket::Wait<Readable>{sock, {}};
    } catch (const std::runtime_error& e) {
        co_return e.what(); // the hook's error, at the co_await
    }
    co_return "parked?";
}
} // namespace

TEST_F(Coroutines, AHookCanRefuseAParkAndTheErrorAppearsAtTheAwait) {
    Pair p = pipe_pair();
    Socket sock(std::move(p.a));
    Refuse refuse;
    Loop loop;
    loop.attach(refuse);
    EXPECT_EQ(loop.run_until_complete(park_refused(sock)), "not now");
    EXPECT_EQ(loop.waiting(), 0u);
    loop.detach(refuse);
}

// --- I/O: the Socket's waits, deadlines, and moving bytes --------------------------------

class CoroutineIo : public Coroutines, public ::testing::WithParamInterface<const char*> {};
INSTANTIATE_TEST_SUITE_P(Selectors, CoroutineIo, ::testing::Values("epoll", "poll", "select"));

namespace {
Task<void> write_after_turns(int fd, int turns, Steps& trace) {
    for (int i = 0; i < turns; ++i) co_await next_turn{};
    trace.push_back("write");
    EXPECT_EQ(::write(fd, "x", 1), 1);
}
Task<void> reader_and_writer(Socket& reader, int write_fd, Steps& trace) {
    std::vector<Task<void>> both;
    both.push_back(wait_readable(reader, trace, "reader"));
    both.push_back(write_after_turns(write_fd, 3, trace));
    co_await gather(std::move(both));
}
} // namespace

TEST_P(CoroutineIo, AWaitEndsWhenDataArrives) {
    Pair p = pipe_pair();
    Socket reader(std::move(p.a));
    Steps trace;
    run(reader_and_writer(reader, p.b.get(), trace), GetParam());
    EXPECT_EQ(trace, (Steps{"write", "reader woke"}));
}

namespace {
Task<void> wait_until_timeout(Socket& sock, Steps& trace, std::string name) {
    try {
        co_await Socket::Wait<Readable>{sock, {}};
    } catch (const TimeoutError& e) {
        trace.push_back(name + ": " + e.what());
    }
}
Task<void> time_out_in_order(Socket& late, Socket& early, Steps& trace) {
    std::vector<Task<void>> both;
    both.push_back(wait_until_timeout(late, trace, "second"));
    both.push_back(wait_until_timeout(early, trace, "first"));
    co_await gather(std::move(both));
}
} // namespace

TEST_P(CoroutineIo, DeadlinesFireInOrderAsTimeoutErrorsAtTheAwait) {
    Pair p1 = pipe_pair(), p2 = pipe_pair(); // nobody writes: only the deadlines can wake them
    Clock::time_point start = Clock::now();
    Socket late(std::move(p1.a), start + 120ms), early(std::move(p2.a), start + 60ms);
    Steps trace;
    run(time_out_in_order(late, early, trace), GetParam());
    EXPECT_EQ(trace, (Steps{"first: recv timed out", "second: recv timed out"}));
    EXPECT_GE(seconds_since(start), 0.120);
    EXPECT_LT(seconds_since(start), 5.0);
}

namespace {
Task<void> ready_before_deadline(Socket& reader, int write_fd, Socket& idle, Steps& trace) {
    Loop& loop = Loop::current();
    std::vector<Task<void>> both;
    both.push_back(wait_readable(reader, trace, "reader"));
    both.push_back(write_after_turns(write_fd, 1, trace));
    co_await gather(std::move(both));
    EXPECT_EQ(loop.waiting(), 0u); // its deadline left the heap when its fd woke it
    // Wait past that deadline: a stale heap entry would fire now.
    try {
        co_await Socket::Wait<Readable>{idle, {}};
    } catch (const TimeoutError&) {
        trace.push_back("idle timed out");
    }
}
} // namespace

TEST_P(CoroutineIo, AWaiterWokenByItsFdNeverTimesOut) {
    Pair p = pipe_pair(), q = pipe_pair();
    Socket reader(std::move(p.a), Clock::now() + 50ms), idle(std::move(q.a), Clock::now() + 100ms);
    Steps trace;
    run(ready_before_deadline(reader, p.b.get(), idle, trace), GetParam());
    EXPECT_EQ(trace, (Steps{"write", "reader woke", "idle timed out"}));
}

namespace {
Task<void> send_then_close(Socket& sock, std::string data) {
    co_await async_send_all(sock, std::move(data));
    ::shutdown(sock.fd(), SHUT_WR);
}
Task<std::string> read_all(Socket& sock) {
    std::string got;
    while (co_await sock.recv(got)) {
    }
    co_return got;
}
Task<std::string> send_and_read(Socket& a, Socket& b, std::string data) {
    Task<void> sending = send_then_close(a, std::move(data));
    sending.start();
    std::string received = co_await read_all(b);
    co_await sending;
    co_return received;
}
} // namespace

TEST_P(CoroutineIo, SendAllAndRecvMoveAMegabyteThroughASmallBuffer) {
    Pair p = socket_pair(); // far less than 1 MiB of buffer: the sender must park
    Socket a(std::move(p.a), Clock::now() + 10s), b(std::move(p.b), Clock::now() + 10s);
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    std::string received = run(send_and_read(a, b, data), GetParam());
    EXPECT_EQ(received.size(), data.size());
    EXPECT_TRUE(received == data);
}

namespace {
Task<std::string> connect_and_accept(const Endpoint& server, Socket& listener) {
    Socket client(Clock::now() + 5s);
    co_await client.connect(server);
    co_await Socket::Wait<Readable>{listener, {}}; // a connection to accept
    Socket accepted(
        Fd(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)),
        Clock::now() + 5s);
    EXPECT_GE(accepted.fd(), 0);
    EXPECT_EQ(::send(client.fd(), "hello", 5, MSG_NOSIGNAL), 5);
    ::shutdown(client.fd(), SHUT_WR);
    co_return co_await read_all(accepted);
}
Task<void> connect_only(const Endpoint& server) {
    Socket sock(Clock::now() + 5s);
    co_await sock.connect(server);
}
} // namespace

TEST_P(CoroutineIo, ConnectConnectsOrThrowsTheReason) {
    Socket listener(listen_tcp(resolve("127.0.0.1", 0)), Clock::now() + 5s);
    Endpoint server = resolve("127.0.0.1", local_port(listener.fd()));
    EXPECT_EQ(run(connect_and_accept(server, listener), GetParam()), "hello");

    Fd closed = listen_tcp(resolve("127.0.0.1", 0));
    Endpoint nobody = resolve("127.0.0.1", local_port(closed.get()));
    closed.reset(); // now nobody listens there
    try {
        run(connect_only(nobody), GetParam());
        FAIL() << "connected to a closed port";
    } catch (const SysError& e) {
        EXPECT_NE(std::string(e.what()).find("Connection refused"), std::string::npos) << e.what();
    }
}

namespace {
Task<std::vector<std::size_t>> watched_while_waited_on(Socket& a, int other_end) {
    Loop& loop = Loop::current();
    std::vector<std::size_t> waiting;
    Task<void> reader = read_one_byte(a);
    reader.start();
    waiting.push_back(loop.waiting()); // 1: parked on its fd
    EXPECT_EQ(::send(other_end, "x", 1, MSG_NOSIGNAL), 1);
    co_await reader;
    waiting.push_back(loop.waiting()); // 0: and the selector forgot the fd...
    Task<void> again = read_one_byte(a);
    again.start(); // ...so the same fd can be waited on again, by anyone
    waiting.push_back(loop.waiting());
    EXPECT_EQ(::send(other_end, "y", 1, MSG_NOSIGNAL), 1);
    co_await again;
    co_return waiting;
}
} // namespace

TEST_P(CoroutineIo, AnFdIsWatchedOnlyWhileACoroutineWaitsOnIt) {
    Pair p = socket_pair();
    Socket a(std::move(p.a));
    EXPECT_EQ(run(watched_while_waited_on(a, p.b.get()), GetParam()),
              (std::vector<std::size_t>{1, 0, 1}));
}

TEST_P(CoroutineIo, AWaitOnAnFdTheSelectorRefusesFailsAtTheAwait) {
    // epoll refuses a regular file (EPERM); poll and select call it readable at once.
    Socket file(Fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)), Clock::now() + 2s);
    ASSERT_GE(file.fd(), 0);
    Steps trace;
    try {
        run(wait_readable(file, trace, "file"), GetParam());
    } catch (const SysError& e) {
        trace.push_back(e.what());
    }
    ASSERT_EQ(trace.size(), 1u); // either way: no hang, no crash, one outcome
    if (std::string(GetParam()) == "epoll") {
        EXPECT_NE(trace[0].find("epoll_ctl"), std::string::npos) << trace[0];
    }
}

namespace {
Task<std::string> two_waits_on_one_fd(Socket& sock) {
    Steps trace;
    Task<void> first = wait_readable(sock, trace, "first");
    first.start();
    try {
        co_await Socket::Wait<Readable>{sock, {}};
    } catch (const std::logic_error& e) {
        co_return e.what();
    }
    co_return "two coroutines parked on one socket?";
}
} // namespace

TEST_P(CoroutineIo, ASecondCoroutineWaitingOnTheSameSocketFailsAtItsAwait) {
    Pair p = pipe_pair();
    Socket sock(std::move(p.a));
    std::string said = run(two_waits_on_one_fd(sock), GetParam());
    EXPECT_NE(said.find("another coroutine is waiting"), std::string::npos) << said;
}

// --- one loop per thread -----------------------------------------------------------------

TEST(CoroutineThreads, LoopsInTwoThreadsShareNothing) {
    // Each thread has its own current loop, frame counter and read buffer:
    // two crawls of socket pairs at once must not see each other's.
    auto crawl = [](std::size_t* frames, std::string* got) {
        Pair p = socket_pair();
        Socket a(std::move(p.a), Clock::now() + 10s), b(std::move(p.b), Clock::now() + 10s);
        std::size_t before = frame_stats.allocated;
        *got = run(send_and_read(a, b, std::string(200'000, 'z')));
        *frames = frame_stats.allocated - before;
        EXPECT_EQ(frame_stats.live(), 0u);
    };
    std::size_t frames1 = 0, frames2 = 0;
    std::string got1, got2;
    std::thread t1(crawl, &frames1, &got1), t2(crawl, &frames2, &got2);
    t1.join();
    t2.join();
    EXPECT_EQ(got1, std::string(200'000, 'z'));
    EXPECT_EQ(got2, got1);
    EXPECT_EQ(frames1, frames2); // each thread counted only its own frames
    EXPECT_GT(frames1, 0u);
}

// --- the coroutine lowered by hand (lowered/lowered.cpp) -----------------------------------

namespace {
// What a sender does on the loop, in order; before each turn the peer reads
// everything that arrived, so the sender can go on.
struct SendLog : LoopHooks {
    int peer;
    std::string received;
    Steps seen;
    explicit SendLog(int peer_fd) : peer(peer_fd) {}
    void turn_began(std::uint64_t) override {
        if (peer >= 0) read_available(peer, received);
    }
    void parking(Waiter& w) override {
        seen.push_back(std::string("park for ") + (w.events & EVENT_WRITE ? "write" : "read"));
    }
    void woken(Waiter& w) override { seen.push_back(w.timed_out ? "timed out" : "woken"); }
    void step_began(Waiter&) override { seen.push_back("step"); }
};
using Sender = Task<void> (*)(Socket&, std::string);
Task<void> real_send_all(Socket& sock, std::string data) {
    return async_send_all(sock, std::move(data));
}
std::string pattern(std::size_t n) {
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>('a' + i % 26);
    return data;
}
// Sends `bytes` through a socket pair whose peer drains at every turn (or,
// with drain false, never: then the deadline ends it). What happened, in order.
Steps send_with(Sender send, std::size_t bytes, bool drain, std::string& received) {
    Pair p = socket_pair();
    Socket sock(std::move(p.a), Clock::now() + (drain ? 10s : 50ms));
    SendLog log(drain ? p.b.get() : -1);
    Loop loop;
    loop.attach(log);
    try {
        loop.run_until_complete(send(sock, pattern(bytes)));
        if (drain) read_available(p.b.get(), log.received);
        log.seen.push_back("done");
    } catch (const TimeoutError& e) {
        log.seen.push_back(e.what());
    }
    loop.detach(log);
    received = log.received;
    return log.seen;
}
} // namespace

TEST_F(Coroutines, TheLoweredCoroutineDoesWhatTheCompilersDoes) {
    std::string got_real, got_lowered;
    Steps real = send_with(real_send_all, 1 << 20, true, got_real);
    Steps lowered = send_with(lowered_send_all, 1 << 20, true, got_lowered);
    EXPECT_EQ(lowered, real); // the same parks and wakes, in the same order
    EXPECT_GE(std::count(real.begin(), real.end(), "park for write"), 2); // it did wait
    EXPECT_EQ(got_real, pattern(1 << 20));
    EXPECT_EQ(got_lowered, got_real);
    // And the same failure, thrown at the same co_await.
    real = send_with(real_send_all, 1 << 20, false, got_real);
    lowered = send_with(lowered_send_all, 1 << 20, false, got_lowered);
    EXPECT_EQ(lowered, real);
    EXPECT_EQ(real.back(), "send timed out");
}

TEST_F(Coroutines, TheLoweredFrameLeavesTheLoopWhenDestroyedWhileParked) {
    Pair p = socket_pair();
    Socket sock(std::move(p.a));
    Loop loop;
    std::size_t frames = frame_stats.live();
    {
        Task<void> t = lowered_send_all(sock, pattern(1 << 20));
        EXPECT_EQ(frame_stats.live(), frames + 1); // the ramp allocated the frame; nothing ran
        t.start();                                 // sends until the buffer is full, parks
        EXPECT_EQ(loop.waiting(), 1u);
    } // ~Task -> handle.destroy() -> send_all_destroy(): the awaiter leaves the loop
    EXPECT_EQ(loop.waiting(), 0u);
    EXPECT_EQ(frame_stats.live(), frames);
}

// --- the watch (watch/) only looks ------------------------------------------

// Attached with no flag given, the watch keeps nothing on the loop: a main
// task that awaits what nothing will end still gets the loop's error, where a
// watcher parked on the loop would have kept it waiting for ever.
TEST(Watching, WithoutFlagsItLeavesTheLoopsNothingLeftErrorAlone) {
    Loop loop;
    LoopWatchOptions no_flags;
    Watching watched(loop, "test", no_flags);
    auto stuck = []() -> Task<void> { co_await std::suspend_always{}; };
    EXPECT_THROW(loop.run_until_complete(stuck()), std::logic_error);
}

// kill -QUIT while the loop sleeps in the selector: the signal cuts the sleep
// short, and the turn it ends prints the tasks — the page still parked, its
// deadline ahead — then the loop carries on. (The signal comes every 50 ms: one
// that lands before the loop's first sleep only sets the flag, the next wakes it.)
TEST(Watching, AQuitSignalPrintsTheTasksWhileTheLoopSleeps) {
    Loop loop;
    LoopWatchOptions no_flags;
    Watching watched(loop, "test", no_flags);
    auto sleeper = []() -> Task<void> {
        Socket never_ready(Clock::now() + std::chrono::milliseconds(2000));
        co_await never_ready.sendable(); // fd -1: only the deadline ends it
    };
    pthread_t loop_thread = pthread_self();
    std::atomic<bool> done{false};
    std::thread quitter([&] {
        while (!done) {
            pthread_kill(loop_thread, SIGQUIT); // to the loop's thread, asleep in the selector
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    ::testing::internal::CaptureStderr();
    EXPECT_THROW(loop.run_until_complete(sleeper()), TimeoutError);
    done = true;
    quitter.join(); // before `watched` gives SIGQUIT its default back
    std::string printed = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(printed.find("tasks on the loop at turn"), std::string::npos) << printed;
    EXPECT_NE(printed.find("deadline in"), std::string::npos) << printed; // printed while parked
}
