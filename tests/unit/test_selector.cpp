// The selector, against every backend: each TEST_P runs with epoll, poll and select.
#include "error.hpp"
#include "net.hpp"
#include "selector.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace ladder;
using namespace std::chrono_literals;

namespace {

struct Pair {
    Fd a, b;
};

// A connected pair of non-blocking Unix stream sockets.
Pair socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        throw_errno("socketpair");
    return {Fd(fds[0]), Fd(fds[1])};
}

// A non-blocking pipe: a is the read end, b the write end.
Pair pipe_pair() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) throw_errno("pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

void write_byte(int fd) {
    ASSERT_EQ(::write(fd, "x", 1), 1);
}

// A socket whose non-blocking connect to 127.0.0.1 was refused (nobody listens there).
Fd refused_socket() {
    int port = 0;
    {
        Fd listener = listen_tcp(resolve("127.0.0.1", 0));
        port = local_port(listener.get());
    } // closed: now nothing listens on `port`
    Endpoint server = resolve("127.0.0.1", port);
    Fd sock = open_stream_socket(server);
    start_connect(sock.get(), server);
    return sock;
}

class SelectorTest : public ::testing::TestWithParam<std::string> {
  protected:
    std::unique_ptr<Selector> sel = make_selector(GetParam());

    // What one select() reported, when exactly one fd is expected.
    Ready only(Timeout timeout = 0ns) {
        auto ready = sel->select(timeout);
        if (ready.size() != 1) {
            ADD_FAILURE() << "expected 1 ready fd, got " << ready.size();
            return Ready{{}, 0};
        }
        return ready[0];
    }
};

INSTANTIATE_TEST_SUITE_P(Backends, SelectorTest, ::testing::Values("epoll", "poll", "select"),
                         [](const auto& info) { return info.param; });

TEST_P(SelectorTest, NameIsTheBackend) {
    EXPECT_EQ(sel->name(), GetParam());
}

TEST_P(SelectorTest, AddModifyRemoveKeepTheKeyTable) {
    auto [a, b] = socket_pair();
    EXPECT_EQ(sel->size(), 0u);
    EXPECT_FALSE(sel->contains(a.get()));
    sel->add(a.get(), EVENT_READ);
    sel->add(b.get(), EVENT_WRITE);
    EXPECT_EQ(sel->size(), 2u);
    EXPECT_TRUE(sel->contains(a.get()));
    EXPECT_EQ(sel->key(a.get()).fd, a.get());
    EXPECT_EQ(sel->key(a.get()).events, EVENT_READ);
    sel->modify(a.get(), EVENT_READ | EVENT_WRITE);
    EXPECT_EQ(sel->key(a.get()).events, EVENT_READ | EVENT_WRITE);
    sel->remove(a.get());
    EXPECT_EQ(sel->size(), 1u);
    EXPECT_FALSE(sel->contains(a.get()));
    EXPECT_TRUE(sel->contains(b.get()));
    EXPECT_FALSE(sel->contains(-1));
}

TEST_P(SelectorTest, ReadyEventsAreMaskedByTheKey) {
    auto [a, b] = socket_pair();
    write_byte(b.get()); // a is now readable and (as always) writable
    sel->add(a.get(), EVENT_READ);
    Ready r = only();
    EXPECT_EQ(r.key.fd, a.get());
    EXPECT_EQ(r.key.events, EVENT_READ);
    EXPECT_EQ(r.events, EVENT_READ);
    sel->modify(a.get(), EVENT_WRITE);
    EXPECT_EQ(only().events, EVENT_WRITE);
    sel->modify(a.get(), EVENT_READ | EVENT_WRITE);
    EXPECT_EQ(only().events, EVENT_READ | EVENT_WRITE);
}

TEST_P(SelectorTest, ModifyChangesWhatTheKernelWatches) {
    auto [a, b] = socket_pair(); // nothing to read yet, but writable
    sel->add(a.get(), EVENT_READ);
    EXPECT_TRUE(sel->select(0ns).empty());
    sel->modify(a.get(), EVENT_WRITE);
    EXPECT_EQ(only().events, EVENT_WRITE);
}

TEST_P(SelectorTest, PipeBecomesReadableAndStopsBeingReadable) {
    auto [r, w] = pipe_pair();
    sel->add(r.get(), EVENT_READ);
    EXPECT_TRUE(sel->select(0ns).empty());
    write_byte(w.get());
    EXPECT_EQ(only(5s).events, EVENT_READ);
    char c;
    ASSERT_EQ(::read(r.get(), &c, 1), 1);
    EXPECT_TRUE(sel->select(0ns).empty()); // level-triggered: drained means quiet again
}

TEST_P(SelectorTest, WakesWhenAnotherThreadWrites) {
    auto [r, w] = pipe_pair();
    sel->add(r.get(), EVENT_READ);
    std::thread writer([fd = w.get()] {
        std::this_thread::sleep_for(20ms);
        write_byte(fd);
    });
    auto start = Clock::now();
    Ready ready = only(30s);
    writer.join();
    EXPECT_EQ(ready.events, EVENT_READ);
    EXPECT_LT(Clock::now() - start, 10s); // woken by the write, not by the timeout
}

TEST_P(SelectorTest, SocketBecomesWritableWhenThePeerDrains) {
    auto [a, b] = socket_pair();
    std::string block(64 * 1024, 'x');
    while (::send(a.get(), block.data(), block.size(), MSG_NOSIGNAL) > 0) {
    } // fill to EAGAIN
    sel->add(a.get(), EVENT_WRITE);
    EXPECT_TRUE(sel->select(0ns).empty());
    while (::recv(b.get(), block.data(), block.size(), 0) > 0) {
    } // drain everything
    EXPECT_EQ(only(5s).events, EVENT_WRITE);
}

TEST_P(SelectorTest, ZeroOrNegativeTimeoutReturnsAtOnce) {
    auto [r, w] = pipe_pair();
    sel->add(r.get(), EVENT_READ);
    auto start = Clock::now();
    EXPECT_TRUE(sel->select(0ns).empty());
    EXPECT_TRUE(sel->select(-5ms).empty());
    EXPECT_LT(Clock::now() - start, 1s);
}

TEST_P(SelectorTest, TinyPositiveTimeoutStillWaitsOneMillisecond) {
    auto [r, w] = pipe_pair();
    sel->add(r.get(), EVENT_READ);
    auto start = Clock::now();
    EXPECT_TRUE(sel->select(1ns).empty()); // rounded up to 1 ms, never down to "just look"
    auto waited = Clock::now() - start;
    EXPECT_GE(waited, 1ms); // the kernel never ends a wait early
    EXPECT_LT(waited, 2s);
}

TEST_P(SelectorTest, InvalidArgumentsThrowAndChangeNothing) {
    auto [a, b] = socket_pair();
    EXPECT_THROW(sel->add(a.get(), 0), std::invalid_argument);
    EXPECT_THROW(sel->add(a.get(), 4), std::invalid_argument);
    EXPECT_THROW(sel->add(a.get(), EVENT_READ | 4), std::invalid_argument);
    EXPECT_THROW(sel->add(-1, EVENT_READ), std::invalid_argument);
    EXPECT_EQ(sel->size(), 0u);
    EXPECT_FALSE(sel->contains(a.get()));

    EXPECT_THROW(sel->remove(a.get()), std::invalid_argument);
    EXPECT_THROW(sel->modify(a.get(), EVENT_READ), std::invalid_argument);
    EXPECT_THROW(sel->modify(a.get(), EVENT_READ, nullptr), std::invalid_argument);
    EXPECT_THROW(sel->key(a.get()), std::invalid_argument);

    sel->add(a.get(), EVENT_READ);
    EXPECT_THROW(sel->add(a.get(), EVENT_WRITE), std::invalid_argument);
    EXPECT_THROW(sel->modify(a.get(), 0), std::invalid_argument);
    EXPECT_THROW(sel->modify(a.get(), 4), std::invalid_argument);
    EXPECT_EQ(sel->key(a.get()).events, EVENT_READ);
    EXPECT_EQ(sel->size(), 1u);
}

TEST_P(SelectorTest, HangUpIsReadableAndWritable) {
    auto [r, w] = pipe_pair();
    w.reset(); // the read end now reports only a hang-up: no data, no POLLOUT
    sel->add(r.get(), EVENT_READ | EVENT_WRITE);
    if (GetParam() == "select") { // the kernel's select() puts a hang-up in the read set only
        EXPECT_EQ(only().events, EVENT_READ);
        sel->modify(r.get(), EVENT_WRITE);
        EXPECT_TRUE(sel->select(0ns).empty());
        return;
    }
    EXPECT_EQ(only().events, EVENT_READ | EVENT_WRITE);
    sel->modify(r.get(), EVENT_READ);
    EXPECT_EQ(only().events, EVENT_READ);
    sel->modify(r.get(), EVENT_WRITE);
    EXPECT_EQ(only().events, EVENT_WRITE);
}

TEST_P(SelectorTest, ErrorOnlyWakesTheRegisteredDirection) {
    auto [r, w] = pipe_pair();
    r.reset(); // the write end now reports an error (and POLLOUT), never POLLIN
    sel->add(w.get(), EVENT_READ);
    EXPECT_EQ(only().events, EVENT_READ);
}

TEST_P(SelectorTest, PeerClosedSocketpairIsReadableAndWritable) {
    auto [a, b] = socket_pair();
    b.reset();
    sel->add(a.get(), EVENT_READ | EVENT_WRITE);
    EXPECT_EQ(only().events, EVENT_READ | EVENT_WRITE);
}

TEST_P(SelectorTest, RefusedConnectIsReportedInEitherDirection) {
    Fd both = refused_socket();
    sel->add(both.get(), EVENT_READ | EVENT_WRITE);
    EXPECT_EQ(only(5s).events, EVENT_READ | EVENT_WRITE);
    sel->remove(both.get());

    Fd reader = refused_socket(); // waits to read: ERR/HUP must still wake it
    sel->add(reader.get(), EVENT_READ);
    EXPECT_EQ(only(5s).events, EVENT_READ);
    sel->remove(reader.get());

    Fd writer = refused_socket();
    sel->add(writer.get(), EVENT_WRITE);
    EXPECT_EQ(only(5s).events, EVENT_WRITE);
}

// A signal (no SA_RESTART) interrupting a wait without end: select() returns an empty list.
std::atomic<int> signals_seen{0};
extern "C" void count_signal(int) {
    signals_seen.fetch_add(1);
}

TEST_P(SelectorTest, SignalDuringEndlessWaitReturnsEmpty) {
    struct sigaction sa = {};
    struct sigaction old = {};
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);

    auto [r, w] = pipe_pair(); // never becomes readable
    sel->add(r.get(), EVENT_READ);
    std::atomic<bool> returned{false};
    pthread_t waiter = ::pthread_self();
    std::thread kicker([&] {
        // Keep signalling: a signal that lands before the wait starts interrupts nothing.
        while (!returned) {
            ::pthread_kill(waiter, SIGUSR1);
            std::this_thread::sleep_for(20ms);
        }
    });
    int before = signals_seen;
    bool empty = sel->select(std::nullopt).empty();
    returned = true;
    kicker.join();
    ::sigaction(SIGUSR1, &old, nullptr);
    EXPECT_TRUE(empty);
    EXPECT_GT(signals_seen, before);
}

