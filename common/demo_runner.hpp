// What a stage of experiments (08, 09) needs around its demos: each demo
// runs to a DemoResult; run_demos() times them in order, prints one line
// each and collects them for --json. The stage says how to run one (on its
// event loop), so this knows nothing of coroutines.
#pragma once

#include "net.hpp" // Clock

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace ladder {

struct DemoResult {
    bool ok = false;
    std::string what;                                  // one line: what happened
    std::optional<double> predicted_s;                 // the time the idea predicts
    nlohmann::json numbers = nlohmann::json::object(); // what it measured, for --json
};

// What a demo measures with: seconds since `start`; a number kept to 3 decimals (--json).
inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}
inline double round3(double x) {
    return std::round(x * 1000) / 1000;
}

template <class Demo, std::size_t N>
std::vector<std::string> demo_names(const Demo (&demos)[N]) {
    std::vector<std::string> names;
    for (const Demo& d : demos) names.push_back(d.name);
    return names;
}

// Runs the demo named `only` (empty: every one, in order) with run_one(demo).
// Prints "name  wall ...  ok  what" to `out` (null: nothing); returns the
// JSON array, and whether every demo turned out as predicted.
template <class Demo, std::size_t N, class RunOne>
nlohmann::json run_demos(const Demo (&demos)[N], const std::string& only, RunOne run_one,
                         std::FILE* out, bool& all_ok) {
    nlohmann::json results = nlohmann::json::array();
    all_ok = true;
    for (const Demo& demo : demos) {
        if (!only.empty() && only != demo.name) continue;
        auto start = Clock::now();
        DemoResult r;
        try {
            r = run_one(demo);
        } catch (const std::exception& e) {
            r.what = std::string("failed: ") + e.what();
        }
        double wall = seconds_since(start);
        all_ok = all_ok && r.ok;
        nlohmann::json j = {{"name", demo.name}, {"wall_s", round3(wall)}, {"ok", r.ok},
                            {"what", r.what}, {"numbers", r.numbers}};
        if (r.predicted_s) j["predicted_s"] = round3(*r.predicted_s);
        results.push_back(j);
        if (!out) continue;
        std::fprintf(out, "%-13s wall %5.2f s  ", demo.name, wall);
        if (r.predicted_s) std::fprintf(out, "predicted %5.2f s  ", *r.predicted_s);
        std::fprintf(out, "%-4s %s\n", r.ok ? "ok" : "FAIL", r.what.c_str());
    }
    return results;
}

} // namespace ladder
