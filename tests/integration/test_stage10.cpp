// 10_green_threads against a real 00_server, and against servers that misbehave.
// The behaviour tests are shared with 05-07 (all_at_once_tests.hpp): same
// behaviour, other code — here 01's blocking code on fibers. Below them, what
// only 10 has: stacks, their guard, and what a page's stack costs.
// The fibers, the scheduler and the patched calls have unit tests of their own:
// tests/unit/test_green_threads.cpp.
#include "all_at_once_tests.hpp"

using all_at_once::AllAtOnce;

INSTANTIATE_TEST_SUITE_P(Stage10, AllAtOnce, ::testing::Values("10_green_threads"),
                         [](const auto& info) { return info.param; });

namespace {

using namespace harness;
const std::string stage10 = stage_binary("10_green_threads");

} // namespace

TEST(Stage10, ReportsTheStackEachPageReservedAndTouched) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage10, "--port", server.port_arg(), "--count", "100", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    expect_every_page_ok(j, "10_green_threads", 100, 100);
    expect_report_keys(j, {"selector", "stack_kb", "guard_kb", "stack_touched_kb_per_page",
                           "stack_touched_kb_max", "stacks_leaked", "switches"});
    EXPECT_EQ(j["stack_kb"], 64);
    EXPECT_EQ(j["guard_kb"], 16);
    // A page touches a few pages of its 64 KiB: more than a coroutine frame, far less than
    // reserved.
    EXPECT_GE(j["stack_touched_kb_per_page"].get<double>(), 4.0);
    EXPECT_LT(j["stack_touched_kb_max"].get<double>(), 64.0);
    EXPECT_EQ(j["stacks_leaked"], 0);
    // Each page starts once and is resumed at least once (its answer came later than its request).
    EXPECT_GE(j["switches"].get<long>(), 200);
}

TEST(Stage10, PagesThatTimeOutLeaveNoStackBehind) {
    Server server({"--delay-ms", "2000"});
    auto r = run({stage10, "--port", server.port_arg(), "--count", "50", "--timeout-ms", "100",
                  "--json", "--quiet"},
                 20s);
    auto j = expect_every_page_failed(r, 50, "recv timed out after 100 ms (--timeout-ms)");
    EXPECT_EQ(j["stacks_leaked"], 0);
    EXPECT_LT(j["wall_s"].get<double>(), 1.5); // fifty timeouts side by side, not in a row
}

TEST(Stage10, AStackOverflowIsOneClearLineAndExit1) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage10, "--port", server.port_arg(), "--count", "10", "--overflow-page", "7"});
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, 0) << "a crash, not a message";
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, ""); // no report: the process cannot go on after the fault
    std::size_t line = r.err.find("page 7: fiber stack overflow at 64 KiB: raise --stack-kb\n");
    ASSERT_NE(line, std::string::npos) << r.err;
    EXPECT_EQ(r.err.substr(line).size(),
              std::string("page 7: fiber stack overflow at 64 KiB: raise --stack-kb\n").size())
        << "the overflow line is the last thing said";
}

TEST(Stage10, AStackTooSmallForOnePageIsCaughtByTheGuard) {
    Server server({"--delay-ms", "0"});
    // 01's blocking_get() alone has a 4 KiB buffer in its frame.
    auto r =
        run({stage10, "--port", server.port_arg(), "--count", "3", "--stack-kb", "4", "--quiet"});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "page 0: fiber stack overflow at 4 KiB: raise --stack-kb"))
        << r.err;
}

TEST(Stage10, BadStackSizesExitWith2) {
    for (std::string kb : {"0", "3", "many", "65537"}) {
        auto r = run({stage10, "--stack-kb", kb});
        EXPECT_EQ(r.exit_code, 2) << kb;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}
