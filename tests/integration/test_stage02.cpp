// 02_process_pool against a real 00_server: concurrency as the server saw it,
// workers that crash or are killed, Ctrl-C, and what the workers inherit.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

const std::string stage = stage_binary("02_process_pool");

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

// --- what /proc says about processes -------------------------------------------------------

struct ProcInfo {
    char state = '?'; // R, S, Z (exited, not yet reaped), ...
    pid_t ppid = 0, pgrp = 0;
};

std::optional<ProcInfo> proc_info(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), {});
    auto paren = text.rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(paren + 2));
    ProcInfo p;
    if (!(rest >> p.state >> p.ppid >> p.pgrp)) return std::nullopt;
    return p;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    if (DIR* d = ::opendir("/proc")) {
        while (dirent* e = ::readdir(d))
            if (std::isdigit(static_cast<unsigned char>(e->d_name[0])))
                pids.push_back(static_cast<pid_t>(std::stol(e->d_name)));
        ::closedir(d);
    }
    return pids;
}

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> kids;
    for (pid_t pid : all_pids())
        if (auto p = proc_info(pid); p && p->ppid == parent) kids.push_back(pid);
    return kids;
}

// Every process in the stage's process group but the stage itself: its workers.
std::vector<pid_t> left_in_group(pid_t leader) {
    std::vector<pid_t> left;
    for (pid_t pid : all_pids())
        if (auto p = proc_info(pid); p && p->pgrp == leader && pid != leader) left.push_back(pid);
    return left;
}

// True once `pid` has exited (a zombie its parent — the test — has not reaped
// yet). At that moment every worker it did not reap itself is still visible.
bool has_exited(pid_t pid) {
    auto p = proc_info(pid);
    return !p || p->state == 'Z';
}

std::vector<std::string> open_fds(pid_t pid) {
    std::vector<std::string> fds;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            char target[256] = {};
            ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
            fds.push_back(std::string(e->d_name) + " -> " + target);
        }
        ::closedir(d);
    }
    return fds;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
}

// The lines of a --trace file: the header, then one object per page.
std::vector<nlohmann::json> read_trace(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

} // namespace

TEST(Stage02, FetchesEveryPageWithEveryWorkerAtOnce) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--workers", "3", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    for (const char* key :
         {"stage", "requests", "ok", "failed", "bytes", "wall_s", "user_s", "sys_s", "max_rss_kb",
          "ctx_voluntary", "ctx_involuntary", "peak_in_flight", "errors", "workers"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["stage"], "02_process_pool");
    EXPECT_EQ(j["ok"], 6);
    EXPECT_EQ(j["failed"], 0);
    EXPECT_EQ(j["workers"], 3);
    EXPECT_EQ(j["peak_in_flight"], 3);
    EXPECT_GT(j["bytes"].get<long>(), 6 * 60);
    // Three workers, six pages: two rounds of one delay each, at the least.
    EXPECT_GE(j["wall_s"].get<double>(), 2 * 0.300);
    // The server's view: exactly three connections open at once, never more.
    auto s = server.stats();
    EXPECT_EQ(s["served"], 6);
    EXPECT_EQ(s["peak_open_connections"], 3);
    EXPECT_EQ(s["peak_waiting"], 3);
}

TEST(Stage02, DefaultIsOneWorkerPerPage) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "8", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], 8);
    EXPECT_EQ(server.stats()["peak_open_connections"], 8);
    // Eight pages one after another would take 2.4 s; at once, about 0.3 s.
    EXPECT_GE(j["wall_s"].get<double>(), 0.300);
    EXPECT_LT(j["wall_s"].get<double>(), 2.0);
    EXPECT_EQ(r.err, ""); // --quiet, and no cap note below 64 pages
}

TEST(Stage02, DefaultWorkersAreCappedWithANote) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "100", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], 64);
    EXPECT_EQ(j["ok"], 100);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("64 worker processes"), std::string::npos) << r.err;
    EXPECT_EQ(server.stats()["peak_open_connections"], 64);
}

TEST(Stage02, MoreWorkersThanPagesForksOnlyOnePerPage) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "2", "--workers", "50", "--json",
                  "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.json()["workers"], 2);
}

TEST(Stage02, PrintsOneSummaryLineWithWorkers) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--workers", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find("3 pages (3 ok, 0 failed)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("workers 2"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("page 2: 200"), std::string::npos) << r.err;
}

TEST(Stage02, ACrashedWorkerFailsItsPageAndIsReaped) {
    Server server({"--delay-ms", "100"});
    Child client({stage, "--port", server.port_arg(), "--count", "5", "--workers", "5",
                  "--crash-after", "2", "--json", "--quiet"});
    ASSERT_TRUE(eventually([&] { return has_exited(client.pid()); }, 20s));
    // The stage has exited but is not reaped yet: any worker it left is still visible.
    EXPECT_TRUE(left_in_group(client.pid()).empty());
    std::string line = client.read_line(5s);
    EXPECT_EQ(client.wait(5s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["ok"], 4);
    EXPECT_EQ(j["failed"], 1);
    ASSERT_EQ(j["errors"].size(), 1u);
    std::string error = j["errors"][0];
    EXPECT_EQ(error.rfind("page 2: ", 0), 0u) << error;
    EXPECT_NE(error.find("killed by signal 9"), std::string::npos) << error;
    EXPECT_EQ(server.stats()["served"], 4); // page 2 was never asked for
}

TEST(Stage02, WhenEveryWorkerDiesTheRemainingPagesFail) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--workers", "1",
                  "--crash-after", "0", "--json", "--quiet"},
                 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    auto j = r.json();
    EXPECT_EQ(j["ok"], 0);
    EXPECT_EQ(j["failed"], 3);
    EXPECT_NE(j["errors"][1].get<std::string>().find("no worker process left"), std::string::npos)
        << j["errors"];
    EXPECT_EQ(server.stats()["served"], 0);
}

