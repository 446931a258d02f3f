// 10's fibers, scheduler and patched socket calls, without a server: socket
// pairs whose other end a test or another fiber holds. This program links
// 10's library whole, so recv/send/connect here are the patched ones.
#include "10_green_threads/asan_fiber.hpp"
#include "10_green_threads/scheduler.hpp"
#include "10_green_threads/stack_overflow.hpp"
#include "net.hpp"
#include "selector.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ladder;
using namespace ladder::green;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t stack_size = 64 * 1024;

struct SocketPair {
    Fd a, b;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            throw std::runtime_error("socketpair");
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

void set_timeout(int fd, int option, std::chrono::milliseconds limit) {
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv), 0);
}

// The timeout as the socket's owner sees it: getsockopt(), which is the patch's.
std::chrono::milliseconds timeout_of(int fd, int option) {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, option, &tv, &len) < 0) return -1ms;
    return std::chrono::seconds(tv.tv_sec) + std::chrono::milliseconds(tv.tv_usec / 1000);
}

// The timeout the kernel has: the system call itself, past the patch.
std::chrono::milliseconds kernel_timeout_of(int fd, int option) {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (::syscall(SYS_getsockopt, fd, SOL_SOCKET, option, &tv, &len) < 0) return -1ms;
    return std::chrono::seconds(tv.tv_sec) + std::chrono::milliseconds(tv.tv_usec / 1000);
}

// A TCP listener on loopback whose accept queue completes the handshakes; connect here.
struct Listener {
    Fd fd = listen_tcp(resolve("127.0.0.1", 0), 16);
    Endpoint where = resolve("127.0.0.1", local_port(fd.get()));
    int connect(int sock) const {
        return ::connect(sock, reinterpret_cast<const sockaddr*>(&where.addr), where.len);
    }
};

int mappings() { // lines of /proc/self/maps: one per mapping (VMA)
    std::ifstream maps("/proc/self/maps");
    int n = 0;
    for (std::string line; std::getline(maps, line);) ++n;
    return n;
}

bool is_mapped(const void* address) { // does a line of /proc/self/maps cover it?
    std::ifstream maps("/proc/self/maps");
    auto a = reinterpret_cast<std::uintptr_t>(address);
    for (std::uintptr_t from = 0, to = 0; maps >> std::hex >> from;) {
        maps.ignore(1);
        maps >> std::hex >> to;
        if (a >= from && a < to) return true;
        maps.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return false;
}

std::string permissions(const void* address) { // "rw-p", "---p": its line of /proc/self/maps
    std::ifstream maps("/proc/self/maps");
    auto a = reinterpret_cast<std::uintptr_t>(address);
    std::string perms;
    for (std::uintptr_t from = 0, to = 0; maps >> std::hex >> from;) {
        maps.ignore(1);
        maps >> std::hex >> to >> perms;
        if (a >= from && a < to) return perms;
        maps.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return "unmapped";
}

struct Fixture : ::testing::Test {
    std::unique_ptr<Selector> selector = make_selector("epoll");
    Scheduler scheduler{*selector, stack_size};
    std::vector<std::string> log;
};

} // namespace

using GreenThreads = Fixture;

TEST_F(GreenThreads, EveryBlockingCallSwitchesAwayAndResumesInOrder) {
    SocketPair one, two;
    scheduler.spawn(1, [&] {
        char c = 0;
        log.push_back("1 recv");
        ::recv(one.a.get(), &c, 1, 0); // nothing there yet: fiber 2 runs meanwhile
        log.push_back(std::string("1 got ") + c);
        ::send(two.a.get(), "y", 1, 0);
        log.push_back("1 recv");
        ::recv(one.a.get(), &c, 1, 0);
        log.push_back(std::string("1 got ") + c);
    });
    scheduler.spawn(2, [&] {
        char c = 0;
        log.push_back("2 send");
        ::send(one.b.get(), "x", 1, 0); // room in the buffer: no reason to switch
        log.push_back("2 recv");
        ::recv(two.b.get(), &c, 1, 0);
        log.push_back(std::string("2 got ") + c);
        ::send(one.b.get(), "z", 1, 0);
        log.push_back("2 done");
    });
    scheduler.run();
    EXPECT_EQ(log, (std::vector<std::string>{"1 recv", "2 send", "2 recv", "1 got x", "1 recv",
                                             "2 got y", "2 done", "1 got z"}));
    // Two starts, and one resume for each of the three recv calls that had to wait.
    EXPECT_EQ(scheduler.switches(), 5);
}

TEST_F(GreenThreads, ASendIntoAFullBufferWaitsWhileTheReaderRuns) {
    SocketPair pair;
    const std::string big(1 << 20, 'x'); // far more than a socket buffer holds
    scheduler.spawn(1, [&] {
        log.push_back("send");
        std::size_t sent = 0;
        while (sent < big.size()) {
            ssize_t n = ::send(pair.a.get(), big.data() + sent, big.size() - sent, 0);
            ASSERT_GT(n, 0);
            sent += static_cast<std::size_t>(n);
        }
        log.push_back("sent");
    });
    scheduler.spawn(2, [&] {
        log.push_back("read");
        std::size_t got = 0;
        char chunk[4096];
        while (got < big.size()) {
            ssize_t n = ::recv(pair.b.get(), chunk, sizeof chunk, 0);
            ASSERT_GT(n, 0);
            got += static_cast<std::size_t>(n);
        }
        log.push_back("read all");
    });
    scheduler.run();
    // The reader started before the sender was done: the send had to wait for it.
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0], "send");
    EXPECT_EQ(log[1], "read");
    EXPECT_GT(scheduler.switches(), 2);
}

