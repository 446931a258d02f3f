// Integration tests shared by the two pools (02_process_pool, 03_thread_pool):
// --workers pages at once and never more, by default one worker per page up to
// a cap. Same behaviour, processes in one and threads in the other; a
// test_stageNN.cpp includes this file and instantiates Pool with its PoolInfo.
//
// Concurrency is checked through the server's /stats, never the client's claim.
#pragma once

#include "harness.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace pool {

using namespace harness;

struct PoolInfo {
    std::string name;                         // "02_process_pool"
    int cap = 0;                              // the default pool's size at the most
    std::string cap_note;                     // how the note on the cap names the pool
    std::vector<std::string> extra_keys = {}; // report keys of this stage's own
};

inline std::string pool_name(const ::testing::TestParamInfo<PoolInfo>& info) {
    return info.param.name;
}
inline void PrintTo(const PoolInfo& p, std::ostream* os) {
    *os << p.name;
}

class Pool : public ::testing::TestWithParam<PoolInfo> {
  protected:
    // The stage binary, then `args`.
    std::vector<std::string> stage(std::vector<std::string> args) const {
        args.insert(args.begin(), stage_binary(GetParam().name));
        return args;
    }
};

TEST_P(Pool, FetchesEveryPageWithEveryWorkerAtOnce) {
    Server server({"--delay-ms", "300"});
    auto r = run(stage({"--port", server.port_arg(), "--count", "6", "--workers", "3", "--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    auto keys = GetParam().extra_keys;
    keys.push_back("workers");
    expect_report_keys(j, keys);
    EXPECT_EQ(j["workers"], 3);
    expect_every_page_ok(j, GetParam().name, 6, 3);
    // Three workers, six pages: two rounds of one delay each, at the least.
    EXPECT_GE(j["wall_s"].get<double>(), 2 * 0.300);
    // The server's view: exactly three connections open at once, never more.
    expect_server_saw(server, 6, 3);
}

TEST_P(Pool, DefaultIsOneWorkerPerPage) {
    Server server({"--delay-ms", "300"});
    auto r = run(stage({"--port", server.port_arg(), "--count", "8", "--json", "--quiet"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], 8);
    EXPECT_EQ(server.stats()["peak_open_connections"], 8);
    // Eight pages one after another would take 2.4 s; at once, about 0.3 s.
    EXPECT_GE(j["wall_s"].get<double>(), 0.300);
    EXPECT_LT(j["wall_s"].get<double>(), 2.0);
    EXPECT_EQ(r.err, ""); // --quiet, and no note below the cap
}

TEST_P(Pool, DefaultPoolIsCappedWithANote) {
    const int cap = GetParam().cap, pages = cap * 3 / 2; // two rounds
    Server server({"--delay-ms", "300"});
    auto r = run(stage(
        {"--port", server.port_arg(), "--count", std::to_string(pages), "--json", "--quiet"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["workers"], cap);
    EXPECT_EQ(j["ok"], pages);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(contains(r.err, GetParam().cap_note)) << r.err;
    EXPECT_EQ(server.stats()["peak_open_connections"], cap);
}

TEST_P(Pool, MoreWorkersThanPagesStartsOnlyOnePerPage) {
    Server server({"--delay-ms", "50"});
    auto r = run(stage(
        {"--port", server.port_arg(), "--count", "2", "--workers", "50", "--json", "--quiet"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.json()["workers"], 2);
}

TEST_P(Pool, PrintsOneSummaryLineWithWorkers) {
    Server server({"--delay-ms", "0"});
    auto r = run(stage({"--port", server.port_arg(), "--count", "3", "--workers", "2"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_TRUE(contains(r.out, "3 pages (3 ok, 0 failed)")) << r.out;
    EXPECT_TRUE(contains(r.out, "workers 2")) << r.out;
    for (const char* page : {"page 0: 200", "page 1: 200", "page 2: 200"})
        EXPECT_TRUE(contains(r.err, page)) << r.err;
}

} // namespace pool
