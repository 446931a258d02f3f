// Integration tests shared by the single-threaded stages that keep every page
// in flight at once (05_callbacks, 06_generators, 07_coroutines, 10_green_threads,
// 11_io_uring): a test_stageNN.cpp includes this file and instantiates
// AllAtOnce with its stage's name. The bad servers are a real 00_server with
// --fault. A stage this machine cannot run (11 without io_uring) is skipped
// with its reason.
//
// Concurrency is checked through the server's /stats, never the client's claim.
#pragma once

#include "harness.hpp"
#include "net.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace all_at_once {

using namespace harness;
using Clock = std::chrono::steady_clock;

class AllAtOnce : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (auto why = skipped_here(GetParam())) GTEST_SKIP() << *why;
    }
    std::string stage() const { return stage_binary(GetParam()); }
    // 11 has a ring where the others have a selector: no --selector there.
    bool has_selector() const { return GetParam() != "11_io_uring"; }
};

TEST_P(AllAtOnce, FetchesEveryPageWithAllConnectionsOpenAtOnce) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "200", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    expect_every_page_ok(j, GetParam(), 200, 200);
    if (has_selector()) {
        EXPECT_EQ(j["selector"], "epoll");
    }
    // The server's view: all 200 requests were waiting out their delay at the same time.
    auto s = server.stats();
    EXPECT_EQ(s["served"], 200);
    EXPECT_EQ(s["peak_waiting"], 200);
    EXPECT_GE(s["peak_open_connections"].get<int>(), 200);
    // At least one delay; far below the 60 s that 200 delays in a row would take.
    EXPECT_GE(j["wall_s"].get<double>(), 0.3);
    EXPECT_LT(j["wall_s"].get<double>(), 5.0);
}

TEST_P(AllAtOnce, TenPagesTakeAboutOneDelayWithEverySelector) {
    Server server({"--delay-ms", "300"});
    std::vector<std::string> backends = {"epoll", "poll", "select"};
    if (!has_selector()) backends = {"(the ring)"};
    for (const std::string& backend : backends) {
        server.reset_stats();
        std::vector<std::string> args = {stage(), "--port", server.port_arg(), "--count", "10",
                                         "--json", "--quiet"};
        if (has_selector()) args.insert(args.end(), {"--selector", backend});
        auto r = run(args);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        auto j = r.json();
        EXPECT_EQ(j["ok"], 10);
        if (has_selector()) {
            EXPECT_EQ(j["selector"], backend);
        }
        EXPECT_GE(j["wall_s"].get<double>(), 0.3);
        EXPECT_LT(j["wall_s"].get<double>(), 1.5) << backend; // ten in a row: 3 s
        EXPECT_EQ(server.stats()["peak_waiting"], 10) << backend;
    }
}

// 2,000 pages need fds past 1023, where select() has no bit: the stage stops
// with one line naming the limit and the way out, the others fetch them all.
inline const std::string select_limit_line =
    "select() cannot watch fd 1024: FD_SETSIZE is 1024; use --selector poll or epoll\n";

inline bool can_open_fds(rlim_t n) {
    rlimit limit{};
    return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max >= n;
}

TEST_P(AllAtOnce, SelectStopsAtFd1024WithOneLine) {
    if (!has_selector()) GTEST_SKIP() << GetParam() << " has no --selector";
    if (!can_open_fds(1100)) GTEST_SKIP() << "the fd limit is below 1100 here";
    Server server({"--delay-ms", "50"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "2000", "--selector", "select",
                  "--quiet"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, GetParam() + ": " + select_limit_line);
    EXPECT_EQ(r.out, ""); // stopped, not finished: no report
    // Every socket it opened is closed again: the server is left with the
    // connection that asks for /stats.
    EXPECT_TRUE(eventually([&] { return server.stats()["open_connections"] == 1; }));
}

TEST_P(AllAtOnce, PollAndEpollFetch2000PagesAtOnce) {
    if (!has_selector()) GTEST_SKIP() << GetParam() << " has no --selector";
    if (!can_open_fds(2100)) GTEST_SKIP() << "the fd limit is below 2100 here";
    Server server({"--delay-ms", "100"});
    for (std::string backend : {"poll", "epoll"}) {
        server.reset_stats();
        auto r = run({stage(), "--port", server.port_arg(), "--count", "2000", "--selector",
                      backend, "--json", "--quiet"});
        ASSERT_EQ(r.exit_code, 0) << backend << ": " << r.err;
        auto j = r.json();
        expect_every_page_ok(j, GetParam(), 2000, 2000);
        EXPECT_EQ(j["selector"], backend);
    }
}

TEST_P(AllAtOnce, PrintsOneSummaryLineAndPerPageLines) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_TRUE(contains(r.out, "3 pages (3 ok, 0 failed)")) << r.out;
    EXPECT_TRUE(contains(r.err, "page 2: 200")) << r.err;
    r = run({stage(), "--port", server.port_arg(), "--count", "3", "--quiet"});
    EXPECT_EQ(r.err, "");
}

