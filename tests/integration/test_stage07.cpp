// 07_coroutines against a real 00_server, and against servers that misbehave.
// The behaviour tests are shared with 05 and 06 (all_at_once_tests.hpp): same
// behaviour, other code. Below them, what only 07 reports: its coroutine frames.
// Task, the loop and gather have unit tests of their own: tests/unit/test_coroutines.cpp.
#include "all_at_once_tests.hpp"
#include "loop_recording_tests.hpp"

#include <signal.h>

#include <set>
#include <sstream>

using all_at_once::AllAtOnce;
using loop_recording::LoopRecording;

INSTANTIATE_TEST_SUITE_P(Stage07, AllAtOnce, ::testing::Values("07_coroutines"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Stage07, LoopRecording,
                         ::testing::Values(loop_recording::LoopStage{"07_coroutines", "fetch:",
                                                                     true}),
                         loop_recording::loop_stage_name);

namespace {

using namespace harness;
const std::string stage07 = stage_binary("07_coroutines");

} // namespace

TEST(Stage07, CountsItsCoroutineFramesAndFreesEveryOne) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "100", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["ok"], 100);
    // A page is three frames: crawl_page and fetch, which live as long as the
    // page, and async_send_all, which is gone once the request is sent.
    EXPECT_NEAR(j["frames_per_page"].get<double>(), 3.0, 0.05); // (+ crawl and gather, once)
    long live = j["live_frame_bytes_per_page"].get<long>();
    EXPECT_GT(live, 200);
    EXPECT_LT(live, j["frame_bytes_per_page"].get<long>()); // the send frame was freed early
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // The budget for a parked page (notes/07) is for optimised builds: a
    // debug or sanitizer build keeps more in each frame.
    EXPECT_LT(live, 640);
#endif
    EXPECT_EQ(j["frames_leaked"], 0);
}

TEST(Stage07, FailedPagesLeakNoFramesEither) {
    Server server({"--delay-ms", "2000"});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "50", "--timeout-ms", "100",
                  "--json", "--quiet"},
                 20s);
    EXPECT_EQ(r.exit_code, 1);
    auto j = r.json();
    EXPECT_EQ(j["failed"], 50);
    EXPECT_EQ(j["frames_leaked"], 0); // every frame parked at a timed-out co_await was freed
}

TEST(Stage07, AWatchStillWaitingAtTheEndIsNotALeakedFrame) {
    Server server({"--delay-ms", "50"});
    // The task view's one-shot dump would fire long after the crawl: its
    // coroutine is still parked when the crawl ends, and ends with the loop.
    auto r = run({stage07, "--port", server.port_arg(), "--count", "5", "--json", "--quiet",
                  "--dump-tasks-after-ms", "60000"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.json()["frames_leaked"], 0);
}

TEST(Stage07, AThousandPagesWaitSideBySide) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "1000", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["ok"], 1000);
    EXPECT_EQ(server.stats()["peak_waiting"], 1000); // the server saw all of them at once
    EXPECT_GE(j["wall_s"].get<double>(), 0.3);
    EXPECT_LT(j["wall_s"].get<double>(), 10.0);
}

// --- watching the loop (07_coroutines/watch/) ---------------------------------------------

TEST(Stage07, TheTaskViewShowsWhoAwaitsWhomThenTheCrawlCarriesOn) {
    Server server({"--delay-ms", "400"});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "4", "--json", "--quiet",
                  "--dump-tasks-after-ms", "100"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.json()["ok"], 4); // printed, and carried on
    EXPECT_TRUE(contains(r.err, "tasks on the loop at turn")) << r.err;
    // The page gather awaits first, under gather; the others on their own.
    EXPECT_TRUE(contains(r.err, "crawl > gather<void> > crawl_page > fetch: parked at line"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "crawl_page > fetch: parked at line")) << r.err;
    EXPECT_TRUE(contains(r.err, "to read, deadline in")) << r.err;
}

TEST(Stage07, KillQuitPrintsTheTasksAndTheCrawlCarriesOn) {
    Server server({"--delay-ms", "1000"});
    std::string err = temp_path("stage07_quit.err");
    Child stage({stage07, "--port", server.port_arg(), "--count", "3", "--quiet"}, err);
    ASSERT_TRUE(eventually([&] { return server.stats()["waiting"] == 3; }));
    stage.signal(SIGQUIT);
    EXPECT_EQ(stage.wait(), 0); // not a core dump: it printed, then finished the crawl
    std::string said = slurp(err);
    EXPECT_TRUE(contains(said, "tasks on the loop at turn")) << said;
    EXPECT_TRUE(contains(said, "crawl_page > fetch: parked at line")) << said;
}
