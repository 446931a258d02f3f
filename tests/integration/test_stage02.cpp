// 02_process_pool against a real 00_server: concurrency as the server saw it,
// workers that crash or are killed, Ctrl-C, and what the workers inherit.
// What every pool does is shared with 03 (pool_tests.hpp), the failure paths
// with 01, 03 and 04 (failure_paths_tests.hpp): same behaviour, other code.
#include "failure_paths_tests.hpp"
#include "pool_tests.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

using namespace harness;
using namespace failure_paths;
using namespace pool;

INSTANTIATE_TEST_SUITE_P(Stage02, Pool,
                         ::testing::Values(PoolInfo{"02_process_pool", 64, "64 worker processes"}),
                         pool_name);

const StageInfo this_stage{"02_process_pool", /*pool=*/true};
INSTANTIATE_TEST_SUITE_P(Stage02, FailurePaths, ::testing::Values(this_stage), stage_name);
INSTANTIATE_TEST_SUITE_P(Stage02, Tracing, ::testing::Values(this_stage), stage_name);

namespace {

const std::string stage = stage_binary("02_process_pool");

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

} // namespace

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

TEST(Stage02, HelpShowsWorkersButNotTheTestHook) {
    auto r = run({stage, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--workers"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("--crash-after"), std::string::npos) << r.out;
}
