// 07_coroutines against a real 00_server, and against servers that misbehave.
// The behaviour tests are shared with 05 and 06 (all_at_once_tests.hpp): same
// behaviour, other code. Below them, what only 07 reports: its coroutine frames.
// Task, the loop and gather have unit tests of their own: tests/unit/test_coroutines.cpp.
#include "all_at_once_tests.hpp"

#include <signal.h>

#include <set>
#include <sstream>

using all_at_once::AllAtOnce;

INSTANTIATE_TEST_SUITE_P(Stage07, AllAtOnce, ::testing::Values("07_coroutines"),
                         [](const auto& info) { return info.param; });

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

// --- watching the loop (07_coroutines/watch.hpp) ---------------------------------------------

namespace {
std::vector<nlohmann::json> json_lines(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(slurp(path));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    return lines;
}
} // namespace

TEST(Stage07, TheLoopRecordingShowsEveryPageTheServerSawParkAndWake) {
    std::string server_trace = temp_path("server.jsonl"), loop = temp_path("loop07.jsonl");
    Server server({"--delay-ms", "100", "--trace", server_trace});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "5", "--json", "--quiet",
                  "--trace-loop", loop});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = json_lines(loop);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines.front()["type"], "header");
    EXPECT_EQ(lines.back()["type"], "end");
    // Every fd that became readable (an answer) had parked for write (its
    // connect) in an earlier turn, then for read, and ran a step when it woke.
    std::set<int> connected, answered, parked_for_read;
    for (const auto& t : lines) {
        if (t["type"] != "turn") continue;
        for (const auto& w : t["waiting"]) {
            EXPECT_NE(w["who"].get<std::string>().find("fetch:"), std::string::npos) << w;
            if (w["for"] == "write") connected.insert(w["fd"].get<int>());
            if (w["for"] == "read") parked_for_read.insert(w["fd"].get<int>());
        }
        for (const auto& f : t["fds"])
            if (f["events"] == "r") answered.insert(f["fd"].get<int>());
        EXPECT_EQ(t["steps"].size(), t["fds"].size()) << t; // each woken page ran one step
    }
    // The server's own trace: one connection per page, each answered.
    int served = 0;
    std::istringstream in(slurp(server_trace));
    for (std::string line; std::getline(in, line);)
        if (line.find("\"written\"") != std::string::npos) ++served;
    EXPECT_EQ(served, 5);
    EXPECT_EQ(answered.size(), 5u);
    EXPECT_EQ(parked_for_read, answered);
    EXPECT_EQ(connected, answered);
}

TEST(Stage07, TheRecordingStopsAtTraceLoopTurns) {
    std::string loop = temp_path("loop07_bounded.jsonl");
    Server server({"--delay-ms", "50"});
    auto r = run({stage07, "--port", server.port_arg(), "--count", "3", "--quiet", "--trace-loop",
                  loop, "--trace-loop-turns", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = json_lines(loop);
    ASSERT_EQ(lines.size(), 3u); // header, one turn, end
    EXPECT_EQ(lines[2]["recorded"], 1);
    EXPECT_GT(lines[2]["turns"].get<int>(), 1); // the loop went on; the file did not
}

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