TEST_P(SelectorTest, DataPointerRoundTrips) {
    auto [a, b] = socket_pair();
    write_byte(b.get());
    int first = 1, second = 2;
    sel->add(a.get(), EVENT_READ, &first);
    EXPECT_EQ(only().key.data, &first);
    sel->modify(a.get(), EVENT_READ, &second); // data only: no kernel change needed
    EXPECT_EQ(only().key.data, &second);
    sel->modify(a.get(), EVENT_READ | EVENT_WRITE); // keeps the data
    Ready r = only();
    EXPECT_EQ(r.key.data, &second);
    EXPECT_EQ(r.key.events, EVENT_READ | EVENT_WRITE);
    EXPECT_EQ(sel->key(a.get()).data, &second);
}

TEST_P(SelectorTest, RemovedFdIsNotReportedAndCanBeAddedAgain) {
    auto [a, b] = socket_pair();
    write_byte(b.get());
    int tag = 7;
    sel->add(a.get(), EVENT_READ);
    sel->remove(a.get());
    EXPECT_TRUE(sel->select(0ns).empty());
    sel->add(a.get(), EVENT_WRITE, &tag);
    Ready r = only();
    EXPECT_EQ(r.events, EVENT_WRITE);
    EXPECT_EQ(r.key.data, &tag);
}

