// 00_server as a client sees it: pages after the delay, /stats, bad requests,
// idle and vanished clients, running out of fds, signals.
#include "harness.hpp"

#include "http.hpp"
#include "net.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>


using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

ladder::Fd connect_to(int port) {
    return ladder::connect_blocking(ladder::resolve("127.0.0.1", port), Clock::now() + 5s);
}

// Sends raw bytes and reads until the server closes; returns the status code.
int raw_exchange(int port, const std::string& bytes) {
    ladder::Fd s = connect_to(port);
    ladder::send_all_blocking(s.get(), bytes, Clock::now() + 5s);
    ladder::ResponseParser p;
    char buf[4096];
    while (std::size_t n = ladder::recv_blocking(s.get(), buf, Clock::now() + 5s))
        p.feed(std::string_view(buf, n));
    p.finish();
    return p.status();
}

} // namespace

TEST(Server, AnswersAPageAfterItsDelay) {
    Server server({"--delay-ms", "150"});
    auto start = Clock::now();
    auto [status, body] = http_get(server.port(), "/3");
    EXPECT_GE(Clock::now() - start, 150ms); // a lower bound: never earlier than the delay
    EXPECT_EQ(status, 200);
    auto page = nlohmann::json::parse(body);
    EXPECT_EQ(page["path"], "/3");
    EXPECT_EQ(page["msg"], "ok");
    EXPECT_EQ(page["delay_ms"], 150);
}

TEST(Server, RandomAnswersAUniformNumberAfterTheDelay) {
    Server server({"--delay-ms", "50"});
    std::vector<double> seen;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        auto [status, body] = http_get(server.port(), "/random");
        EXPECT_GE(Clock::now() - start, 50ms);
        EXPECT_EQ(status, 200);
        auto page = nlohmann::json::parse(body);
        ASSERT_TRUE(page["msg"].is_number()) << body;
        double x = page["msg"].get<double>();
        EXPECT_GE(x, 0.0);
        EXPECT_LT(x, 1.0);
        seen.push_back(x);
    }
    EXPECT_NE(seen.front(), seen.back()); // random, not a constant
}

TEST(Server, ARequestCanOverrideItsDelay) {
    Server server({"--delay-ms", "60000"});
    auto [status, body] = http_get(server.port(), "/7?delay_ms=0", 10s);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(nlohmann::json::parse(body)["delay_ms"], 0);
    EXPECT_EQ(nlohmann::json::parse(body)["path"], "/7");
}

TEST(Server, PadsTheBodyToBodyBytes) {
    Server server({"--delay-ms", "0", "--body-bytes", "100000"});
    auto [status, body] = http_get(server.port(), "/1");
    EXPECT_EQ(status, 200);
    EXPECT_GE(body.size(), 100000u);
    EXPECT_EQ(nlohmann::json::parse(body)["path"], "/1");
}

TEST(Server, JitterKeepsDelaysWithinTheRange) {
    Server server({"--delay-ms", "100", "--jitter-ms", "50", "--seed", "7"});
    std::set<int> seen;
    for (int i = 0; i < 8; ++i) {
        int d = nlohmann::json::parse(http_get(server.port(), "/").second)["delay_ms"];
        EXPECT_GE(d, 50);
        EXPECT_LE(d, 150);
        seen.insert(d);
    }
    EXPECT_GT(seen.size(), 1u) << "jitter should vary the delays";
}

TEST(Server, StatsCountWhatTheServerSawAndReset) {
    Server server({"--delay-ms", "0"});
    for (int i = 0; i < 3; ++i) http_get(server.port(), "/" + std::to_string(i));
    auto s = server.stats();
    for (const char* key : {"accepted", "open_connections", "peak_open_connections", "waiting",
                            "peak_waiting", "served", "bad_requests"})
        EXPECT_TRUE(s.contains(key)) << key;
    EXPECT_EQ(s["served"], 3);
    EXPECT_EQ(s["open_connections"], 1); // the /stats request itself
    server.reset_stats();
    s = server.stats();
    EXPECT_EQ(s["served"], 0);
    EXPECT_EQ(s["peak_open_connections"], 1);
}

TEST(Server, HoldsManyDelayedRequestsAtOnce) {
    Server server({"--delay-ms", "300"});
    constexpr int clients = 200;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < clients; ++i)
        threads.emplace_back([&, i] {
            auto [status, body] = http_get(server.port(), "/" + std::to_string(i), 20s);
            ok += status == 200 && nlohmann::json::parse(body)["path"] == "/" + std::to_string(i);
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, clients);
    auto s = server.stats();
    EXPECT_EQ(s["served"], clients);
    // Every request waits 300 ms; they were all sent within that time only if the
    // machine is fast, so the hard fact is: more than one waited at once.
    EXPECT_GT(s["peak_waiting"].get<int>(), 1);
    EXPECT_LE(s["peak_waiting"].get<int>(), clients);
}