TEST(Stage02, AWorkerKilledMidPageFailsThatPageTheOthersCarryOn) {
    Server server({"--delay-ms", "400"});
    Child client({stage, "--port", server.port_arg(), "--count", "4", "--workers", "2", "--json",
                  "--quiet"});
    // Both workers are waiting for their pages: a fact we wait for, not a sleep.
    ASSERT_TRUE(eventually([&] { return server.stats()["waiting"] == 2; }));
    auto workers = children_of(client.pid());
    ASSERT_EQ(workers.size(), 2u);
    ::kill(workers[0], SIGKILL);
    ASSERT_TRUE(eventually([&] { return has_exited(client.pid()); }, 20s));
    EXPECT_TRUE(left_in_group(client.pid()).empty());
    std::string line = client.read_line(5s);
    EXPECT_EQ(client.wait(5s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["ok"], 3); // the survivor fetched its page and the two left over
    EXPECT_EQ(j["failed"], 1);
    EXPECT_NE(
        j["errors"][0].get<std::string>().find("worker process " + std::to_string(workers[0])),
        std::string::npos)
        << j["errors"];
}

TEST(Stage02, CtrlCStopsPromptlyAndLeavesNoWorkerBehind) {
    Server server({"--delay-ms", "10000"});
    Child client({stage, "--port", server.port_arg(), "--count", "4", "--json", "--quiet"});
    ASSERT_TRUE(eventually([&] { return server.stats()["waiting"] == 4; }));
    auto workers = children_of(client.pid());
    ASSERT_EQ(workers.size(), 4u);
    auto sent = Clock::now();
    client.signal(SIGINT); // to the stage only; it must take its workers down itself
    ASSERT_TRUE(eventually([&] { return has_exited(client.pid()); }, 20s));
    // Well before any page's 10 s delay is over.
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - sent).count(), 5.0);
    EXPECT_TRUE(left_in_group(client.pid()).empty());
    for (pid_t w : workers) EXPECT_FALSE(proc_info(w).has_value()) << "worker " << w << " remains";
    EXPECT_EQ(client.wait(5s), 130);
}

TEST(Stage02, WorkersInheritOnlyTheirOwnSocket) {
    Server server({"--delay-ms", "500"});
    Child client({stage, "--port", server.port_arg(), "--count", "3", "--json", "--quiet"});
    ASSERT_TRUE(eventually([&] { return server.stats()["waiting"] == 3; }));
    auto workers = children_of(client.pid());
    ASSERT_EQ(workers.size(), 3u);
    for (pid_t w : workers) {
        // stdin, stdout, stderr, the socketpair to the parent, the page's connection:
        // no other worker's socket, no signal pipe, nothing else the parent had.
        auto fds = open_fds(w);
        EXPECT_EQ(fds.size(), 5u) << "worker " << w << ":\n" << joined(fds);
        for (std::size_t i = 3; i < fds.size(); ++i)
            EXPECT_NE(fds[i].find("socket:"), std::string::npos) << joined(fds);
    }
    EXPECT_EQ(client.wait(20s), 0);
}

TEST(Stage02, NoServerGivesOneHelpfulLineAndExit1) {
    auto r = run({stage, "--port", std::to_string(unused_port()), "--count", "3"}, 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("no server at 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(Stage02, ServerKilledMidRunFailsTheRestAndExits1) {
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

TEST(Stage02, GarbageReplyIsAReportedFailure) {
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

TEST(Stage02, StalledReplyTimesOutInTheWorker) {
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

TEST(Stage02, BadFlagsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--workers", "0"},
                                          {"--workers", "-2"},
                                          {"--workers", "many"},
                                          {"--workers"},
                                          {"--count", "0"}}) {
        args.insert(args.begin(), stage);
        auto r = run(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST(Stage02, HelpShowsWorkersButNotTheTestHook) {
    auto r = run({stage, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--workers"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("--crash-after"), std::string::npos) << r.out;
}

TEST(Stage02, TraceNotesEveryPagesMoments) {
    Server server({"--delay-ms", "200"});
    std::string path = ::testing::TempDir() + "trace_02_process_pool.jsonl";
    auto r = run({stage, "--port", server.port_arg(), "--count", "3", "--workers", "2", "--quiet",
                  "--trace", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = read_trace(path);
    std::remove(path.c_str());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0]["stage"], "02_process_pool");
    for (int page = 0; page < 3; ++page) {
        const auto& p = lines[page + 1];
        EXPECT_EQ(p["page"], page);
        EXPECT_EQ(p["ok"], true);
        // In order: started, connected, sent; the first byte only after the server's delay.
        // (Counted from the start, marked before the request left: a mark taken just after
        // a syscall can be late if the process was preempted, so `sent` is no safe base.)
        double start = p["start_ms"], connected = p["connected_ms"], sent = p["sent_ms"];
        double first_byte = p["first_byte_ms"], done = p["done_ms"];
        EXPECT_LE(start, connected);
        EXPECT_LE(connected, sent);
        EXPECT_GE(first_byte - start, 200) << p;
        EXPECT_LE(first_byte, done);
        EXPECT_TRUE(p["worker"] == 0 || p["worker"] == 1) << p; // which process fetched it
    }
}