TEST_F(GreenThreads, ARecvTimesOutAtSO_RCVTIMEOAsTheKernelWould) {
    SocketPair pair;
    int result = 0, error = 0;
    auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration waited{};
    scheduler.spawn(1, [&] {
        set_timeout(pair.a.get(), SO_RCVTIMEO, 50ms);
        char c;
        log.push_back("1 recv");
        result = static_cast<int>(::recv(pair.a.get(), &c, 1, 0));
        error = errno;
        waited = std::chrono::steady_clock::now() - started;
        log.push_back("1 timed out");
    });
    scheduler.spawn(2, [&] { log.push_back("2 ran"); });
    scheduler.run();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(error, EAGAIN);
    EXPECT_GE(waited, 50ms);
    // A real blocking recv would have held fiber 2 back until the timeout.
    EXPECT_EQ(log, (std::vector<std::string>{"1 recv", "2 ran", "1 timed out"}));
}

TEST_F(GreenThreads, AConnectThatWaitsLetsTheOthersRunAndTimesOutLikeTheKernel) {
    // A listener whose accept queue is full: the kernel drops further SYNs, so
    // the next connect waits for an answer that never comes.
    Fd listener = listen_tcp(resolve("127.0.0.1", 0), 0);
    Endpoint where = resolve("127.0.0.1", local_port(listener.get()));
    std::vector<Fd> queued;
    for (int i = 0; i < 2; ++i)
        queued.push_back(open_stream_socket(where)), start_connect(queued.back().get(), where);
    int result = 0, error = 0;
    scheduler.spawn(1, [&] {
        Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        set_timeout(sock.get(), SO_SNDTIMEO, 100ms);
        log.push_back("1 connect");
        result = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&where.addr), where.len);
        error = errno;
        log.push_back("1 gave up");
    });
    scheduler.spawn(2, [&] { log.push_back("2 ran"); });
    scheduler.run();
    EXPECT_EQ(result, -1);
    EXPECT_EQ(error, EINPROGRESS); // what Linux says when a blocking connect runs past SO_SNDTIMEO
    EXPECT_EQ(log, (std::vector<std::string>{"1 connect", "2 ran", "1 gave up"}));
}

TEST_F(GreenThreads, AFibersSocketKeepsItsTimeoutsFromTheKernel) {
    std::chrono::milliseconds seen{}, in_kernel{}, other_seen{};
    int bad = 0, bad_error = 0;
    scheduler.spawn(1, [&] {
        Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        set_timeout(sock.get(), SO_RCVTIMEO, 1500ms);
        set_timeout(sock.get(), SO_SNDTIMEO, 700ms);
        seen = timeout_of(sock.get(), SO_RCVTIMEO);
        other_seen = timeout_of(sock.get(), SO_SNDTIMEO);
        in_kernel = kernel_timeout_of(sock.get(), SO_RCVTIMEO);
        timeval wrong{0, 1'000'000}; // the kernel says EDOM, and so must the patch
        bad = ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &wrong, sizeof wrong);
        bad_error = errno;
    });
    scheduler.run();
    EXPECT_EQ(seen, 1500ms);
    EXPECT_EQ(other_seen, 700ms);
    EXPECT_EQ(in_kernel, 0ms); // no system call was made for it
    EXPECT_EQ(bad, -1);
    EXPECT_EQ(bad_error, EDOM);
}