TEST_P(AllAtOnce, NoServerGivesOneHelpfulLineAndExit1) {
    expect_no_server_answer({stage(), "--count", "3"});
}

// The probe of require_server() gets through; then the listener goes away, so
// every page's non-blocking connect fails (SO_ERROR after WRITE).
TEST_P(AllAtOnce, ConnectErrorsAreReportedFailures) {
    ladder::Fd listener = ladder::listen_tcp(ladder::resolve("127.0.0.1", 0), 16);
    int port = ladder::local_port(listener.get());
    Child client({stage(), "--port", std::to_string(port), "--count", "5", "--json", "--quiet"});
    pollfd p{listener.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the client never probed";
    ladder::Fd probe(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(probe);
    listener.reset(); // first the listener: by the time the probe ends, nobody listens
    probe.reset();
    std::string line = client.read_line(20s);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["failed"], 5);
    expect_errors_contain(j, "Connection refused");
}

TEST_P(AllAtOnce, ServerKilledMidRunFailsTheRestAndExits1) {
    // Delays spread over 0.1-1.9 s, so some pages are served before the kill.
    Server server({"--delay-ms", "1000", "--jitter-ms", "900"});
    Child client({stage(), "--port", server.port_arg(), "--count", "30", "--json", "--quiet"});
    ASSERT_TRUE(eventually([&] { return server.stats()["served"].get<int>() >= 3; }, 20s));
    server.process().signal(SIGKILL);
    std::string line = client.read_line(30s);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["ok"].get<int>(), 3);
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(j["ok"].get<int>() + j["failed"].get<int>(), 30);
    // The failures came from the kill, not from --timeout-ms (10 s by default).
    EXPECT_LT(j["wall_s"].get<double>(), 8.0);
    for (const auto& e : j["errors"])
        EXPECT_FALSE(contains(e.get<std::string>(), "timed out")) << e;
}

TEST_P(AllAtOnce, GarbageReplyIsAReportedFailure) {
    auto r = run_against_fault("garbage", {stage(), "--count", "3"});
    expect_every_page_failed(r, 3, "not an HTTP response");
}

TEST_P(AllAtOnce, TruncatedReplyIsAReportedFailure) {
    auto r = run_against_fault("truncate-body", {stage(), "--count", "2"});
    expect_every_page_failed(r, 2, "truncated");
}

// Every way 00_server --fault can fail a page at once: each of the pages in
// flight is reported with its own words, and nothing waits out a timeout.
TEST_P(AllAtOnce, EachFaultIsAReportedFailure) {
    for (const auto& [mode, error] : quick_faults()) {
        SCOPED_TRACE(mode);
        auto r = run_against_fault(mode, {stage(), "--count", "3"});
        auto j = expect_every_page_failed(r, 3, error);
        EXPECT_LT(j["wall_s"].get<double>(), 5.0) << "it waited out a timeout";
    }
}

// Answers that trickle in one byte every 10 ms are still good pages; the loop
// reads them side by side, in many small pieces.
TEST_P(AllAtOnce, TricklingAnswersAreReadWhole) {
    auto r = run_against_fault("trickle", {stage(), "--count", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["ok"], 3);
    EXPECT_EQ(j["peak_in_flight"], 3);
    double one_page_bytes = j["bytes"].get<double>() / 3;
    EXPECT_GE(j["wall_s"].get<double>(), 0.01 * (one_page_bytes - 1));
}

TEST_P(AllAtOnce, StalledRepliesTimeOutTogether) {
    auto r = run_against_fault("stall", {stage(), "--count", "5", "--timeout-ms", "300"}, 20s);
    auto j = expect_every_page_failed(r, 5, "timed out");
    // The loop enforces the deadline: no page ends before it, and the five wait
    // side by side (one after another would take 1.5 s).
    EXPECT_GE(j["wall_s"].get<double>(), 0.3);
    EXPECT_LT(j["wall_s"].get<double>(), 1.2);
}

TEST_P(AllAtOnce, ARealServerSlowerThanTheTimeoutGivesFailuresNotAHang) {
    Server server({"--delay-ms", "5000"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "20", "--timeout-ms", "200",
                  "--json", "--quiet"},
                 20s);
    auto j = expect_every_page_failed(r, 20, "timed out after 200 ms");
    EXPECT_LT(j["wall_s"].get<double>(), 2.0);     // not the server's 5 s
    EXPECT_EQ(server.stats()["peak_waiting"], 20); // every request did reach the server
}

TEST_P(AllAtOnce, BadFlagsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--count", "0"},
                                          {"--selector", "kqueue"},
                                          {"--selector"},
                                          {"--timeout-ms", "-5"},
                                          {"--bogus"}}) {
        args.insert(args.begin(), stage());
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

} // namespace all_at_once
