// --trace on every stage, and ./ladder timeline drawing it.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>

using namespace harness;

namespace {

const char* crawler_stages[] = {"01_blocking",   "02_process_pool", "03_thread_pool",
                                "04_busy_loop",  "05_callbacks",    "06_generators",
                                "07_coroutines", "10_green_threads",
                                "11_io_uring"};
const char* moments[] = {"start_ms", "connected_ms", "sent_ms", "first_byte_ms", "done_ms"};

bool built(const std::string& stage) { // and runnable here (11 needs io_uring)
    return ::access(stage_binary(stage).c_str(), X_OK) == 0 && !skipped_here(stage);
}

TraceFile traced_run(const std::string& stage, int port, int count, const std::string& path) {
    auto r =
        run({stage_binary(stage), "--port", std::to_string(port), "--count", std::to_string(count),
             "--quiet", "--json", "--timeout-ms", "2000", "--trace", path});
    EXPECT_FALSE(r.timed_out) << stage;
    return read_trace(path);
}

} // namespace

TEST(Trace, EveryStageWritesAllFiveMomentsInOrder) {
    Server server({"--delay-ms", "100"});
    for (const char* stage : crawler_stages) {
        if (!built(stage)) continue;
        std::string path = temp_path(std::string(stage) + ".jsonl");
        TraceFile t = traced_run(stage, server.port(), 5, path);
        EXPECT_EQ(t.header["stage"], stage);
        EXPECT_EQ(t.header["count"], 5) << stage;
        EXPECT_EQ(t.header["server_delay_ms"], 100) << stage;
        EXPECT_TRUE(t.header["t0_us"].is_number()) << stage;
        ASSERT_EQ(t.pages.size(), 5u) << stage;
        for (std::size_t i = 0; i < t.pages.size(); ++i) {
            const auto& p = t.pages[i];
            EXPECT_EQ(p["page"], i) << stage;
            EXPECT_TRUE(p["ok"].get<bool>()) << stage;
            double last = 0;
            for (const char* m : moments) {
                ASSERT_TRUE(p[m].is_number()) << stage << " page " << i << " " << m;
                EXPECT_GE(p[m].get<double>(), last) << stage << " page " << i << " " << m;
                last = p[m].get<double>();
            }
            // The server's delay lies between the page's start and its first byte. (Not
            // from `sent`: a mark taken after a syscall is late if the process was preempted.)
            EXPECT_GE(p["first_byte_ms"].get<double>() - p["start_ms"].get<double>(), 100.0)
                << stage;
        }
        std::remove(path.c_str());
    }
}

TEST(Trace, FailedPagesCarryTheirError) {
    FakeServer fake(replies_with("garbage\r\n\r\n"));
    for (const char* stage : crawler_stages) {
        if (!built(stage)) continue;
        std::string path = temp_path(std::string(stage) + "_fail.jsonl");
        TraceFile t = traced_run(stage, fake.port(), 2, path);
        ASSERT_EQ(t.pages.size(), 2u) << stage;
        for (const auto& p : t.pages) {
            EXPECT_FALSE(p["ok"].get<bool>()) << stage;
            EXPECT_NE(p["error"].get<std::string>().find("not an HTTP response"), std::string::npos)
                << stage << ": " << p["error"];
            EXPECT_TRUE(p["done_ms"].is_number()) << stage;
        }
        std::remove(path.c_str());
    }
}

TEST(Trace, Stage01NeverOverlapsTwoPages) {
    Server server({"--delay-ms", "50"});
    std::string path = temp_path("01.jsonl");
    TraceFile t = traced_run("01_blocking", server.port(), 5, path);
    ASSERT_EQ(t.pages.size(), 5u);
    for (std::size_t i = 1; i < t.pages.size(); ++i)
        EXPECT_LE(t.pages[i - 1]["done_ms"].get<double>(), t.pages[i]["start_ms"].get<double>());
    std::remove(path.c_str());
}

TEST(Trace, EventDrivenStagesWaitForEveryPageAtOnce) {
    // With a 200 ms delay, every request is sent long before the first answer
    // can come back: all pages' waits overlap.
    Server server({"--delay-ms", "200"});
    for (const char* stage :
         {"05_callbacks", "06_generators", "07_coroutines", "10_green_threads", "11_io_uring"}) {
        if (!built(stage)) continue;
        std::string path = temp_path(std::string(stage) + "_overlap.jsonl");
        TraceFile t = traced_run(stage, server.port(), 20, path);
        ASSERT_EQ(t.pages.size(), 20u) << stage;
        double last_sent = 0, first_answer = 1e18;
        for (const auto& p : t.pages) {
            last_sent = std::max(last_sent, p["sent_ms"].get<double>());
            first_answer = std::min(first_answer, p["first_byte_ms"].get<double>());
        }
        EXPECT_LT(last_sent, first_answer) << stage;
        std::remove(path.c_str());
    }
}

TEST(Timeline, DrawsAPanelPerStageAndALanePerPage) {
    std::string svg = temp_path("t.svg"), html = temp_path("t.html");
    auto r = run({"/usr/bin/env", "python3", source_root() + "/tools/ladder_cli.py", "--build",
                  build_root(), "timeline", "--stages", "01,05", "--count", "4", "--delay-ms", "50",
                  "--svg", svg, "--html", html, "--text"},
                 120s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto check = run({"/usr/bin/env", "python3", "-c",
                      "import sys, xml.etree.ElementTree as ET\n"
                      "root = ET.parse(sys.argv[1]).getroot()\n"
                      "cls = lambda c: [e for e in root.iter() if e.get('class') == c]\n"
                      "print(len(cls('panel')), len(cls('lane')), len(cls('segment')) >= 8)\n",
                      svg});
    EXPECT_EQ(check.out, "2 8 True\n") << check.err;
    std::string page = slurp(html);
    EXPECT_NE(page.find("<svg"), std::string::npos);
    EXPECT_EQ(page.find("src="), std::string::npos) << "self-contained";
    EXPECT_EQ(page.find("<link"), std::string::npos) << "self-contained";
    // The text fallback: a lane per page under each stage's name.
    EXPECT_NE(r.out.find("01_blocking:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("05_callbacks:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("     3 |"), std::string::npos) << r.out;
    std::remove(svg.c_str());
    std::remove(html.c_str());
}
