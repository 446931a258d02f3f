// 04_busy_loop against a real 00_server: one page at a time, every "not yet"
// counted as a spin, CPU burnt while waiting — and no endless spin on a dead,
// silent or lying server. The failure paths are shared with 01-03
// (failure_paths_tests.hpp); 04 adds that a stalled page spins while it waits.
#include "failure_paths_tests.hpp"

using namespace harness;
using namespace failure_paths;

const StageInfo this_stage{"04_busy_loop", /*pool=*/false, /*spins=*/true};
INSTANTIATE_TEST_SUITE_P(Stage04, FailurePaths, ::testing::Values(this_stage), stage_name);
INSTANTIATE_TEST_SUITE_P(Stage04, Tracing, ::testing::Values(this_stage), stage_name);

namespace {

const std::string stage = stage_binary("04_busy_loop");

double cpu_s(const nlohmann::json& j) {
    return j["user_s"].get<double>() + j["sys_s"].get<double>();
}

} // namespace

TEST(Stage04, FetchesEveryPageOneAtATimeAndSpins) {
    Server server({"--delay-ms", "100"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    expect_report_keys(j, {"spins"});
    expect_every_page_ok(j, "04_busy_loop", 6, 1);
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
    expect_server_saw(server, 6, 1);
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
