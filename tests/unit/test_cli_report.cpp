// Command-line flags (bad input exits 2 with one line naming the flag) and the
// closing report every stage prints.
#include "cli.hpp"
#include "report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using namespace ladder;

namespace {

// --- Cli -------------------------------------------------------------------------------------

class CliTest : public ::testing::Test {
  protected:
    ClientOptions options;
    std::string selector = "epoll";
    bool verbose = false;
    int spins = 0;
    Cli cli{"test_prog", "a test program"};

    CliTest() {
        add_client_flags(cli, options);
        add_selector_flag(cli, selector);
        cli.flag("--verbose", &verbose, "say more").hidden("--spins", &spins, 0, 100);
    }

    // parse({"--port", "9000"}): the program name is added in front.
    void parse(std::vector<std::string> args) {
        args.insert(args.begin(), "test_prog");
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        cli.parse(static_cast<int>(args.size()), argv.data());
    }
};

// One line on stderr, from the program, naming the flag: what every bad input must print.
std::string one_line_naming(const std::string& text) {
    return "^test_prog: [^\n]*" + text + "[^\n]*\n$";
}

TEST_F(CliTest, DefaultsStayWithoutArguments) {
    parse({});
    EXPECT_EQ(options.host, "127.0.0.1");
    EXPECT_EQ(options.port, 8080);
    EXPECT_EQ(options.count, 10);
    EXPECT_EQ(options.timeout_ms, 10000);
    EXPECT_FALSE(options.json);
    EXPECT_FALSE(options.quiet);
    EXPECT_EQ(selector, "epoll");
}

TEST_F(CliTest, SeparateAndInlineValues) {
    parse({"--port", "9000", "--host=::1", "--count=1000000", "--timeout-ms", "1", "--selector",
           "poll", "--spins=100"});
    EXPECT_EQ(options.port, 9000);
    EXPECT_EQ(options.host, "::1");
    EXPECT_EQ(options.count, 1'000'000); // the maximum is allowed...
    EXPECT_EQ(options.timeout_ms, 1);    // ...and so is the minimum
    EXPECT_EQ(selector, "poll");
    EXPECT_EQ(spins, 100);
}

TEST_F(CliTest, FlagsAndTheLastValueWins) {
    parse({"--json", "--quiet", "--verbose", "--port=1", "--port", "2", "--selector=epoll"});
    EXPECT_TRUE(options.json);
    EXPECT_TRUE(options.quiet);
    EXPECT_TRUE(verbose);
    EXPECT_EQ(options.port, 2);
    EXPECT_EQ(selector, "epoll");
}

TEST_F(CliTest, OnlyTheFirstEqualsSignSplits) {
    parse({"--host=a=b"});
    EXPECT_EQ(options.host, "a=b");
}

using CliDeathTest = CliTest;

// 02's and 03's --workers: one per page by default, capped, never more than pages.
TEST_F(CliTest, PoolSizeIsOnePerPageCappedAndNeverMoreThanThePages) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(pool_size(cli, 0, 10, 64, "threads"), 10);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), ""); // below the cap: no note
    testing::internal::CaptureStderr();
    EXPECT_EQ(pool_size(cli, 0, 100, 64, "threads"), 64);
    EXPECT_EQ(
        testing::internal::GetCapturedStderr(),
        "test_prog: 100 pages but only 64 threads (the default cap); choose with --workers\n");
    EXPECT_EQ(pool_size(cli, 500, 100, 64, "threads"), 100); // a worker without a page idles
    EXPECT_EQ(pool_size(cli, 5, 100, 64, "threads"), 5);
}

TEST_F(CliDeathTest, UnknownArgumentExitsTwo) {
    EXPECT_EXIT(parse({"--nope"}), ::testing::ExitedWithCode(2), one_line_naming("'--nope'"));
    EXPECT_EXIT(parse({"extra"}), ::testing::ExitedWithCode(2), one_line_naming("'extra'"));
    EXPECT_EXIT(parse({"-p", "1"}), ::testing::ExitedWithCode(2), one_line_naming("'-p'"));
}

TEST_F(CliDeathTest, NotANumberExitsTwo) {
    for (const char* bad : {"abc", "12x", "", " 5", "1.5", "99999999999"}) {
        SCOPED_TRACE(bad);
        EXPECT_EXIT(parse({"--count", bad}), ::testing::ExitedWithCode(2),
                    one_line_naming("--count expects a whole number"));
    }
    EXPECT_EXIT(parse({"--count="}), ::testing::ExitedWithCode(2),
                one_line_naming("--count expects a whole number"));
}

