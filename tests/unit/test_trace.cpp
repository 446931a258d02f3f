// --trace through the Report: what the file holds, and that nothing is
// recorded without it.
#include "report.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

using namespace ladder;

namespace {

std::vector<nlohmann::json> read_lines(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::ifstream f(path);
    for (std::string line; std::getline(f, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

ClientOptions quiet_options(int count, std::string trace) {
    ClientOptions o;
    o.count = count;
    o.quiet = true;
    o.json = true;
    o.port = 1; // nothing listens there: the header's server delay is unknown
    o.trace = std::move(trace);
    return o;
}

} // namespace

TEST(Trace, WritesAHeaderAndOneOrderedLinePerPage) {
    std::string path = testing::TempDir() + "trace_" + std::to_string(::getpid()) + ".jsonl";
    ClientOptions o = quiet_options(3, path);
    Report report("99_test", o);
    EXPECT_TRUE(report.tracing());
    for (int page = 0; page < 2; ++page) {
        report.page_started(page);
        report.set_worker(page, 7);
        report.mark(page, Mark::connected);
        report.mark(page, Mark::sent);
        report.mark(page, Mark::first_byte);
        report.page_ok(page, 200, 10);
    }
    report.page_started(2);
    PageTimes times;
    times.mark(Mark::connected);
    report.page_failed(2, "recv timed out", times);
    testing::internal::CaptureStdout();
    EXPECT_EQ(report.finish(), 1);
    testing::internal::GetCapturedStdout();

    auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0]["type"], "header");
    EXPECT_EQ(lines[0]["stage"], "99_test");
    EXPECT_EQ(lines[0]["count"], 3);
    EXPECT_TRUE(lines[0]["server_delay_ms"].is_null());
    EXPECT_TRUE(lines[0]["t0_us"].is_number());
    for (int page = 0; page < 2; ++page) {
        const auto& p = lines[1 + page];
        EXPECT_EQ(p["page"], page);
        EXPECT_EQ(p["worker"], 7);
        EXPECT_TRUE(p["ok"].get<bool>());
        double last = -1;
        for (const char* key :
             {"start_ms", "connected_ms", "sent_ms", "first_byte_ms", "done_ms"}) {
            ASSERT_TRUE(p[key].is_number()) << key;
            EXPECT_GE(p[key].get<double>(), last) << key; // the five moments are in order
            last = p[key].get<double>();
        }
    }
    const auto& failed = lines[3];
    EXPECT_FALSE(failed["ok"].get<bool>());
    EXPECT_EQ(failed["error"], "recv timed out");
    EXPECT_TRUE(failed["connected_ms"].is_number()); // measured elsewhere, handed over
    EXPECT_TRUE(failed["first_byte_ms"].is_null());  // never reached
    std::remove(path.c_str());
}

TEST(Trace, WithoutTraceNothingIsRecordedOrWritten) {
    ClientOptions o = quiet_options(1, "");
    Report report("99_test", o);
    EXPECT_FALSE(report.tracing());
    report.page_started(0);
    report.mark(0, Mark::connected); // a no-op
    report.page_ok(0, 200, 1);
    testing::internal::CaptureStdout();
    EXPECT_EQ(report.finish(), 0);
    auto out = nlohmann::json::parse(testing::internal::GetCapturedStdout());
    EXPECT_EQ(out["ok"], 1);
}

TEST(Trace, AnUnwritableTraceFileIsReportedNotFatal) {
    ClientOptions o = quiet_options(1, "/nonexistent-dir/trace.jsonl");
    Report report("99_test", o);
    report.page_started(0);
    report.page_ok(0, 200, 1);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    EXPECT_EQ(report.finish(), 0);
    testing::internal::GetCapturedStdout();
    EXPECT_NE(testing::internal::GetCapturedStderr().find("--trace"), std::string::npos);
}