TEST(Server, MalformedRequestGets400) {
    Server server({"--delay-ms", "0"});
    EXPECT_EQ(raw_exchange(server.port(), "garbage\r\n\r\n"), 400);
    EXPECT_EQ(raw_exchange(server.port(), "GET / HTTP/9.9\r\n\r\n"), 400);
    EXPECT_EQ(raw_exchange(server.port(), "GET /?delay_ms=soon HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(raw_exchange(server.port(), "POST / HTTP/1.0\r\n\r\n"), 405);
    EXPECT_EQ(server.stats()["bad_requests"], 4);
}

TEST(Server, HugeHeadersGet431) {
    Server server({"--delay-ms", "0"});
    std::string req = "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
    EXPECT_EQ(raw_exchange(server.port(), req), 431);
}

TEST(Server, AcceptsHttp11Requests) {
    Server server({"--delay-ms", "0"});
    EXPECT_EQ(raw_exchange(server.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
}

TEST(Server, ClosesASilentClientAfterTheIdleTimeout) {
    Server server({"--idle-ms", "200"});
    ladder::Fd s = connect_to(server.port());
    ladder::send_all_blocking(s.get(), "GET / HTT", Clock::now() + 1s); // and then nothing
    char buf[16];
    EXPECT_EQ(ladder::recv_blocking(s.get(), buf, Clock::now() + 10s), 0u); // closed by the server
    EXPECT_EQ(server.stats()["idle_closed"], 1);
}

TEST(Server, CleansUpAClientThatLeavesWhileWaiting) {
    Server server({"--delay-ms", "60000"});
    {
        ladder::Fd s = connect_to(server.port());
        ladder::send_all_blocking(s.get(), "GET /gone HTTP/1.0\r\n\r\n", Clock::now() + 1s);
        ASSERT_TRUE(eventually([&] { return server.stats()["waiting"] == 1; }));
    } // the client closes its socket
    EXPECT_TRUE(eventually([&] {
        auto st = server.stats();
        return st["waiting"] == 0 && st["open_connections"] == 1 && st["client_gone"] == 1;
    }));
}

TEST(Server, KeepsServingWhenOutOfFileDescriptorsWithoutSpinning) {
    // A tiny fd limit for the server only: about 20 connections fit.
    std::vector<std::string> argv = {"/usr/bin/prlimit",
                                     "--nofile=24:24",
                                     stage_binary("00_server"),
                                     "--port",
                                     "0",
                                     "--delay-ms",
                                     "0",
                                     "--idle-ms",
                                     "60000"};
    Child child(argv);
    std::string line = child.read_line();
    ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
    int port = std::stoi(line.substr(line.rfind(':') + 1));

    std::vector<ladder::Fd> idle; // more silent clients than the server has fds
    for (int i = 0; i < 40; ++i) idle.push_back(connect_to(port));
    auto before = proc_info(child.pid());
    std::this_thread::sleep_for(1s);
    auto after = proc_info(child.pid());
    ASSERT_TRUE(before && after) << "the server died while out of fds";
    EXPECT_LT(after->cpu_s - before->cpu_s, 0.5) << "the server spins while out of fds";

    idle.clear(); // free the fds: the server must recover and answer again
    EXPECT_TRUE(eventually(
        [&] {
            try {
                return http_get(port, "/after", 2s).first == 200;
            } catch (const std::exception&) {
                return false;
            }
        },
        10s));
    EXPECT_GT(nlohmann::json::parse(http_get(port, "/stats").second)["accept_paused"].get<int>(),
              0);
}

TEST(Server, WithSelectItServesUntilFd1024ThenStopsWithOneLine) {
    ladder::raise_fd_limit(); // the test holds 1,000+ connections open
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < 1200) GTEST_SKIP() << "the fd limit is below 1200 here";
    // The server's stderr goes to a file, to be read once it has exited.
    std::string err_path = temp_path("select_server.err");
    Child child({"/bin/sh", "-c",
                 "exec " + stage_binary("00_server") +
                     " --port 0 --delay-ms 0 --idle-ms 60000 --selector select 2>" + err_path});
    std::string line = child.read_line();
    ASSERT_EQ(line.rfind("listening on ", 0), 0u) << line;
    int port = std::stoi(line.substr(line.rfind(':') + 1));
    EXPECT_EQ(http_get(port, "/fine").first, 200);

    std::vector<ladder::Fd> idle; // until the server has no fd below 1024 left, and stops
    try {
        while (idle.size() < 1100) idle.push_back(connect_to(port));
    } catch (const std::exception&) { // refused: the server is gone
    }
    EXPECT_EQ(child.wait(10s), 1);
    EXPECT_EQ(slurp(err_path), "00_server: select() cannot watch fd 1024: FD_SETSIZE is 1024; use "
                               "--selector poll or epoll\n");
    ::unlink(err_path.c_str());
}

TEST(Server, StopsCleanlyOnSigtermAndSigint) {
    for (int sig : {SIGTERM, SIGINT}) {
        Server server({"--delay-ms", "60000"});
        ladder::Fd waiting = connect_to(server.port());
        ladder::send_all_blocking(waiting.get(), "GET / HTTP/1.0\r\n\r\n", Clock::now() + 1s);
        server.process().signal(sig);
        EXPECT_EQ(server.process().wait(5s), 0) << "signal " << sig;
    }
}

TEST(Server, BadFlagsExitWith2AndOneLine) {
    auto r = run({stage_binary("00_server"), "--delay-ms", "-5"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--delay-ms"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    r = run({stage_binary("00_server"), "--host", "example.com", "--port", "0"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not an IP address"), std::string::npos) << r.err;
}