TEST_P(SelectorTest, RemovingOneFdLeavesTheOthersIntact) {
    Pair p[3] = {socket_pair(), socket_pair(), socket_pair()};
    int tags[3] = {0, 1, 2};
    for (int i = 0; i < 3; ++i) {
        write_byte(p[i].b.get());
        sel->add(p[i].a.get(), EVENT_READ, &tags[i]);
    }
    sel->remove(p[0].a.get()); // poll moves the last entry into the hole
    sel->modify(p[2].a.get(), EVENT_WRITE);
    auto ready = sel->select(0ns);
    ASSERT_EQ(ready.size(), 2u);
    for (const Ready& r : ready) {
        if (r.key.fd == p[1].a.get()) {
            EXPECT_EQ(r.key.data, &tags[1]);
            EXPECT_EQ(r.events, EVENT_READ);
        } else {
            EXPECT_EQ(r.key.fd, p[2].a.get());
            EXPECT_EQ(r.key.data, &tags[2]);
            EXPECT_EQ(r.events, EVENT_WRITE);
        }
    }
    sel->remove(p[2].a.get());
    EXPECT_EQ(only().key.fd, p[1].a.get());
}

TEST_P(SelectorTest, EveryFdReadyBothWaysIsReported) {
    Pair p[3] = {socket_pair(), socket_pair(), socket_pair()};
    for (Pair& pair : p) {
        write_byte(pair.b.get()); // readable, and (as always) writable
        sel->add(pair.a.get(), EVENT_READ | EVENT_WRITE);
    }
    auto ready = sel->select(0ns); // select() counts 6 bits for these 3 fds
    ASSERT_EQ(ready.size(), 3u);
    for (const Ready& r : ready) EXPECT_EQ(r.events, EVENT_READ | EVENT_WRITE) << r.key.fd;
}

