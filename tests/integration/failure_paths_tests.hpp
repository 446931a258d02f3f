// Integration tests shared by the stages before the event loop (01_blocking,
// 02_process_pool, 03_thread_pool, 04_busy_loop): the same bad input gets the
// same answer whatever the code inside (one helpful line or a reported
// failure, exit 1, never a hang), and each writes the same --trace file. The
// bad servers are a real 00_server with --fault; a FakeServer only where no
// fault mode fits. A test_stageNN.cpp includes this file and instantiates
// FailurePaths and Tracing with its StageInfo.
#pragma once

#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace failure_paths {

using namespace harness;
using Clock = std::chrono::steady_clock;

// What the shared tests need to know about a stage.
struct StageInfo {
    std::string name;   // "02_process_pool"
    bool pool = false;  // has --workers (02, 03): by default one worker per page, all at once
    bool spins = false; // counts every "not yet" it read (04)
};

// The stage's name in test names and failure messages.
inline std::string stage_name(const ::testing::TestParamInfo<StageInfo>& info) {
    return info.param.name;
}
inline void PrintTo(const StageInfo& s, std::ostream* os) {
    *os << s.name;
}

class StageTest : public ::testing::TestWithParam<StageInfo> {
  protected:
    void SetUp() override {
        if (auto why = skipped_here(GetParam().name)) GTEST_SKIP() << *why;
    }
    bool pool() const { return GetParam().pool; }
    // The stage binary, then `args`.
    std::vector<std::string> stage(std::vector<std::string> args) const {
        args.insert(args.begin(), stage_binary(GetParam().name));
        return args;
    }
};
class FailurePaths : public StageTest {};
class Tracing : public StageTest {};

TEST_P(FailurePaths, NoServerGivesOneHelpfulLineAndExit1) {
    expect_no_server_answer(stage({"--count", "3"}));
}

// The server dies mid-run: the page in flight is cut short and every later
// connect is refused or reset, so the rest fail at once, far within one --timeout-ms.
// (The seed's busy loop swallows every error and would spin forever here.)
TEST_P(FailurePaths, ServerKilledMidRunFailsTheRestAtOnceAndExits1) {
    Server server({"--delay-ms", "50"});
    auto args = stage({"--port", server.port_arg(), "--count", "30", "--timeout-ms", "10000",
                       "--json", "--quiet"});
    if (pool()) args.insert(args.end(), {"--workers", "3"});
    Child client(args);
    // Kill the server once it has served a few pages: a fact we wait for, not a sleep.
    ASSERT_TRUE(eventually([&] { return server.stats()["served"].get<int>() >= 3; }, 20s));
    server.process().signal(SIGKILL);
    auto killed = Clock::now();
    std::string line = client.read_line(30s);
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed).count(), 9.0);
    EXPECT_EQ(client.wait(10s), 1);
    auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["ok"].get<int>(), 3);
    EXPECT_GT(j["failed"].get<int>(), 0);
    EXPECT_EQ(j["ok"].get<int>() + j["failed"].get<int>(), 30);
    // The report keeps only the first few errors, and which come first is a
    // race: with a pool, the pages in flight are cut short ("empty response",
    // "reset") and a connect racing the kill is reset, so "refused" may fall
    // outside them. Each kept error must still be one way a dead server shows,
    // never a timeout.
    for (const auto& e : j["errors"]) {
        auto text = e.get<std::string>();
        EXPECT_TRUE(contains(text, "Connection refused") || contains(text, "Connection reset") ||
                    contains(text, "empty response") || contains(text, "truncated"))
            << text;
        EXPECT_FALSE(contains(text, "timed out")) << text;
    }
    // One page at a time: the page in flight ends only once the dead server's
    // sockets are closed, its listener among them, so the next connect is refused.
    if (!pool()) {
        EXPECT_TRUE(contains(j["errors"].dump(), "Connection refused")) << j["errors"];
    }
}

TEST_P(FailurePaths, GarbageReplyIsAReportedFailure) {
    auto r = run_against_fault("garbage", stage({"--count", "2"}));
    expect_every_page_failed(r, 2, "not an HTTP response");
}

TEST_P(FailurePaths, TruncatedReplyIsAReportedFailure) {
    auto r = run_against_fault("truncate-body", stage({"--count", "1"}));
    expect_every_page_failed(r, 1, "truncated");
}