TEST_F(GreenThreads, AKeptTimeoutIsForgottenWhenItsFdIsClosed) {
    std::vector<std::chrono::milliseconds> seen;
    std::vector<bool> same_fd;
    scheduler.spawn(1, [&] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        set_timeout(fd, SO_RCVTIMEO, 1500ms);
        ::close(fd);
        // The kernel gives the lowest free number: fd again, here to a socket not made by socket().
        int pair[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        same_fd.push_back(pair[0] == fd);
        seen.push_back(timeout_of(pair[0], SO_RCVTIMEO));
        ::close(pair[0]);
        ::close(pair[1]);
        // A fiber's socket again, which lets go of its fd without close()...
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        set_timeout(fd, SO_RCVTIMEO, 1500ms);
        ::syscall(SYS_close, fd);
        // ...and the next socket() on that number starts with nothing kept.
        int again = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        same_fd.push_back(again == fd);
        seen.push_back(timeout_of(again, SO_RCVTIMEO));
        ::close(again);
    });
    scheduler.run();
    EXPECT_EQ(same_fd, (std::vector<bool>{true, true}));
    EXPECT_EQ(seen, (std::vector<std::chrono::milliseconds>{0ms, 0ms}));
}

TEST_F(GreenThreads, ARecvOnAFibersSocketTimesOutAtTheKeptTimeout) {
    Listener listener;
    int result = 0, error = 0;
    std::chrono::milliseconds in_kernel{};
    auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration waited{};
    scheduler.spawn(1, [&] {
        Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(listener.connect(sock.get()), 0);
        set_timeout(sock.get(), SO_RCVTIMEO, 50ms);
        in_kernel = kernel_timeout_of(sock.get(), SO_RCVTIMEO);
        // Spawned now, so that it runs while this fiber waits, not during the connect.
        scheduler.spawn(2, [&] { log.push_back("2 ran"); });
        char c;
        log.push_back("1 recv");
        result = static_cast<int>(::recv(sock.get(), &c, 1, 0)); // the server never answers
        error = errno;
        waited = std::chrono::steady_clock::now() - started;
        log.push_back("1 timed out");
    });
    scheduler.run();
    EXPECT_EQ(in_kernel, 0ms); // so it was the patch's deadline that ended the wait
    EXPECT_EQ(result, -1);
    EXPECT_EQ(error, EAGAIN);
    EXPECT_GE(waited, 50ms);
    EXPECT_EQ(log, (std::vector<std::string>{"1 recv", "2 ran", "1 timed out"}));
}

TEST_F(GreenThreads, OffAFiberAFibersSocketTellsTheKernelItsTimeoutsFirst) {
    Listener listener;
    Fd sock;
    scheduler.spawn(1, [&] {
        sock.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(listener.connect(sock.get()), 0);
        set_timeout(sock.get(), SO_RCVTIMEO, 1500ms);
    });
    scheduler.run();
    EXPECT_EQ(kernel_timeout_of(sock.get(), SO_RCVTIMEO), 0ms);
    Fd server(::accept(listener.fd.get(), nullptr, nullptr));
    ASSERT_EQ(::send(server.get(), "k", 1, 0), 1);
    char c;
    EXPECT_EQ(::recv(sock.get(), &c, 1, 0), 1); // a real blocking recv: the kernel's timeout counts
    EXPECT_EQ(kernel_timeout_of(sock.get(), SO_RCVTIMEO), 1500ms);
    EXPECT_EQ(timeout_of(sock.get(), SO_RCVTIMEO), 1500ms);
}

TEST_F(GreenThreads, ASocketItsOwnerMadeNonBlockingDoesNotWait) {
    Listener listener;
    SocketPair pair;
    set_nonblocking(pair.a.get()); // fcntl, as common/net.cpp does it
    int recv_result = 0, recv_error = 0, connect_result = 0, connect_error = 0;
    scheduler.spawn(1, [&] {
        char c;
        recv_result = static_cast<int>(::recv(pair.a.get(), &c, 1, 0));
        recv_error = errno;
        Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        connect_result = listener.connect(sock.get());
        connect_error = errno;
        log.push_back("1 done");
    });
    scheduler.spawn(2, [&] { log.push_back("2 ran"); });
    scheduler.run();
    EXPECT_EQ(recv_result, -1);
    EXPECT_EQ(recv_error, EAGAIN);
    EXPECT_TRUE(connect_result == 0 || connect_error == EINPROGRESS) << connect_error;
    EXPECT_EQ(log, (std::vector<std::string>{"1 done", "2 ran"})); // fiber 1 never switched away
    EXPECT_EQ(scheduler.switches(), 2);
}

