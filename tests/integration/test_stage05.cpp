// 05_callbacks against a real 00_server, and against servers that misbehave.
// The behaviour tests are shared with 06 and 07 (all_at_once_tests.hpp): same
// behaviour, other code. Below them, what only 05 shows.
#include "all_at_once_tests.hpp"

using all_at_once::AllAtOnce;

INSTANTIATE_TEST_SUITE_P(Stage05, AllAtOnce, ::testing::Values("05_callbacks"),
                         [](const auto& info) { return info.param; });

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace harness;
const std::string stage05 = stage_binary("05_callbacks");

} // namespace

// Without --quiet as well: nothing but the one line, since no page got as far as an answer.
TEST(Stage05, SelectPastFd1023SaysOnlyWhyAndWhatToUse) {
    if (!all_at_once::can_open_fds(1100)) GTEST_SKIP() << "the fd limit is below 1100 here";
    Server server({"--delay-ms", "50"});
    auto r = run({stage05, "--port", server.port_arg(), "--count", "2000", "--selector", "select"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "05_callbacks: " + all_at_once::select_limit_line);
    EXPECT_EQ(server.stats()["served"], 0); // it stopped while starting pages, before the loop
}