// Every way 00_server --fault can fail a page at once: each page is reported
// with its own words, the stage exits 1, and nothing waits out a timeout.
TEST_P(FailurePaths, EachFaultIsAReportedFailure) {
    for (const auto& [mode, error] : quick_faults()) {
        SCOPED_TRACE(mode);
        auto r = run_against_fault(mode, stage({"--count", "2"}));
        auto j = expect_every_page_failed(r, 2, error);
        EXPECT_LT(j["wall_s"].get<double>(), 5.0) << "it waited out a timeout";
    }
}

// An answer that trickles in one byte every 10 ms is still a good page, read
// in many small pieces; it takes at least one page's trickle.
TEST_P(FailurePaths, ATricklingAnswerIsReadWhole) {
    auto r = run_against_fault("trickle", stage({"--count", "2"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["ok"], 2);
    double one_page_bytes = j["bytes"].get<double>() / 2;
    EXPECT_GE(j["wall_s"].get<double>(), 0.01 * (one_page_bytes - 1));
}

TEST_P(FailurePaths, WrongPageIsAReportedFailure) {
    auto r = run_against(replies_with("HTTP/1.0 200 OK\r\n\r\n{\"path\":\"/elsewhere\"}"),
                         stage({"--count", "1"}));
    expect_every_page_failed(r, 1, "not the JSON page for /");
}

// A server that never answers: each page waits its full --timeout-ms (in the
// worker, for 02 and 03; spinning, for 04) and fails, and the run ends.
TEST_P(FailurePaths, StalledReplyTimesOut) {
    auto r = run_against_fault("stall", stage({"--count", "2", "--timeout-ms", "200"}), 20s);
    auto j = expect_every_page_failed(r, 2, "timed out");
    // One page after the other: two timeouts; a worker per page: side by side.
    EXPECT_GE(j["wall_s"].get<double>(), (pool() ? 1 : 2) * 0.2);
    if (GetParam().spins) {
        EXPECT_GE(j["spins"].get<long>(), 2); // it spun while it waited
    }
}

TEST_P(FailurePaths, BadFlagsExitWith2) {
    std::vector<std::vector<std::string>> cases = {
        {"--count", "0"}, {"--count", "ten"},    {"--port"},
        {"--bogus"},      {"--timeout-ms", "0"}, {"--json=yes"}};
    if (pool())
        cases.insert(cases.end(), {{"--workers", "0"},
                                   {"--workers", "-1"},
                                   {"--workers", "-2"},
                                   {"--workers", "many"},
                                   {"--workers", "4x"},
                                   {"--workers"}});
    else
        cases.push_back({"--workers", "2"}); // no pool here
    for (const auto& args : cases) {
        auto r = run(stage(args));
        EXPECT_EQ(r.exit_code, 2) << args[0];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST_P(Tracing, NotesEveryPagesMoments) {
    Server server({"--delay-ms", "100"});
    std::string path = temp_path("trace_" + GetParam().name + ".jsonl");
    auto args = stage({"--port", server.port_arg(), "--count", "3", "--quiet", "--trace", path});
    if (pool()) args.insert(args.end(), {"--workers", "2"});
    auto r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    TraceFile t = read_trace(path);
    std::remove(path.c_str());
    EXPECT_EQ(t.header["stage"], GetParam().name);
    ASSERT_EQ(t.pages.size(), 3u);
    for (int page = 0; page < 3; ++page) {
        const auto& p = t.pages[page];
        EXPECT_EQ(p["page"], page);
        EXPECT_EQ(p["ok"], true);
        // In order: started, connected, sent; the first byte only after the server's delay.
        // (Counted from the start, marked before the request left: a mark taken just after
        // a syscall can be late if the process was preempted, so `sent` is no safe base.)
        double start = p["start_ms"], connected = p["connected_ms"], sent = p["sent_ms"];
        double first_byte = p["first_byte_ms"], done = p["done_ms"];
        EXPECT_LE(start, connected);
        EXPECT_LE(connected, sent);
        EXPECT_GE(first_byte - start, 100) << p;
        EXPECT_LE(first_byte, done);
        // Which worker (process or thread) fetched it; no workers in 01 and 04.
        if (pool()) {
            EXPECT_TRUE(p["worker"] == 0 || p["worker"] == 1) << p;
        } else {
            EXPECT_TRUE(p["worker"].is_null()) << p;
        }
    }
}

} // namespace failure_paths
