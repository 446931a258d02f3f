// Sockets: the owning Fd, addresses, blocking I/O with deadlines, non-blocking
// connect, listening sockets, and require_server's friendly exit.
#include "error.hpp"
#include "net.hpp"
#include "page.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

using namespace ladder;
using namespace std::chrono_literals;

namespace {

// True while fd is an open file descriptor of this process.
bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int new_fd() {
    return ::dup(STDERR_FILENO);
}

// Accepts one connection, waiting (generously) for it to arrive.
Fd accept_one(int listener) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) throw std::runtime_error("no connection to accept");
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) throw_errno("accept4");
    return Fd(fd);
}

// A loopback listener on a free port, and a connection to it (both ends).
struct Connection {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    Endpoint server = resolve("127.0.0.1", local_port(listener.get()));
    Fd client = connect_blocking(server, Clock::now() + 5s);
    Fd peer = accept_one(listener.get());
};

// An address where nobody listens: a port the kernel handed out, then closed again.
Endpoint nobody_listening() {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    return resolve("127.0.0.1", local_port(listener.get()));
}

// Receives until `size` bytes or end of stream.
std::string recv_exactly(int fd, std::size_t size) {
    std::string got;
    char buf[65536];
    while (got.size() < size) {
        std::size_t n = recv_blocking(fd, buf, Clock::now() + 30s);
        if (n == 0) break;
        got.append(buf, n);
    }
    return got;
}

// Waits (generously) for a non-blocking connect to finish.
void wait_writable(int fd) {
    pollfd p{fd, POLLOUT, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
}

// --- Fd --------------------------------------------------------------------------------

TEST(Fd, ClosesOnDestruction) {
    int raw = new_fd();
    ASSERT_GE(raw, 0);
    {
        Fd fd(raw);
        EXPECT_TRUE(fd);
        EXPECT_EQ(fd.get(), raw);
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(Fd, MovedFromDoesNotClose) {
    int raw = new_fd();
    Fd b;
    {
        Fd a(raw);
        b = std::move(a);
        EXPECT_FALSE(a); // the moved-from state is part of the contract
        EXPECT_EQ(a.get(), -1);
        Fd c(std::move(b));
        b = std::move(c);
    } // a and c die here, both empty
    EXPECT_TRUE(is_open(raw));
    EXPECT_EQ(b.get(), raw);
    b.reset();
    EXPECT_FALSE(is_open(raw));
    EXPECT_FALSE(b);
}

TEST(Fd, MoveAssignmentClosesTheOldFd) {
    int first = new_fd(), second = new_fd();
    Fd a(first), b(second);
    a = std::move(b);
    EXPECT_FALSE(is_open(first));
    EXPECT_TRUE(is_open(second));
    EXPECT_EQ(a.get(), second);
    Fd& same = a;
    a = std::move(same); // self-move keeps the fd
    EXPECT_TRUE(is_open(second));
    EXPECT_EQ(a.get(), second);
}

TEST(Fd, ReleaseAndReset) {
    int first = new_fd(), second = new_fd();
    Fd fd(first);
    EXPECT_EQ(fd.release(), first);
    EXPECT_FALSE(fd);
    EXPECT_TRUE(is_open(first)); // released: now ours to close
    fd.reset(first);
    fd.reset(second);
    EXPECT_FALSE(is_open(first));
    EXPECT_EQ(fd.get(), second);
    fd.reset();
    EXPECT_FALSE(is_open(second));
}

// --- resolve -----------------------------------------------------------------------------

TEST(Resolve, Literals) {
    Endpoint v4 = resolve("127.0.0.1", 80);
    EXPECT_EQ(v4.text, "127.0.0.1:80");
    EXPECT_EQ(v4.addr.ss_family, AF_INET);
    EXPECT_EQ(v4.len, sizeof(sockaddr_in));
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&v4.addr)->sin_port), 80);

    Endpoint v6 = resolve("::1", 80);
    EXPECT_EQ(v6.text, "[::1]:80");
    EXPECT_EQ(v6.addr.ss_family, AF_INET6);
    EXPECT_EQ(v6.len, sizeof(sockaddr_in6));

    Endpoint local = resolve("localhost", 8080);
    EXPECT_EQ(local.text, "127.0.0.1:8080");
    EXPECT_EQ(local.addr.ss_family, AF_INET);
}