TEST_F(CliDeathTest, OutOfRangeExitsTwo) {
    EXPECT_EXIT(parse({"--port", "0"}), ::testing::ExitedWithCode(2),
                one_line_naming("--port must be between 1 and 65535, got 0"));
    EXPECT_EXIT(parse({"--port=65536"}), ::testing::ExitedWithCode(2),
                one_line_naming("--port must be between 1 and 65535"));
    EXPECT_EXIT(parse({"--spins", "-1"}), ::testing::ExitedWithCode(2),
                one_line_naming("--spins must be between 0 and 100"));
}

TEST_F(CliDeathTest, MissingValueExitsTwo) {
    EXPECT_EXIT(parse({"--port"}), ::testing::ExitedWithCode(2),
                one_line_naming("--port needs a value"));
    EXPECT_EXIT(parse({"--json", "--host"}), ::testing::ExitedWithCode(2),
                one_line_naming("--host needs a value"));
}

TEST_F(CliDeathTest, BadChoiceExitsTwo) {
    EXPECT_EXIT(parse({"--selector", "kqueue"}), ::testing::ExitedWithCode(2),
                one_line_naming("--selector must be one of epoll, poll, select, got 'kqueue'"));
}

TEST_F(CliDeathTest, ValueGivenToAFlagExitsTwo) {
    EXPECT_EXIT(parse({"--json=1"}), ::testing::ExitedWithCode(2),
                one_line_naming("--json takes no value"));
}

TEST_F(CliDeathTest, HelpExitsZero) {
    // Help goes to stdout; send it to stderr in the child so EXPECT_EXIT can read it.
    auto help = [this](const char* flag) {
        ::dup2(STDERR_FILENO, STDOUT_FILENO);
        parse({"--port", "9", flag});
    };
    EXPECT_EXIT(help("--help"), ::testing::ExitedWithCode(0),
                "^usage: test_prog \\[flags\\]\na test program\n.*--port N +server port "
                "\\(default 9\\).*--selector VALUE.*--help");
    EXPECT_EXIT(help("-h"), ::testing::ExitedWithCode(0), "^usage: test_prog");
}

// --- Report ------------------------------------------------------------------------------------

class ReportTest : public ::testing::Test {
  protected:
    ClientOptions options = quiet_json(3); // the report keeps a reference: declared first
    Report report{"01_test", options};

    static ClientOptions quiet_json(int count) {
        ClientOptions o;
        o.count = count;
        o.quiet = true;
        o.json = true;
        return o;
    }

    // finish() with stdout captured: the exit code and the single line it printed.
    int finish(std::string& out) {
        ::testing::internal::CaptureStdout();
        int code = report.finish();
        out = ::testing::internal::GetCapturedStdout();
        return code;
    }
};

TEST_F(ReportTest, CountsPages) {
    report.page_started(0);
    report.page_started(1);
    report.page_ok(0, 200, 100);
    report.page_failed(1, "boom");
    EXPECT_EQ(report.ok(), 1);
    EXPECT_EQ(report.failed(), 1);
    nlohmann::json j = report.to_json();
    EXPECT_EQ(j["requests"], 2);
    EXPECT_EQ(j["bytes"], 100);
    EXPECT_EQ(j["errors"], nlohmann::json::array({"page 1: boom"}));
}

TEST_F(ReportTest, PeakInFlight) {
    options.count = 5;
    Report r("01_test", options);
    for (int page : {0, 1, 2}) r.page_started(page);
    r.page_ok(0, 200, 1);
    r.page_started(3);
    EXPECT_EQ(r.peak_in_flight(), 3);
    for (int page : {1, 2, 3}) r.page_failed(page, "x");
    r.page_started(4); // 1 in flight now; the peak stays
    EXPECT_EQ(r.peak_in_flight(), 3);
    EXPECT_EQ(r.to_json()["peak_in_flight"], 3);
    EXPECT_THROW(r.page_started(5), std::out_of_range); // pages are 0..count-1
}