// An fd numbered FD_SETSIZE (1024) or more: epoll and poll watch it like any
// other; select has no bit for it and must refuse before touching its fd_set.
TEST_P(SelectorTest, OnlySelectRefusesAnFdPastFdSetsize) {
    raise_fd_limit();
    auto [a, b] = socket_pair();
    Fd high(::fcntl(a.get(), F_DUPFD_CLOEXEC, FD_SETSIZE)); // the lowest free fd >= 1024
    if (!high) GTEST_SKIP() << "cannot open an fd numbered " << FD_SETSIZE << " here";
    Fd low(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0)); // a second name for the same socket
    write_byte(b.get());
    int tag = 5;
    sel->add(low.get(), EVENT_READ, &tag);
    if (GetParam() != "select") {
        sel->add(high.get(), EVENT_READ);
        EXPECT_EQ(sel->select(0ns).size(), 2u);
        return;
    }
    try {
        sel->add(high.get(), EVENT_READ);
        FAIL() << "select accepted fd " << high.get();
    } catch (const SelectorLimitError& e) {
        EXPECT_EQ(std::string(e.what()), "select() cannot watch fd " + std::to_string(high.get()) +
                                             ": FD_SETSIZE is 1024; use --selector poll or epoll");
    }
    EXPECT_THROW(sel->add(high.get(), EVENT_WRITE), std::invalid_argument); // the same, as its base
    // Nothing changed: the refused fd is not in the table, the others still work.
    EXPECT_FALSE(sel->contains(high.get()));
    EXPECT_EQ(sel->size(), 1u);
    Ready r = only();
    EXPECT_EQ(r.key.fd, low.get());
    EXPECT_EQ(r.key.data, &tag);
}