TEST(Resolve, RejectsNamesAndBadPorts) {
    EXPECT_THROW(resolve("example.com", 80), std::invalid_argument);
    EXPECT_THROW(resolve("", 80), std::invalid_argument);
    EXPECT_THROW(resolve("127.0.0.1", 70000), std::invalid_argument);
    EXPECT_THROW(resolve("127.0.0.1", -1), std::invalid_argument);
    EXPECT_NO_THROW(resolve("127.0.0.1", 65535));
}

// --- listening and connecting --------------------------------------------------------------

TEST(Listen, PortZeroPicksAFreePort) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    EXPECT_GT(local_port(listener.get()), 0);
    EXPECT_TRUE(::fcntl(listener.get(), F_GETFL) & O_NONBLOCK);
}

TEST(Listen, BusyPortThrowsSysError) {
    Fd first = listen_tcp(resolve("127.0.0.1", 0));
    int port = local_port(first.get());
    try {
        listen_tcp(resolve("127.0.0.1", port));
        ADD_FAILURE() << "a second listener on port " << port;
    } catch (const SysError& e) {
        EXPECT_EQ(e.code(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find("bind"), std::string::npos) << e.what();
    }
}

TEST(Connect, BlockingConnectSucceeds) {
    Connection c;
    EXPECT_TRUE(c.client);
    EXPECT_TRUE(c.peer);
}

TEST(Connect, RefusedSaysCallAddressAndReason) {
    Endpoint server = nobody_listening();
    try {
        connect_blocking(server, Clock::now() + 5s);
        ADD_FAILURE() << "connected to " << server.text;
    } catch (const SysError& e) {
        std::string what = e.what();
        EXPECT_EQ(e.code(), ECONNREFUSED);
        EXPECT_NE(what.find("connect"), std::string::npos) << what;
        EXPECT_NE(what.find(server.text), std::string::npos) << what;
        EXPECT_NE(what.find("refused"), std::string::npos) << what;
    }
}

TEST(Connect, NonBlockingConnectSucceeds) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    Endpoint server = resolve("127.0.0.1", local_port(listener.get()));
    Fd sock = open_stream_socket(server);
    EXPECT_TRUE(::fcntl(sock.get(), F_GETFL) & O_NONBLOCK);
    if (!start_connect(sock.get(), server)) wait_writable(sock.get());
    EXPECT_EQ(socket_error(sock.get()), 0);
    EXPECT_EQ(socket_error(-1), EBADF); // getsockopt's own failure is reported too
}

TEST(Connect, NonBlockingConnectRefused) {
    Endpoint server = nobody_listening();
    Fd sock = open_stream_socket(server);
    try {
        EXPECT_FALSE(start_connect(sock.get(), server));
    } catch (const SysError& e) { // refused at once: allowed too
        EXPECT_EQ(e.code(), ECONNREFUSED);
        return;
    }
    wait_writable(sock.get());
    EXPECT_EQ(socket_error(sock.get()), ECONNREFUSED);
}

