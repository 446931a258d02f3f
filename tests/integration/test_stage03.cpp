// 03_thread_pool against a real 00_server: concurrency as the server saw it,
// threads (not processes), what a thread reserves. What every pool does is
// shared with 02 (pool_tests.hpp), the failure paths with 01, 02 and 04
// (failure_paths_tests.hpp): same behaviour, other code.
#include "failure_paths_tests.hpp"
#include "pool_tests.hpp"

#include <sstream>

using namespace harness;
using namespace failure_paths;
using namespace pool;

INSTANTIATE_TEST_SUITE_P(Stage03, Pool,
                         ::testing::Values(PoolInfo{"03_thread_pool",
                                                    256,
                                                    "256 threads",
                                                    {"thread_stack_kb", "vm_peak_kb"}}),
                         pool_name);

const StageInfo this_stage{"03_thread_pool", /*pool=*/true};
INSTANTIATE_TEST_SUITE_P(Stage03, FailurePaths, ::testing::Values(this_stage), stage_name);
INSTANTIATE_TEST_SUITE_P(Stage03, Tracing, ::testing::Values(this_stage), stage_name);

namespace {

const std::string stage = stage_binary("03_thread_pool");

// "Threads:" in /proc/PID/status: how many threads the process has now.
int thread_count(pid_t pid) {
    std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
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

} // namespace

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
