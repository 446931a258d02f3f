// 05_callbacks against a real 00_server, and against servers that misbehave.
// The behaviour tests are shared with 06 and 07 (all_at_once_tests.hpp): same
// behaviour, other code. Below them, what only 05 has: --edge-triggered.
#include "all_at_once_tests.hpp"
#include "loop_recording_tests.hpp"

using all_at_once::AllAtOnce;
using loop_recording::LoopRecording;

INSTANTIATE_TEST_SUITE_P(Stage05, AllAtOnce, ::testing::Values("05_callbacks"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Stage05, LoopRecording,
                         ::testing::Values(loop_recording::LoopStage{"05_callbacks", "page ",
                                                                     false}),
                         loop_recording::loop_stage_name);

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

// Exercise 4 of notes/05. The page (16.5 KB with its headers) takes five
// recv()s (four of 4 KB) and a sixth that sees the end of stream. The server
// writes it with one send() and closes: two arrivals, so two edges at most.
// Level-triggered, the loop calls on_readable() until everything is read;
// edge-triggered, it waits for a third edge that never comes.
TEST(Stage05, EdgeTriggeredStallsWhenACallbackDoesNotDrainTheSocket) {
    Server server({"--delay-ms", "0", "--body-bytes", "16384"});
    std::vector<std::string> argv = {stage05, "--port", server.port_arg()};
    argv.insert(argv.end(), {"--count", "5", "--json", "--quiet"});
    auto level = run(argv);
    ASSERT_EQ(level.exit_code, 0) << level.err;
    EXPECT_EQ(level.json()["ok"], 5);
    EXPECT_EQ(level.json()["selector"], "epoll");

    argv.insert(argv.end(), {"--edge-triggered", "--timeout-ms", "500"});
    auto edge = run(argv);
    auto j = expect_every_page_failed(
        edge, 5, "timed out after 500 ms (--timeout-ms) waiting for the answer");
    EXPECT_EQ(j["selector"], "epoll (edge-triggered)");
    EXPECT_EQ(server.stats()["served"], 10); // the server answered every page both times
}

TEST(Stage05, EdgeTriggeredNeedsEpoll) {
    for (std::string backend : {"poll", "select"}) {
        auto r = run({stage05, "--edge-triggered", "--selector", backend});
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(contains(r.err, "--edge-triggered needs --selector epoll")) << r.err;
    }
}
