// 03_thread_pool against a real 00_server: concurrency as the server saw it,
// threads (not processes), what a thread reserves, and the failure paths.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

const std::string stage = stage_binary("03_thread_pool");

void send_text(int fd, const std::string& text) {
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = 10s) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return cond();
}

// "Threads:" in /proc/PID/status: how many threads the process has now.
int thread_count(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "Threads:") {
            int n = 0;
            status >> n;
            return n;
        }
        status.ignore(1 << 20, '\n');
    }
    return -1;
}

// The lines of a --trace file: the header, then one object per page.
std::vector<nlohmann::json> read_trace(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

} // namespace

TEST(Stage03, FetchesEveryPageWithEveryThreadAtOnce) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--workers", "3", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    for (const char* key : {"stage", "requests", "ok", "failed", "bytes", "wall_s", "user_s",
                            "sys_s", "max_rss_kb", "ctx_voluntary", "ctx_involuntary",
                            "peak_in_flight", "errors", "workers", "thread_stack_kb", "vm_peak_kb"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["stage"], "03_thread_pool");
    EXPECT_EQ(j["ok"], 6);
    EXPECT_EQ(j["failed"], 0);
    EXPECT_EQ(j["workers"], 3);
    EXPECT_EQ(j["peak_in_flight"], 3);
    EXPECT_GE(j["wall_s"].get<double>(), 2 * 0.300); // two rounds of three
    auto s = server.stats();
    EXPECT_EQ(s["served"], 6);
    EXPECT_EQ(s["peak_open_connections"], 3);
    EXPECT_EQ(s["peak_waiting"], 3);
}

TEST(Stage03, DefaultIsOneThreadPerPage) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "8", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], 8);
    EXPECT_EQ(server.stats()["peak_open_connections"], 8);
    EXPECT_GE(j["wall_s"].get<double>(), 0.300);
    EXPECT_LT(j["wall_s"].get<double>(), 2.0); // one after another would be 2.4 s
    EXPECT_EQ(r.err, "");
}

TEST(Stage03, DefaultThreadsAreCappedWithANote) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "300", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], 256);
    EXPECT_EQ(j["ok"], 300);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("256 threads"), std::string::npos) << r.err;
    EXPECT_EQ(server.stats()["peak_open_connections"], 256);
}

TEST(Stage03, TheWorkersAreThreadsOfOneProcess) {
    Server server({"--delay-ms", "500"});
    // Runs the stage with one thread per page; returns its thread count while
    // every page waits, and its report.
    auto threads_while_waiting = [&](int pages, nlohmann::json& report) {
        Child client({stage, "--port", server.port_arg(), "--count", std::to_string(pages),
                      "--json", "--quiet"});
        EXPECT_TRUE(eventually([&] { return server.stats()["waiting"] == pages; }));
        int threads = thread_count(client.pid());
        report = nlohmann::json::parse(client.read_line(20s));
        EXPECT_EQ(client.wait(5s), 0);
        return threads;
    };
    nlohmann::json four, two;
    int with_four = threads_while_waiting(4, four);
    int with_two = threads_while_waiting(2, two);
    // The main thread plus the pool (plus a sanitizer's helper thread, if any):
    // two more workers, exactly two more threads.
    EXPECT_GE(with_four, 1 + 4);
    EXPECT_EQ(with_four - with_two, 2);
    // Each thread reserves a whole stack of virtual memory; the process's
    // virtual peak holds all of them, while its resident memory stays small.
    long stack_kb = four["thread_stack_kb"];
    EXPECT_GT(stack_kb, 0);
    EXPECT_GE(four["vm_peak_kb"].get<long>(), 4 * stack_kb);
    EXPECT_LT(four["max_rss_kb"].get<long>(), four["vm_peak_kb"].get<long>());
}

TEST(Stage03, PrintsOneSummaryLineWithWorkers) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--workers", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find("3 pages (3 ok, 0 failed)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("workers 2"), std::string::npos) << r.out;
    for (const char* page : {"page 0: 200", "page 1: 200", "page 2: 200"})
        EXPECT_NE(r.err.find(page), std::string::npos) << r.err;
}

TEST(Stage03, NoServerGivesOneHelpfulLineAndExit1) {
    auto r = run({stage, "--port", std::to_string(unused_port()), "--count", "3"}, 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("no server at 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(Stage03, ServerKilledMidRunFailsTheRestAndExits1) {
    Server server({"--delay-ms", "100"});
    Child client({stage, "--port", server.port_arg(), "--count", "30", "--workers", "3", "--json",
                  "--quiet"});
    ASSERT_TRUE(eventually([&] { return server.stats()["served"].get<int>() >= 3; }, 20s));
    server.process().signal(SIGKILL);
    std::string line = client.read_line(30s);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["ok"].get<int>(), 3);
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(j["ok"].get<int>() + j["failed"].get<int>(), 30);
    EXPECT_FALSE(j["errors"].empty());
}

TEST(Stage03, GarbageReplyIsAReportedFailure) {
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

TEST(Stage03, StalledReplyTimesOut) {
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
    EXPECT_GE(j["wall_s"].get<double>(), 0.2);
}

TEST(Stage03, BadFlagsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--workers", "0"},
                                          {"--workers", "-1"},
                                          {"--workers", "4x"},
                                          {"--workers"},
                                          {"--count", "0"}}) {
        args.insert(args.begin(), stage);
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST(Stage03, TraceNotesEveryPagesMoments) {
    Server server({"--delay-ms", "200"});
    std::string path = ::testing::TempDir() + "trace_03_thread_pool.jsonl";
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--workers", "2", "--quiet",
                  "--trace", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = read_trace(path);
    std::remove(path.c_str());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0]["stage"], "03_thread_pool");
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
        EXPECT_TRUE(p["worker"] == 0 || p["worker"] == 1) << p; // which thread fetched it
    }
}
