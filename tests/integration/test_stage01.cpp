// 01_blocking against a real 00_server, and against servers that misbehave.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

const std::string stage = stage_binary("01_blocking");

const char* report_keys[] = {
    "stage",           "requests",       "ok",    "failed",     "bytes",
    "wall_s",          "user_s",         "sys_s", "max_rss_kb", "ctx_voluntary",
    "ctx_involuntary", "peak_in_flight", "errors"};

void send_text(int fd, const std::string& text) {
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

} // namespace

TEST(Stage01, FetchesEveryPageOneAtATime) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    for (const char* key : report_keys) EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["stage"], "01_blocking");
    EXPECT_EQ(j["requests"], 6);
    EXPECT_EQ(j["ok"], 6);
    EXPECT_EQ(j["failed"], 0);
    EXPECT_GT(j["bytes"].get<long>(), 6 * 60);
    EXPECT_EQ(j["peak_in_flight"], 1);
    EXPECT_TRUE(j["errors"].empty());
    // Six pages one after another cannot take less than six delays.
    EXPECT_GE(j["wall_s"].get<double>(), 6 * 0.050);
    // The server's view: all six served, never two connections open at once.
    auto s = server.stats();
    EXPECT_EQ(s["served"], 6);
    EXPECT_EQ(s["peak_open_connections"], 1);
    EXPECT_EQ(s["peak_waiting"], 1);
}

TEST(Stage01, PrintsOneSummaryLineAndPerPageLines) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find("3 pages (3 ok, 0 failed)"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("page 2: 200"), std::string::npos) << r.err;
    r = run({stage, "--port", server.port_arg(), "--count", "3", "--quiet"});
    EXPECT_EQ(r.err, "");
}

TEST(Stage01, NoServerGivesOneHelpfulLineAndExit1) {
    auto r = run({stage, "--port", std::to_string(unused_port()), "--count", "3"}, 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("no server at 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("00_server"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(Stage01, ServerKilledMidRunFailsTheRestAndExits1) {
    Server server({"--delay-ms", "100"});
    Child client({stage, "--port", server.port_arg(), "--count", "30", "--json", "--quiet"});
    // Kill the server once it has served a few pages: a fact we wait for, not a sleep.
    auto deadline = Clock::now() + 20s;
    while (server.stats()["served"].get<int>() < 3 && Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    server.process().signal(SIGKILL);
    std::string line = client.read_line(30s);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["ok"].get<int>(), 3);
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(j["ok"].get<int>() + j["failed"].get<int>(), 30);
    EXPECT_FALSE(j["errors"].empty());
}

TEST(Stage01, GarbageReplyIsAReportedFailure) {
    FakeServer fake([](int fd) {
        if (read_request(fd).empty()) return; // the reachability probe
        send_text(fd, "hello, I am not HTTP\r\n\r\n");
    });
    auto r = run({stage, "--port", fake.port_arg(), "--count", "2", "--json", "--quiet"});
    EXPECT_EQ(r.exit_code, 1);
    auto j = r.json();
    EXPECT_EQ(j["failed"], 2);
    EXPECT_NE(j["errors"][0].get<std::string>().find("not an HTTP response"), std::string::npos)
        << j["errors"];
}

TEST(Stage01, TruncatedReplyIsAReportedFailure) {
    FakeServer fake([](int fd) {
        if (read_request(fd).empty()) return;
        send_text(fd, "HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n{\"path\":");
    });
    auto r = run({stage, "--port", fake.port_arg(), "--count", "1", "--json", "--quiet"});
    EXPECT_EQ(r.exit_code, 1);
    auto j = r.json();
    EXPECT_EQ(j["failed"], 1);
    EXPECT_NE(j["errors"][0].get<std::string>().find("truncated"), std::string::npos)
        << j["errors"];
}

TEST(Stage01, WrongPageIsAReportedFailure) {
    FakeServer fake([](int fd) {
        if (read_request(fd).empty()) return;
        send_text(fd, "HTTP/1.0 200 OK\r\n\r\n{\"path\":\"/elsewhere\"}");
    });
    auto r = run({stage, "--port", fake.port_arg(), "--count", "1", "--json", "--quiet"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.json()["failed"], 1);
}

TEST(Stage01, StalledReplyTimesOut) {
    FakeServer fake([](int fd) {
        read_request(fd);
        char c;
        while (::recv(fd, &c, 1, 0) > 0) {
        } // say nothing until the client gives up
    });
    auto r = run({stage, "--port", fake.port_arg(), "--count", "2", "--timeout-ms", "200", "--json",
                  "--quiet"},
                 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    auto j = r.json();
    EXPECT_EQ(j["failed"], 2);
    EXPECT_NE(j["errors"][0].get<std::string>().find("timed out"), std::string::npos)
        << j["errors"];
    EXPECT_GE(j["wall_s"].get<double>(), 2 * 0.2); // each page waited its full timeout
}

TEST(Stage01, BadFlagsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--count", "0"},
                                          {"--count", "ten"},
                                          {"--port"},
                                          {"--bogus"},
                                          {"--json=yes"}}) {
        args.insert(args.begin(), stage);
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}
