// 08_toolkit against a real 00_server: every experiment's outcome, checked
// through the server's /stats where it is about concurrency. Lower bounds on
// time are facts (n sequential delays take at least n delays); upper bounds
// are generous. The tools themselves have unit tests: tests/unit/test_toolkit.cpp.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace harness;

namespace {

const std::string stage = stage_binary("08_toolkit");

// Run one demo; returns the report and that demo's entry.
struct DemoRun {
    RunResult result;
    nlohmann::json report, demo;
};
DemoRun run_demo(Server& server, const std::string& name, std::vector<std::string> more = {}) {
    std::vector<std::string> argv = {stage, "--port", server.port_arg(), "--demo",
                                     name,  "--json", "--quiet"};
    argv.insert(argv.end(), more.begin(), more.end());
    DemoRun r{run(argv), {}, {}};
    r.report = r.result.json();
    if (r.report.contains("demos") && r.report["demos"].size() == 1) r.demo = r.report["demos"][0];
    return r;
}

} // namespace

TEST(Stage08, TheDefaultRunDoesEveryDemoAndEachTurnsOutAsPredicted) {
    Server server({"--delay-ms", "50"});
    auto r = run({stage, "--port", server.port_arg(), "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["stage"], "08_toolkit");
    ASSERT_EQ(j["demos"].size(), 14u);
    std::vector<std::string> names;
    for (auto& d : j["demos"]) {
        names.push_back(d["name"]);
        EXPECT_TRUE(d["ok"].get<bool>()) << d.dump();
        if (d["name"] != "crawl") { // the crawl's amount of work is found, not known
            EXPECT_GT(d["predicted_s"].get<double>(), 0.0) << d.dump();
        }
    }
    EXPECT_EQ(names.front(), "sequential");
    EXPECT_EQ(names.back(), "crawl");
    EXPECT_EQ(j["frames_leaked"], 0);
    // Only the pages cancelled on purpose (wait-first's 2, wait-for's 1,
    // cancel-gather's 3) and dead links (the crawl's, cancel-gather's one) failed.
    EXPECT_EQ(j["failed"].get<int>(),
              j["cancelled_on_purpose"].get<int>() + j["dead_links"].get<int>());
    EXPECT_EQ(j["cancelled_on_purpose"], 6);
}

TEST(Stage08, SequentialAwaitsAddUp) {
    Server server({"--delay-ms", "50"});
    auto r = run_demo(server, "sequential", {"--count", "5"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_GE(r.demo["wall_s"].get<double>(), 5 * 0.050);
    EXPECT_EQ(server.stats()["peak_waiting"], 1); // the server never saw two at once
}

TEST(Stage08, GatherWaitsForThemAllAtOnce) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "gather", {"--count", "6"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_EQ(server.stats()["peak_waiting"], 6); // all six at once: concurrency, not a time
    EXPECT_GE(r.demo["wall_s"].get<double>(), 0.100);
    EXPECT_NE(r.demo["what"].get<std::string>().find("peak open connections 6"), std::string::npos)
        << r.demo.dump(); // the demo judged itself by what the server saw
}

TEST(Stage08, AsCompletedYieldsInCompletionOrder) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "as_completed", {"--count", "4"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo.dump(); // the order printed is sorted
    EXPECT_NE(r.demo["what"].get<std::string>().find("50 75 100 125"), std::string::npos)
        << r.demo.dump();
}

TEST(Stage08, WaitFirstReturnsAtTheFirstAndCancelsTheRest) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "wait-first", {"--count", "4"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo.dump();
    EXPECT_EQ(r.report["ok"], 1); // the first; the rest were cancelled
    EXPECT_EQ(r.report["cancelled_on_purpose"], 3);
    EXPECT_LT(r.demo["wall_s"].get<double>(), 0.300); // not the 3 x delay of the others
}

TEST(Stage08, WaitForTimesOutAtTheTimeoutAndClosesTheSocket) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "wait-for");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo.dump(); // TimeoutError, fds back as before
    EXPECT_GE(r.demo["wall_s"].get<double>(), 0.100);
    EXPECT_LT(r.demo["wall_s"].get<double>(), 0.300); // the page itself takes 300 ms
    EXPECT_EQ(server.stats()["open_connections"], 1); // only this /stats: the page's is gone
}

TEST(Stage08, LockMakesItSequentialAgain) {
    Server server({"--delay-ms", "50"});
    auto r = run_demo(server, "lock", {"--count", "4"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_GE(r.demo["wall_s"].get<double>(), 4 * 0.050);
    EXPECT_EQ(server.stats()["peak_open_connections"], 1);
}

TEST(Stage08, SemaphoreOfTwoKeepsTwoOpen) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "semaphore", {"--count", "5"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_GE(r.demo["wall_s"].get<double>(), 3 * 0.100); // ceil(5/2) rounds
    EXPECT_EQ(server.stats()["peak_open_connections"], 2);
}

TEST(Stage08, EventWakesEveryWaiterOnceRandomCrossesAHalf) {
    Server server({"--delay-ms", "20"});
    auto r = run_demo(server, "event");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo.dump();
    EXPECT_NE(r.demo["what"].get<std::string>().find("woke 3"), std::string::npos);
}

TEST(Stage08, ConditionNotifyTwoWakesExactlyTwo) {
    Server server({"--delay-ms", "50"});
    auto r = run_demo(server, "condition");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_NE(r.demo["what"].get<std::string>().find("notify(2) woke 2"), std::string::npos)
        << r.demo.dump();
}

TEST(Stage08, TheCrawlFetchesEveryReachablePageOnceAndReportsTheDeadLinks) {
    Server server({"--delay-ms", "50", "--seed", "3", "--site-pages", "30"});
    auto r = run_demo(server, "crawl", {"--workers", "4"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err; // dead links are reported, not fatal
    auto stats = server.stats();
    // What a crawl from /site/0 must find, found here by a plain walk of the
    // same site (after the crawl, so it is not in the stats above).
    std::set<std::string> reachable, dead, todo = {"/site/0"};
    while (!todo.empty()) {
        std::string url = *todo.begin();
        todo.erase(todo.begin());
        auto [status, body] = http_get(std::stoi(server.port_arg()), url + "?delay_ms=0");
        if (status != 200) {
            dead.insert(url);
            continue;
        }
        reachable.insert(url);
        auto page = nlohmann::json::parse(body);
        for (const auto& link : page["links"]) {
            std::string next = link.get<std::string>();
            if (!reachable.count(next) && !dead.count(next)) todo.insert(next);
        }
    }
    const auto& n = r.demo["numbers"];
    EXPECT_EQ(n["fetched"], reachable.size()) << n;
    EXPECT_EQ(n["dead_links"], dead.size()) << n;
    EXPECT_GT(dead.size(), 0u); // seed 3 has some: the test would not see them otherwise
    EXPECT_EQ(stats["served"], reachable.size()); // each page once: the seen set works
    EXPECT_EQ(stats["peak_open_connections"], 4); // the workers, all busy at some moment
    EXPECT_EQ(r.report["dead_links"], dead.size());
    EXPECT_NE(r.demo["what"].get<std::string>().find("URLs fetched in"), std::string::npos);
}

TEST(Stage08, BadDemoNameOrDeadServerSaySoAndFail) {
    Server server({"--delay-ms", "0"});
    auto bad = run({stage, "--port", server.port_arg(), "--demo", "nope"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--demo must be one of sequential, gather"), std::string::npos) << bad.err;
    auto dead = run({stage, "--port", std::to_string(unused_port())});
    EXPECT_NE(dead.exit_code, 0);
    EXPECT_FALSE(dead.err.empty());
}

TEST(Stage08, TheTaskViewShowsEachJobFromItsRunnerDownToItsWait) {
    Server server({"--delay-ms", "300"});
    auto r = run({stage, "--port", server.port_arg(), "--demo", "gather", "--count", "3",
                  "--json", "--quiet", "--dump-tasks-after-ms", "150"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Three jobs (Job::run), each in DemoContext::page, parked in 07's fetch;
    // and the demo itself waiting for the first of them to finish.
    EXPECT_TRUE(contains(r.err, "run > page > fetch: parked at line")) << r.err;
    EXPECT_TRUE(contains(r.err, "(and 2 more like it)")) << r.err;
    EXPECT_TRUE(contains(r.err, "> finished: parked at line")) << r.err;
}

TEST(Stage08, AwaitLetsOthersRunSoAnUnlockedReadModifyWriteLosesUpdates) {
    Server server({"--delay-ms", "50"});
    auto r = run_demo(server, "race", {"--count", "6"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    const auto& n = r.demo["numbers"];
    EXPECT_EQ(n["increments"], 6);
    EXPECT_GT(n["lost_without_lock"].get<int>(), 0) << n; // every task read 0 before any wrote
    EXPECT_EQ(n["lost_with_lock"], 0) << n;               // the Lock spans the await
}

TEST(Stage08, ShieldLetsTheWaitTimeOutAndThePageArriveAnyway) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "shield");
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo;
    EXPECT_EQ(r.report["ok"], 1); // the page was fetched in full, not cancelled
    EXPECT_GE(r.demo["wall_s"].get<double>(), 0.300); // it took its three delays
}

TEST(Stage08, CancellingAGatherCancelsItsPagesAndReturnExceptionsKeepsAnError) {
    Server server({"--delay-ms", "100"});
    auto r = run_demo(server, "cancel-gather", {"--count", "3"});
    ASSERT_EQ(r.result.exit_code, 0) << r.result.err;
    EXPECT_TRUE(r.demo["ok"].get<bool>()) << r.demo;
    EXPECT_EQ(r.report["cancelled_on_purpose"], 3);
    EXPECT_EQ(r.report["dead_links"], 1);
    EXPECT_EQ(server.stats()["open_connections"], 1); // only this /stats: the cancelled pages' are gone
    EXPECT_LT(r.demo["wall_s"].get<double>(), 1.0);   // not the 10 delays of the cancelled pages
}

TEST(Stage08, AllTasksShowsEachJobsNameAndStateAndCallbacksSeeTheEndOrder) {
    Server server({"--delay-ms", "150"});
    std::vector<std::string> argv = {stage, "--port", server.port_arg(), "--demo", "tasks"};
    auto r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "3 delays: waiting at fetch:")) << r.out;
    EXPECT_TRUE(contains(r.out, "1 delay: waiting at fetch:")) << r.out;
    EXPECT_TRUE(contains(r.out, "ended in order: 1 delay 2 delays 3 delays")) << r.out;
}