// connect() on a fiber makes the socket non-blocking for the call: after it,
// the kernel has the mode the socket's owner believes it has.
TEST_F(GreenThreads, ASocketIsNonBlockingOnlyForTheConnectOnAFiber) {
    Listener listener;
    Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int result = -1;
    scheduler.spawn(1, [&] { result = listener.connect(sock.get()); });
    scheduler.run();
    EXPECT_EQ(result, 0);
    EXPECT_FALSE(::fcntl(sock.get(), F_GETFL) & O_NONBLOCK); // put back, as its owner believes
}

TEST_F(GreenThreads, OffAFiberTheCallsAreTheRealBlockingOnes) {
    SocketPair pair;
    set_timeout(pair.a.get(), SO_RCVTIMEO, 20ms);
    char c;
    EXPECT_EQ(::recv(pair.a.get(), &c, 1, 0), -1); // the kernel waited and gave up
    EXPECT_EQ(errno, EAGAIN);
    ASSERT_EQ(::send(pair.b.get(), "k", 1, 0), 1);
    EXPECT_EQ(::recv(pair.a.get(), &c, 1, 0), 1);
    EXPECT_EQ(c, 'k');
    EXPECT_EQ(scheduler.switches(), 0);
}

TEST_F(GreenThreads, EveryStackIsUnmappedWhenTheRunEnds) {
    int before = mappings();
    int during = 0;
    std::vector<const void*> stacks; // where each fiber's stack was
    // More fibers than one chunk holds: two chunks, each unmapped whole.
    std::vector<SocketPair> pairs(StackPool::stacks_per_chunk + 20);
    for (auto& pair : pairs)
        scheduler.spawn(0, [&] {
            stacks.push_back(Fiber::current()->stack().bottom());
            char c;
            ::recv(pair.a.get(), &c, 1, 0); // all of them block here, their stacks in use
        });
    scheduler.spawn(1, [&] {
        during = mappings();
        for (auto& pair : pairs) ASSERT_EQ(::send(pair.b.get(), "x", 1, 0), 1);
    });
    scheduler.run();
    EXPECT_GE(during, before + 2 * static_cast<int>(pairs.size())); // a stack and its guard each
    EXPECT_EQ(StackPool::mapped(), 0);
    ASSERT_EQ(stacks.size(), pairs.size());
    for (const void* stack : stacks) EXPECT_FALSE(is_mapped(stack)) << stack;
#ifndef LADDER_ASAN // ASan maps memory of its own as the program runs
    EXPECT_EQ(mappings(), before);
#endif
}

namespace {
// Write one byte in every 512 of a `Bytes` frame on the running stack. The
// frame's address escapes (the empty asm), so its layout is real: clang -O2
// keeps a local volatile array's written bytes only, 16 apart.
template <std::size_t Bytes>
[[gnu::noinline]] void touch_stack() {
    char frame[Bytes];
    for (std::size_t i = 0; i < Bytes; i += 512) frame[i] = 1;
    asm volatile("" : : "r"(frame) : "memory");
}
} // namespace

TEST_F(GreenThreads, AFinishedFibersStackIsTheNextFibersWithItsPagesAlreadyTouched) {
    const void* first = nullptr;
    const void* second = nullptr;
    std::size_t touched_by_first = 0, there_for_second = 0;
    scheduler.spawn(1, [&] {
        touch_stack<20 * 1024>(); // leaves more than the usual pages touched
        first = Fiber::current()->stack().bottom();
        touched_by_first = Fiber::current()->stack().touched_bytes();
    });
    scheduler.spawn(2, [&] { // runs after fiber 1 has ended and given its stack back
        scheduler.spawn(3, [&] {
            second = Fiber::current()->stack().bottom();
            there_for_second = Fiber::current()->stack().touched_bytes();
        });
    });
    scheduler.run();
    EXPECT_EQ(second, first);
    EXPECT_GE(touched_by_first, 20u * 1024);
    EXPECT_GE(there_for_second, touched_by_first); // no page fault to get them again
}

