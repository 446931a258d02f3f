// Stage 11 piece by piece: the ring's one-line refusals, requests that
// complete, deadlines the kernel enforces, batching, and the rule that makes
// completion I/O safe — a frame the kernel may still write into is never
// freed before its request has completed. Run under ASan too
// (./ladder test --sanitize test_io_uring).
//
// Where this machine has no io_uring, every test that needs one is skipped
// with the reason the ring gave.
#include "07_coroutines/task.hpp"
#include "11_io_uring/io.hpp"
#include "11_io_uring/loop.hpp"
#include "11_io_uring/ring.hpp"
#include "error.hpp"
#include "net.hpp"
#include "syscall_count.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace ladder;
using namespace ladder::uring;
using namespace std::chrono_literals;

namespace {

// Needs a ring: skipped, with the ring's reason, where there is none. Every
// test must free every coroutine frame it made.
class IoUring : public ::testing::Test {
  protected:
    void SetUp() override {
        try {
            Ring probe(8);
        } catch (const RingUnavailable& e) {
            GTEST_SKIP() << e.what();
        }
        live_before_ = frame_stats.live();
    }
    void TearDown() override {
        if (!IsSkipped()) {
            EXPECT_EQ(frame_stats.live(), live_before_) << "coroutine frames leaked";
        }
    }
    std::size_t live_before_ = 0;
};

struct Pair {
    Fd a, b;
};

Pair socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throw_errno("socketpair");
    return {Fd(fds[0]), Fd(fds[1])};
}

bool fd_is_open(int fd) {
    return ::fcntl(fd, F_GETFD) >= 0;
}

// One recv into a buffer in this frame; what arrived, or what was thrown.
Task<std::string> recv_once(Fd fd, Clock::time_point deadline = never) {
    Socket sock(std::move(fd), deadline);
    std::array<char, 64> buffer; // the kernel writes here while we are parked
    std::size_t n = co_await sock.recv(buffer);
    co_return std::string(buffer.data(), n);
}

Task<std::string> recv_or_error(Fd fd, Clock::time_point deadline) {
    try {
        co_return co_await recv_once(std::move(fd), deadline);
    } catch (const std::exception& e) {
        co_return std::string("error: ") + e.what();
    }
}

} // namespace

TEST(Ring, LadderNoIoUringPretendsTheKernelRefusedWithOneLineWhy) {
    ::setenv("LADDER_NO_IO_URING", "ENOSYS", 1);
    try {
        Ring ring(8);
        ADD_FAILURE() << "no RingUnavailable";
    } catch (const RingUnavailable& e) {
        std::string why = e.what();
        EXPECT_NE(why.find("no io_uring"), std::string::npos) << why;
        EXPECT_NE(why.find("ENOSYS"), std::string::npos) << why;
        EXPECT_NE(why.find("simulated"), std::string::npos) << why;
        EXPECT_EQ(why.find('\n'), std::string::npos) << why;
    }
    ::setenv("LADDER_NO_IO_URING", "EPERM", 1);
    EXPECT_THROW(Loop loop, RingUnavailable); // the loop is the ring's first user
    ::unsetenv("LADDER_NO_IO_URING");
}

TEST_F(IoUring, ARecvCompletesWithTheBytesInTheFramesBuffer) {
    Loop loop;
    auto [a, b] = socket_pair();
    ASSERT_EQ(::send(b.get(), "hello", 5, 0), 5);
    EXPECT_EQ(loop.run_until_complete(recv_once(std::move(a))), "hello");
}

TEST_F(IoUring, ThePeerClosingCompletesARecvWithZeroBytes) {
    Loop loop;
    auto [a, b] = socket_pair();
    b.reset();
    EXPECT_EQ(loop.run_until_complete(recv_once(std::move(a))), "");
}

TEST_F(IoUring, TheKernelCancelsARequestAtItsDeadline) {
    Loop loop;
    auto [a, b] = socket_pair(); // b never writes
    auto start = Clock::now();
    std::string got = loop.run_until_complete(recv_or_error(std::move(a), start + 100ms));
    EXPECT_EQ(got, "error: recv timed out");
    EXPECT_GE(Clock::now() - start, 100ms); // not before the deadline
    EXPECT_EQ(loop.in_flight(), 0u);
}