TEST(Sockets, AreCloseOnExec) {
    Connection c;
    Endpoint server = resolve("127.0.0.1", 80);
    Fd unconnected = open_stream_socket(server);
    for (int fd : {c.listener.get(), c.client.get(), unconnected.get()}) {
        SCOPED_TRACE(fd);
        EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
}

TEST(Sockets, SetNonblocking) {
    Connection c;
    EXPECT_FALSE(::fcntl(c.client.get(), F_GETFL) & O_NONBLOCK);
    set_nonblocking(c.client.get());
    EXPECT_TRUE(::fcntl(c.client.get(), F_GETFL) & O_NONBLOCK);
    EXPECT_THROW(set_nonblocking(-1), SysError);
}

// --- blocking I/O with deadlines --------------------------------------------------------------

TEST(BlockingIo, SendAndReceiveRoundTrip) {
    Connection c;
    send_all_blocking(c.client.get(), "hello", Clock::now() + 5s);
    char buf[16];
    std::size_t n = recv_blocking(c.peer.get(), buf, Clock::now() + 5s);
    EXPECT_EQ(std::string(buf, n), "hello");
}

// More than the socket buffers hold, sent while signals (no SA_RESTART) cut the
// blocking send short: what was not sent yet must be sent next.
extern "C" void ignore_signal(int) {}

TEST(BlockingIo, SendAllResumesAfterPartialSends) {
    struct sigaction sa = {};
    struct sigaction old = {};
    sa.sa_handler = ignore_signal;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old), 0);
    Connection c;
    std::string data(4 << 20, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    std::thread sender([&] {
        try {
            send_all_blocking(c.client.get(), data, Clock::now() + 30s);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    });
    for (int i = 0; i < 5; ++i) { // the sender is stuck on full buffers: interrupt it
        std::this_thread::sleep_for(20ms);
        ::pthread_kill(sender.native_handle(), SIGUSR2);
    }
    std::string got = recv_exactly(c.peer.get(), data.size());
    sender.join();
    ::sigaction(SIGUSR2, &old, nullptr);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

TEST(BlockingIo, EndOfStreamReturnsZero) {
    Connection c;
    c.client.reset();
    char buf[16];
    EXPECT_EQ(recv_blocking(c.peer.get(), buf, Clock::now() + 5s), 0u);
}

TEST(BlockingIo, SilentPeerTimesOut) {
    Connection c;
    char buf[16];
    auto start = Clock::now();
    EXPECT_THROW(recv_blocking(c.client.get(), buf, start + 50ms), TimeoutError);
    auto waited = Clock::now() - start;
    EXPECT_GE(waited, 20ms); // it did wait (a jiffy of slack allowed)...
    EXPECT_LT(waited, 2s);   // ...but not much past the deadline
}

TEST(BlockingIo, PastDeadlineTimesOutAtOnce) {
    Connection c;
    char buf[16];
    auto past = Clock::now() - 1ms;
    EXPECT_THROW(recv_blocking(c.client.get(), buf, past), TimeoutError);
    EXPECT_THROW(send_all_blocking(c.client.get(), "x", past), TimeoutError);
    EXPECT_THROW(connect_blocking(c.server, past), TimeoutError);
}

TEST(BlockingIo, SendToAClosedPeerThrowsSysError) {
    Connection c;
    c.peer.reset();
    // The first send may still be buffered; the peer's RST makes a later one fail.
    auto keep_sending = [&] {
        std::string block(1 << 16, 'x');
        for (int i = 0; i < 100; ++i) send_all_blocking(c.client.get(), block, Clock::now() + 5s);
    };
    EXPECT_THROW(keep_sending(), SysError);
}

// --- limits and require_server -----------------------------------------------------------------

TEST(FdLimit, RaisesTheSoftLimitToTheHardLimit) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max >= 2048) {
        lim.rlim_cur = lim.rlim_max / 2; // lowering the soft limit is always allowed
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    }
    long raised = raise_fd_limit();
    EXPECT_GE(raised, static_cast<long>(lim.rlim_cur)); // never lower than before
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(static_cast<rlim_t>(raised), after.rlim_cur);
    EXPECT_EQ(after.rlim_cur, after.rlim_max);
}

TEST(RequireServer, WaitsUntilTheServerClosesTheProbe) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0));
    std::thread server([&] {
        try {
            Fd probe = accept_one(listener.get());
            std::this_thread::sleep_for(200ms); // then close it
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    });
    ClientOptions options;
    options.port = local_port(listener.get());
    auto start = Clock::now();
    EXPECT_EQ(require_server("01_test", options).text, "127.0.0.1:" + std::to_string(options.port));
    auto waited = Clock::now() - start;
    server.join();
    EXPECT_GE(waited, 200ms);  // gone from the server's connections before returning...
    EXPECT_LT(waited, 2900ms); // ...because the server closed, not because 3 s passed
}

TEST(RequireServer, ReturnsWhenTheServerKeepsTheProbeOpen) {
    Fd listener = listen_tcp(resolve("127.0.0.1", 0)); // never accepts
    ClientOptions options;
    options.port = local_port(listener.get());
    options.timeout_ms = 50; // how long it waits for the server to close
    EXPECT_EQ(require_server("01_test", options).text, "127.0.0.1:" + std::to_string(options.port));
}

TEST(RequireServerDeathTest, NobodyListeningExitsOneWithAHint) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ClientOptions options;
    options.port = local_port(listen_tcp(resolve("127.0.0.1", 0)).get()); // closed again at once
    EXPECT_EXIT(require_server("01_test", options), ::testing::ExitedWithCode(1),
                "^01_test: no server at 127\\.0\\.0\\.1:[0-9]+ .*Start one first");
}

TEST(RequireServerDeathTest, BadHostExitsTwo) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ClientOptions options;
    options.host = "example.com";
    EXPECT_EXIT(require_server("01_test", options), ::testing::ExitedWithCode(2),
                "^01_test: host 'example\\.com'");
}

} // namespace