TEST(StackPool, MapsAChunkOfStacksAtATimeEachWithItsOwnGuard) {
    int mapped_before = StackPool::mapped();
    StackPool pool(stack_size);
    std::vector<FiberStack*> taken;
    for (std::size_t i = 0; i < StackPool::stacks_per_chunk; ++i) taken.push_back(&pool.take());
    EXPECT_EQ(StackPool::mapped(), mapped_before + static_cast<int>(StackPool::stacks_per_chunk));
    taken.push_back(&pool.take()); // one more: a second chunk
    EXPECT_EQ(StackPool::mapped(),
              mapped_before + 2 * static_cast<int>(StackPool::stacks_per_chunk));
    for (FiberStack* stack : taken) {
        auto bottom = static_cast<char*>(stack->bottom());
        EXPECT_EQ(permissions(bottom), "rw-p");
        EXPECT_EQ(permissions(bottom + stack_size - 1), "rw-p");
        EXPECT_EQ(permissions(bottom - 1), "---p"); // the guard right below it
        EXPECT_EQ(permissions(bottom - FiberStack::guard_bytes), "---p");
        EXPECT_TRUE(stack->in_guard(bottom - 1));
        EXPECT_FALSE(stack->in_guard(bottom));
    }
    // A fresh stack's top is memory before anything ran on it (one madvise, not page faults).
    EXPECT_EQ(taken[0]->touched_bytes(), StackPool::prefault_bytes);
    EXPECT_EQ(pool.in_use(), taken.size());
    pool.give_back(*taken[3]);
    pool.give_back(*taken[5]);
    EXPECT_EQ(&pool.take(), taken[5]); // the last one given back comes out first
    EXPECT_EQ(&pool.take(), taken[3]);
    std::vector<const void*> bottoms;
    for (FiberStack* stack : taken) bottoms.push_back(stack->bottom()), pool.give_back(*stack);
    pool.release(); // the FiberStacks are gone with their chunks
    EXPECT_EQ(StackPool::mapped(), mapped_before);
    for (const void* bottom : bottoms) EXPECT_FALSE(is_mapped(bottom));
}

TEST_F(GreenThreads, TouchedStackIsWhatTheFiberUsedNotWhatItReserved) {
    Scheduler big(*selector, 256 * 1024);
    std::size_t idle = 0, deep = 0;
    big.spawn(1, [&] { idle = Fiber::current()->stack().touched_bytes(); });
    big.spawn(2, [&] {
        touch_stack<96 * 1024>();
        deep = Fiber::current()->stack().touched_bytes();
    });
    big.run();
    EXPECT_GT(idle, 0u);
    EXPECT_LE(idle, 16u * 1024);
    EXPECT_GE(deep, 96u * 1024);
    EXPECT_LT(deep, 256u * 1024);
}

TEST_F(GreenThreads, AnExceptionThatEscapesAFiberComesOutOfRun) {
    scheduler.spawn(1, [] { throw std::runtime_error("escaped"); });
    EXPECT_THROW(scheduler.run(), std::runtime_error);
    EXPECT_EQ(scheduler.stacks().in_use(), 0u); // the fiber gave its stack back all the same
}

namespace {
volatile bool forever = true;
int recurse(int depth) {
    volatile char frame[512];
    frame[0] = static_cast<char>(depth);
    return forever ? recurse(depth + 1) + frame[0] : depth;
}
} // namespace

TEST(GreenThreadsDeathTest, RunningOffTheStackIsOneClearLineAndExit1) {
    EXPECT_EXIT(
        {
            report_stack_overflows();
            auto selector = make_selector("epoll");
            Scheduler scheduler(*selector, 32 * 1024);
            scheduler.spawn(7, [] { recurse(0); });
            scheduler.run();
        },
        ::testing::ExitedWithCode(1),
        "^page 7: fiber stack overflow at 32 KiB: raise --stack-kb\n$");
}

TEST(GreenThreadsDeathTest, ARecycledStackIsStillGuarded) {
    EXPECT_EXIT(
        {
            report_stack_overflows();
            auto selector = make_selector("epoll");
            Scheduler scheduler(*selector, 32 * 1024);
            const void* first = nullptr;
            scheduler.spawn(7, [&] { first = Fiber::current()->stack().bottom(); });
            scheduler.spawn(8, [&] {
                scheduler.spawn(9, [&] { // on fiber 7's stack, given back when it ended
                    if (Fiber::current()->stack().bottom() != first) ::_exit(3);
                    recurse(0);
                });
            });
            scheduler.run();
        },
        ::testing::ExitedWithCode(1),
        "^page 9: fiber stack overflow at 32 KiB: raise --stack-kb\n$");
}
