// 04_busy_loop against a real 00_server: one page at a time, every "not yet"
// counted as a spin, CPU burnt while waiting — and no endless spin on a dead,
// silent or lying server.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

const std::string stage = stage_binary("04_busy_loop");

void send_text(int fd, const std::string& text) {
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

double cpu_s(const nlohmann::json& j) {
    return j["user_s"].get<double>() + j["sys_s"].get<double>();
}

// The lines of a --trace file: the header, then one object per page.
std::vector<nlohmann::json> read_trace(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

} // namespace

TEST(Stage04, FetchesEveryPageOneAtATimeAndSpins) {
    Server server({"--delay-ms", "100"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    for (const char* key :
         {"stage", "requests", "ok", "failed", "bytes", "wall_s", "user_s", "sys_s", "max_rss_kb",
          "ctx_voluntary", "ctx_involuntary", "peak_in_flight", "errors", "spins"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["stage"], "04_busy_loop");
    EXPECT_EQ(j["ok"], 6);
    EXPECT_EQ(j["failed"], 0);
    EXPECT_EQ(j["peak_in_flight"], 1);
    // Non-blocking, but still one after another: six delays at the least.
    EXPECT_GE(j["wall_s"].get<double>(), 6 * 0.100);
    // The answer cannot come before the delay, so every page's recv said
    // "not yet" at least once — in practice, hundreds of thousands of times.
    EXPECT_GE(j["spins"].get<long>(), 6);
    // It never sleeps while it waits: a blocking stage goes to sleep (a voluntary
    // context switch) at least once per page, the spin loop not even once per page.
    // (Its CPU time is about its wall time on an idle machine; that ratio depends on
    // how busy the test machine is, so it is not asserted here.)
    EXPECT_LT(j["ctx_voluntary"].get<long>(), 6) << r.out;
    EXPECT_GT(cpu_s(j), 0.0);
    auto s = server.stats();
    EXPECT_EQ(s["served"], 6);
    EXPECT_EQ(s["peak_open_connections"], 1);
    EXPECT_EQ(s["peak_waiting"], 1);
}

TEST(Stage04, PrintsOneSummaryLineWithSpins) {
    Server server({"--delay-ms", "20"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find("3 pages (3 ok, 0 failed)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("; spins "), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("page 2: 200"), std::string::npos) << r.err;
}

TEST(Stage04, NoServerGivesOneHelpfulLineAndExit1) {
    auto r = run({stage, "--port", std::to_string(unused_port()), "--count", "3"}, 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("no server at 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

// The seed's loop swallows every error and would spin forever once the server
// is gone. Here a refused connection fails its page at once: the 27 or so pages
// left over take far less than one --timeout-ms.
TEST(Stage04, ServerKilledMidRunFailsTheRestWithoutSpinningForever) {
    Server server({"--delay-ms", "50"});
    Child client({stage, "--port", server.port_arg(), "--count", "30", "--timeout-ms", "10000",
                  "--json", "--quiet"});
    auto deadline = Clock::now() + 20s;
    while (server.stats()["served"].get<int>() < 3 && Clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    server.process().signal(SIGKILL);
    auto killed = Clock::now();
    std::string line = client.read_line(30s);
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed).count(), 9.0);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["ok"].get<int>(), 3);
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(j["ok"].get<int>() + j["failed"].get<int>(), 30);
    // The page in flight is cut short; every later connect is refused.
    EXPECT_NE(j["errors"].dump().find("Connection refused"), std::string::npos) << j["errors"];
}

TEST(Stage04, GarbageReplyIsAReportedFailure) {
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

TEST(Stage04, TruncatedReplyIsAReportedFailure) {
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

TEST(Stage04, StalledReplyTimesOutWhileSpinning) {
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
    EXPECT_GE(j["wall_s"].get<double>(), 2 * 0.2); // each page spun for its full timeout
    EXPECT_GE(j["spins"].get<long>(), 2);
}

TEST(Stage04, BadFlagsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--count", "0"},
                                          {"--timeout-ms", "0"},
                                          {"--port"},
                                          {"--workers", "2"}}) { // no pool here
        args.insert(args.begin(), stage);
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST(Stage04, TraceNotesEveryPagesMoments) {
    Server server({"--delay-ms", "200"});
    std::string path = ::testing::TempDir() + "trace_04_busy_loop.jsonl";
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--quiet", "--trace", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = read_trace(path);
    std::remove(path.c_str());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0]["stage"], "04_busy_loop");
    for (int page = 0; page < 3; ++page) {
        const auto& p = lines[page + 1];
        EXPECT_EQ(p["page"], page);
        EXPECT_EQ(p["ok"], true);
        // In order: started, connected, sent; the first byte only after the server's delay.
        double start = p["start_ms"], connected = p["connected_ms"], sent = p["sent_ms"];
        double first_byte = p["first_byte_ms"], done = p["done_ms"];
        EXPECT_LE(start, connected);
        EXPECT_LE(connected, sent);
        EXPECT_GE(first_byte - start, 200) << p; // from the start: a `sent` mark can be late
        EXPECT_LE(first_byte, done);
        EXPECT_TRUE(p["worker"].is_null()) << p; // no workers here
    }
}