TEST_F(IoUring, ManyRequestsGoInWithOneEnter) {
    Loop loop;
    std::vector<Pair> pairs;
    std::vector<Task<std::string>> readers;
    for (int i = 0; i < 100; ++i) {
        pairs.push_back(socket_pair());
        ASSERT_EQ(::send(pairs.back().b.get(), "x", 1, 0), 1);
        readers.push_back(recv_once(std::move(pairs.back().a)));
        readers.back().start(); // queues its recv: no syscall yet
    }
    EXPECT_EQ(loop.in_flight(), 100u);
    auto before = syscalls_so_far();
    ASSERT_TRUE(loop.run_once()); // one enter submits all 100 and finds them done
    auto spent = syscalls_so_far() - before;
    EXPECT_EQ(spent.calls[static_cast<int>(Syscall::io_uring_enter)], 1u);
    EXPECT_EQ(loop.in_flight(), 0u);
    for (auto& r : readers) {
        ASSERT_TRUE(r.done());
        EXPECT_EQ(r.result(), "x");
    }
}

// The heart of completion I/O: the recv's buffer is in the frame, and the
// kernel holds a pointer to it. Destroying the frame while the recv is in
// flight must cancel the recv and wait for its completion first; otherwise
// the late bytes below would land in freed memory, and the completion would
// name a dead Operation (ASan reports that as a heap-use-after-free).
TEST_F(IoUring, APageDestroyedMidRecvNeverLetsTheKernelWriteIntoItsFreedFrame) {
    auto [a, b] = socket_pair();
    Fd a_too(::dup(a.get())); // to look into the socket after the frame is gone
    ASSERT_TRUE(a_too);
    {
        Loop loop;
        std::optional<Task<std::string>> page(recv_once(std::move(a)));
        page->start();
        // Another recv that completes at once, so that a turn can end while
        // the page's recv is in the kernel's hands.
        auto [c, d] = socket_pair();
        ASSERT_EQ(::send(d.get(), "y", 1, 0), 1);
        Task<std::string> quick = recv_once(std::move(c));
        quick.start();
        while (!quick.done()) ASSERT_TRUE(loop.run_once());
        ASSERT_EQ(loop.in_flight(), 1u) << "the page's recv should be in flight";

        std::size_t freed_before = frame_stats.freed;
        page.reset(); // the frame dies mid-recv
        EXPECT_GT(frame_stats.freed, freed_before);
        EXPECT_EQ(loop.in_flight(), 0u)
            << "its recv was cancelled and completed before the frame went";
        ASSERT_EQ(::send(b.get(), "late", 4, 0), 4);
    } // the loop waits for the socket's close
    // Nobody took the late bytes: they are still in the socket, not in freed memory.
    char got[8] = {};
    EXPECT_EQ(::recv(a_too.get(), got, sizeof got, MSG_DONTWAIT), 4);
    EXPECT_EQ(std::string(got, 4), "late");
}

TEST_F(IoUring, ALoopDestroyedUnderAParkedPageCancelsItsRecvAndSaysSo) {
    auto [a, b] = socket_pair();
    Task<std::string> page;
    testing::internal::CaptureStderr();
    {
        Loop loop;
        page = recv_once(std::move(a));
        page.start();
        loop.submit_unwatched([](io_uring_sqe& sqe) { io_uring_prep_nop(&sqe); });
        ASSERT_TRUE(loop.run_once()); // the recv goes in; the nop's completion ends the turn
        ASSERT_EQ(loop.in_flight(), 1u);
    }
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("destroyed with 1 coroutine"), std::string::npos) << err;
    ASSERT_EQ(::send(b.get(), "late", 4, 0), 4); // the recv is gone: nothing lands in the frame
    page = {};                                   // its frame goes: no loop to touch any more
}

TEST_F(IoUring, ASocketsCloseIsARequestTheLoopWaitsFor) {
    auto [a, b] = socket_pair();
    int fd = a.get();
    {
        Loop loop;
        { Socket sock(std::move(a)); } // queues the close; no syscall
        EXPECT_TRUE(fd_is_open(fd));
        EXPECT_EQ(loop.owed(), 1u);
    } // the loop submits it and waits for its completion
    EXPECT_FALSE(fd_is_open(fd));
}
