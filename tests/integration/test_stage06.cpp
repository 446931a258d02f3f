// 06_generators against a real 00_server, and against servers that misbehave.
// The tests are shared with 05 (all_at_once_tests.hpp): same behaviour, other code.
// They run the seed's final step (§4.5, yield from), the default; the tests
// below run its first step too (--plain-yield, §4.4), through the same failures.
// Future, Task and the trampoline have unit tests of their own: tests/unit/test_generators.cpp.
#include "all_at_once_tests.hpp"
#include "loop_recording_tests.hpp"

#include <cstdio>

using all_at_once::AllAtOnce;
using loop_recording::LoopRecording;

INSTANTIATE_TEST_SUITE_P(Stage06, AllAtOnce, ::testing::Values("06_generators"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Stage06, LoopRecording,
                         ::testing::Values(loop_recording::LoopStage{"06_generators", "on_",
                                                                     false}),
                         loop_recording::loop_stage_name);

namespace {

using namespace harness;

std::string stage06() {
    return stage_binary("06_generators");
}

TEST(Stage06Steps, EachStepFetchesEveryPageWithAllConnectionsOpenAtOnce) {
    Server server({"--delay-ms", "300"});
    for (std::string step : {"yield from", "plain yield"}) {
        server.reset_stats();
        std::vector<std::string> argv = {stage06(), "--port", server.port_arg(), "--count",
                                         "100",     "--json", "--quiet"};
        if (step == "plain yield") argv.push_back("--plain-yield");
        auto r = run(argv);
        ASSERT_EQ(r.exit_code, 0) << step << ": " << r.err;
        auto j = r.json();
        EXPECT_EQ(j["fetch"], step); // the default is the seed's last step
        expect_every_page_ok(j, "06_generators", 100, 100);
        expect_server_saw(server, 100, 100);
        EXPECT_GE(j["wall_s"].get<double>(), 0.3) << step;
        EXPECT_LT(j["wall_s"].get<double>(), 3.0) << step; // 100 in a row: 30 s
    }
}

// --trace: the plain-yield fetch notes its moments at the same points as fetch().
TEST(Stage06Steps, PlainYieldTracesEveryMomentInOrder) {
    Server server({"--delay-ms", "100"});
    std::string path = temp_path("06_plain_yield.jsonl");
    auto r = run({stage06(), "--port", server.port_arg(), "--count", "4", "--plain-yield",
                  "--quiet", "--trace", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    TraceFile t = read_trace(path);
    ASSERT_EQ(t.pages.size(), 4u);
    for (const auto& p : t.pages) {
        double last = 0;
        for (const char* m : {"start_ms", "connected_ms", "sent_ms", "first_byte_ms", "done_ms"}) {
            ASSERT_TRUE(p[m].is_number()) << m << " in " << p;
            EXPECT_GE(p[m].get<double>(), last) << m;
            last = p[m].get<double>();
        }
        EXPECT_GE(p["first_byte_ms"].get<double>() - p["start_ms"].get<double>(), 100.0);
    }
    std::remove(path.c_str());
}

// As in AllAtOnce: the probe of require_server() gets through, then nobody
// listens, so every page's non-blocking connect fails (SO_ERROR after WRITE)
// and the error is thrown in at the plain co_yield that waited for it.
TEST(Stage06Steps, PlainYieldReportsConnectErrors) {
    ladder::Fd listener = ladder::listen_tcp(ladder::resolve("127.0.0.1", 0), 16);
    int port = ladder::local_port(listener.get());
    Child client({stage06(), "--port", std::to_string(port), "--count", "5", "--plain-yield",
                  "--json", "--quiet"});
    pollfd p{listener.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the client never probed";
    ladder::Fd probe(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(probe);
    listener.reset();
    probe.reset();
    std::string line = client.read_line(20s);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["fetch"], "plain yield");
    EXPECT_EQ(j["failed"], 5);
    expect_errors_contain(j, "Connection refused");
}

TEST(Stage06Steps, PlainYieldFailsGarbageAndTruncatedReplies) {
    auto r = run_against(replies_with("hello, I am not HTTP\r\n\r\n"),
                         {stage06(), "--count", "3", "--plain-yield"});
    expect_every_page_failed(r, 3, "not an HTTP response");
    r = run_against(replies_with("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n{\"path\":"),
                    {stage06(), "--count", "2", "--plain-yield"});
    expect_every_page_failed(r, 2, "truncated");
}

// With poll, a registration left behind by a timed-out page would come back
// as a closed fd (POLLNVAL) pointing at a dead frame: the stage must still
// end cleanly, every page failed by its own deadline, side by side.
TEST(Stage06Steps, PlainYieldStalledRepliesTimeOutTogetherWithEitherSelector) {
    for (std::string backend : {"epoll", "poll"}) {
        auto r = run_against(never_replies,
                             {stage06(), "--count", "5", "--timeout-ms", "300", "--plain-yield",
                              "--selector", backend},
                             20s);
        auto j = expect_every_page_failed(r, 5, "timed out after 300 ms (--timeout-ms)");
        EXPECT_GE(j["wall_s"].get<double>(), 0.3) << backend;
        EXPECT_LT(j["wall_s"].get<double>(), 1.2) << backend;
    }
}

} // namespace
