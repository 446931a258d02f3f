// --trace-loop on the event-loop stages, checked against the server's own
// trace: every page the server answered appears in the recording as a fd that
// parked for write (its connect), then for read, and ran when it woke.
// 05 and 06 are recorded at their selector (watched_selector.hpp): their
// callbacks of one turn are timed together ("steps_ms"); 07's loop times each
// step. A test_stageNN.cpp instantiates LoopRecording with its LoopStage.
#pragma once

#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace loop_recording {

using namespace harness;

struct LoopStage {
    std::string name;    // "05_callbacks"
    std::string who;     // what every waiting entry's name contains: "on_", "fetch:"
    bool each_step_timed; // 07: "ms" on each step; 05/06: one "steps_ms" per turn
};

inline std::string loop_stage_name(const ::testing::TestParamInfo<LoopStage>& info) {
    return "s" + info.param.name.substr(0, 2);
}

inline std::vector<nlohmann::json> json_lines(const std::string& path) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(slurp(path));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

class LoopRecording : public ::testing::TestWithParam<LoopStage> {
  protected:
    std::string stage() const { return stage_binary(GetParam().name); }
};

TEST_P(LoopRecording, ShowsEveryPageTheServerSawParkAndWake) {
    const LoopStage& s = GetParam();
    std::string server_trace = temp_path("server_" + s.name + ".jsonl");
    std::string loop = temp_path("loop_" + s.name + ".jsonl");
    Server server({"--delay-ms", "100", "--trace", server_trace});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "5", "--json", "--quiet",
                  "--trace-loop", loop});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = json_lines(loop);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines.front()["type"], "header");
    EXPECT_EQ(lines.front()["stage"], s.name);
    EXPECT_EQ(lines.back()["type"], "end");
    std::set<int> connected, answered, parked_for_read;
    for (const auto& t : lines) {
        if (t["type"] != "turn") continue;
        for (const auto& w : t["waiting"]) {
            EXPECT_NE(w["who"].get<std::string>().find(s.who), std::string::npos) << w;
            if (w["for"] == "write") connected.insert(w["fd"].get<int>());
            if (w["for"] == "read") parked_for_read.insert(w["fd"].get<int>());
        }
        for (const auto& f : t["fds"])
            if (f["events"] == "r") answered.insert(f["fd"].get<int>());
        EXPECT_EQ(t["steps"].size(), t["fds"].size()) << t; // each woken fd ran one callback
        for (const auto& step : t["steps"]) EXPECT_EQ(step.contains("ms"), s.each_step_timed);
        if (!t["steps"].empty()) {
            EXPECT_EQ(t.contains("steps_ms"), !s.each_step_timed) << t;
        }
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

TEST_P(LoopRecording, StopsAtTraceLoopTurns) {
    std::string loop = temp_path("loop_bounded_" + GetParam().name + ".jsonl");
    Server server({"--delay-ms", "50"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "3", "--quiet", "--trace-loop",
                  loop, "--trace-loop-turns", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto lines = json_lines(loop);
    ASSERT_EQ(lines.size(), 3u); // header, one turn, end
    EXPECT_EQ(lines[2]["recorded"], 1);
    EXPECT_GT(lines[2]["turns"].get<int>(), 1); // the loop went on; the file did not
}

TEST_P(LoopRecording, AFileThatCannotBeMadeIsOneLineAndExit1) {
    Server server({"--delay-ms", "0"});
    auto r = run({stage(), "--port", server.port_arg(), "--count", "1", "--quiet", "--trace-loop",
                  "/nonexistent-dir/loop.jsonl"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("/nonexistent-dir/loop.jsonl"), std::string::npos) << r.err;
}

} // namespace loop_recording
