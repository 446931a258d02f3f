// Stop signals: the handler writes a byte to a pipe that a selector can watch
// (the self-pipe trick), and SIGPIPE is ignored.
#include "selector.hpp"
#include "signals.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

using namespace ladder;
using namespace std::chrono_literals;

namespace {

// One test: the handlers are installed once per process, and a stop cannot be undone.
TEST(StopSignals, SignalMakesThePipeReadable) {
    StopSignals stop;
    ASSERT_GE(stop.fd(), 0);
    EXPECT_TRUE(::fcntl(stop.fd(), F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(stop.fd(), F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(StopSignals().fd(), stop.fd()); // a second one shares the pipe

    struct sigaction current = {};
    ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
    EXPECT_EQ(current.sa_handler, SIG_IGN);

    auto sel = make_selector();
    sel->add(stop.fd(), EVENT_READ);
    EXPECT_FALSE(stop.requested());
    EXPECT_TRUE(sel->select(0ns).empty());

    ASSERT_EQ(std::raise(SIGTERM), 0); // handled: the test goes on
    EXPECT_TRUE(stop.requested());
    ASSERT_EQ(sel->select(5s).size(), 1u);
    char c = 0;
    EXPECT_EQ(::read(stop.fd(), &c, 1), 1);
    EXPECT_EQ(c, 'x');

    ASSERT_EQ(std::raise(SIGINT), 0);
    EXPECT_EQ(::read(stop.fd(), &c, 1), 1);
}

} // namespace