TEST_F(ReportTest, JsonHasEveryMetric) {
    nlohmann::json j = report.to_json();
    for (const char* key :
         {"stage", "server", "requests", "ok", "failed", "bytes", "wall_s", "user_s", "sys_s",
          "max_rss_kb", "ctx_voluntary", "ctx_involuntary", "peak_in_flight", "errors"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j.size(), 14u);
    EXPECT_EQ(j["stage"], "01_test");
    EXPECT_EQ(j["server"], "127.0.0.1:8080");
    EXPECT_GE(j["wall_s"].get<double>(), 0.0);
    EXPECT_GT(j["max_rss_kb"].get<long>(), 0);
    EXPECT_TRUE(j["errors"].is_array());
}

TEST_F(ReportTest, KeepsOnlyTheFirstFiveErrors) {
    options.count = 7;
    Report r("01_test", options);
    for (int page = 0; page < 7; ++page) {
        r.page_started(page);
        r.page_failed(page, "error " + std::to_string(page));
    }
    nlohmann::json errors = r.to_json()["errors"];
    ASSERT_EQ(errors.size(), 5u);
    EXPECT_EQ(errors[0], "page 0: error 0");
    EXPECT_EQ(errors[4], "page 4: error 4");
    EXPECT_EQ(r.failed(), 7);
}

TEST_F(ReportTest, ExtraKeysAreMerged) {
    report.extra["workers"] = 4;
    report.extra["selector"] = "poll";
    nlohmann::json j = report.to_json();
    EXPECT_EQ(j["workers"], 4);
    EXPECT_EQ(j["selector"], "poll");
    EXPECT_EQ(j["stage"], "01_test");
}

TEST_F(ReportTest, FinishPrintsOneJsonLineAndSucceedsWhenAllPagesAreOk) {
    for (int page = 0; page < 3; ++page) {
        report.page_started(page);
        report.page_ok(page, 200, 10);
    }
    std::string out;
    EXPECT_EQ(finish(out), 0);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back(), '\n');
    EXPECT_EQ(out.find('\n'), out.size() - 1); // exactly one line
    nlohmann::json j = nlohmann::json::parse(out);
    EXPECT_EQ(j["ok"], 3);
    EXPECT_EQ(j["bytes"], 30);
}

TEST_F(ReportTest, FinishFailsWhenAPageFailed) {
    for (int page = 0; page < 3; ++page) report.page_started(page);
    report.page_ok(0, 200, 10);
    report.page_ok(1, 200, 10);
    report.page_failed(2, "timed out");
    std::string out;
    EXPECT_EQ(finish(out), 1);
    EXPECT_EQ(nlohmann::json::parse(out)["failed"], 1);
}

TEST_F(ReportTest, FinishFailsWhenPagesAreMissing) {
    report.page_started(0);
    report.page_ok(0, 200, 10); // 1 of 3: no failure, but not done either
    std::string out;
    EXPECT_EQ(finish(out), 1);
}

TEST_F(ReportTest, SummaryLineWithoutJson) {
    options.json = false;
    report.page_started(0);
    report.page_ok(0, 200, 10);
    report.extra["workers"] = 4;
    std::string out;
    EXPECT_EQ(finish(out), 1);
    EXPECT_EQ(out.rfind("01_test: 1 pages (1 ok, 0 failed), 10 bytes in ", 0), 0u) << out;
    EXPECT_NE(out.find("peak 1 in flight; workers 4\n"), std::string::npos) << out;
}

TEST_F(ReportTest, AlsoWritesTheJsonWhereTheEnvironmentSays) {
    std::string path = ::testing::TempDir() + "report_" + std::to_string(::getpid()) + ".json";
    ::setenv("LADDER_REPORT_JSON", path.c_str(), 1);
    options.json = false; // the human line on stdout, the numbers in the file
    std::string out;
    finish(out);
    ::unsetenv("LADDER_REPORT_JSON");
    std::ifstream file(path);
    std::string line, rest;
    ASSERT_TRUE(std::getline(file, line)) << path;
    EXPECT_FALSE(std::getline(file, rest)); // one line
    ::unlink(path.c_str());
    EXPECT_EQ(nlohmann::json::parse(line)["stage"], "01_test");
    EXPECT_EQ(out.rfind("01_test: 0 pages", 0), 0u) << out;
}

TEST_F(ReportTest, PerPageLinesGoToStderrUnlessQuiet) {
    options.quiet = false;
    ::testing::internal::CaptureStderr();
    report.page_started(0);
    report.page_ok(0, 200, 123);
    report.page_started(1);
    report.page_failed(1, "boom");
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("page 0: 200, 123 bytes"), std::string::npos) << err;
    EXPECT_NE(err.find("page 1: FAILED after"), std::string::npos) << err;
    EXPECT_NE(err.find("boom"), std::string::npos) << err;
}

} // namespace