TEST(SelectSelector, WatchesTheLastFdBelowFdSetsize) {
    raise_fd_limit();
    auto [a, b] = socket_pair();
    Fd last(::fcntl(a.get(), F_DUPFD_CLOEXEC, FD_SETSIZE - 1));
    if (last.get() != FD_SETSIZE - 1) GTEST_SKIP() << "fd " << FD_SETSIZE - 1 << " is taken";
    auto sel = make_selector("select");
    sel->add(last.get(), EVENT_READ);
    write_byte(b.get());
    auto ready = sel->select(0ns);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].key.fd, FD_SETSIZE - 1);
    sel->remove(last.get()); // the highest fd goes: select() must stop looking that far
    EXPECT_TRUE(sel->select(0ns).empty());
}

// Edge-triggered epoll reports what arrives, once; level-triggered (the
// default, PipeBecomesReadableAndStopsBeingReadable) reports what is there.
TEST(EdgeTriggeredEpoll, ReportsEachArrivalOnceNotWhatIsLeftUnread) {
    auto sel = make_selector("epoll", Trigger::edge);
    EXPECT_EQ(sel->name(), "epoll (edge-triggered)");
    auto [r, w] = pipe_pair();
    sel->add(r.get(), EVENT_READ);
    ASSERT_EQ(::write(w.get(), "xy", 2), 2);
    ASSERT_EQ(sel->select(0ns).size(), 1u);
    EXPECT_TRUE(sel->select(0ns).empty()); // still 2 bytes to read, but nothing new came
    char c;
    ASSERT_EQ(::read(r.get(), &c, 1), 1);
    EXPECT_TRUE(sel->select(0ns).empty()); // 1 byte left: still nothing new
    write_byte(w.get());
    ASSERT_EQ(sel->select(0ns).size(), 1u); // a new arrival: one more report
    EXPECT_TRUE(sel->select(0ns).empty());
}

TEST(MakeSelector, UnknownBackendThrows) {
    EXPECT_THROW(make_selector("kqueue"), std::invalid_argument);
    EXPECT_THROW(make_selector(""), std::invalid_argument);
    EXPECT_EQ(make_selector()->name(), "epoll");
    EXPECT_EQ(make_selector("select")->name(), "select");
}

TEST(MakeSelector, OnlyEpollCanBeEdgeTriggered) {
    EXPECT_THROW(make_selector("poll", Trigger::edge), std::invalid_argument);
    EXPECT_THROW(make_selector("select", Trigger::edge), std::invalid_argument);
    EXPECT_EQ(make_selector("epoll", Trigger::level)->name(), "epoll");
}

TEST(TimeoutToMs, RoundsUpToWholeMilliseconds) {
    EXPECT_EQ(timeout_to_ms(std::nullopt), -1);
    EXPECT_EQ(timeout_to_ms(0ns), 0);
    EXPECT_EQ(timeout_to_ms(-1ns), 0);
    EXPECT_EQ(timeout_to_ms(-5s), 0);
    EXPECT_EQ(timeout_to_ms(1ns), 1);
    EXPECT_EQ(timeout_to_ms(1ms), 1);
    EXPECT_EQ(timeout_to_ms(1500us), 2);
    EXPECT_EQ(timeout_to_ms(1ms + 1ns), 2);
    EXPECT_EQ(timeout_to_ms(3s), 3000);
    EXPECT_EQ(timeout_to_ms(std::chrono::hours(24 * 365 * 100)), 1'000'000'000); // clamped
}

} // namespace
