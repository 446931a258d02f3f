// 01_blocking against a real 00_server, and against servers that misbehave.
// The failure paths are shared with 02-04 (failure_paths_tests.hpp): same
// answers to the same bad input, other code.
#include "failure_paths_tests.hpp"

using namespace harness;
using namespace failure_paths;

const StageInfo this_stage{"01_blocking"};
INSTANTIATE_TEST_SUITE_P(Stage01, FailurePaths, ::testing::Values(this_stage), stage_name);
INSTANTIATE_TEST_SUITE_P(Stage01, Tracing, ::testing::Values(this_stage), stage_name);

namespace {

const std::string stage = stage_binary("01_blocking");

} // namespace

TEST(Stage01, FetchesEveryPageOneAtATime) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage, "--port", server.port_arg(), "--count", "6", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    expect_report_keys(j);
    EXPECT_EQ(j["requests"], 6);
    expect_every_page_ok(j, "01_blocking", 6, 1);
    // Six pages one after another cannot take less than six delays.
    EXPECT_GE(j["wall_s"].get<double>(), 6 * 0.050);
    // The server's view: all six served, never two connections open at once.
    expect_server_saw(server, 6, 1);
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
