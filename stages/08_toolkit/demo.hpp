// What a stage of experiments needs around its demos (08 and 09 both): each
// demo is a coroutine returning a DemoResult; run_demos() times them in
// order, prints one line each and collects them for --json.
#pragma once

#include "07_coroutines/task.hpp"
#include "net.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace ladder::coro {

struct DemoResult {
    bool ok = false;
    std::string what;                                  // one line: what happened
    std::optional<double> predicted_s;                 // the time the idea predicts
    nlohmann::json numbers = nlohmann::json::object(); // what it measured, for --json
};

template <class Context>
struct Demo {
    const char* name;
    Task<DemoResult> (*run)(Context&);
};

template <class Context, std::size_t N>
std::vector<std::string> demo_names(const Demo<Context> (&demos)[N]) {
    std::vector<std::string> names;
    for (const auto& d : demos) names.push_back(d.name);
    return names;
}

// Runs the demo named `only` (empty: every one, in order). Prints "name wall
// ... ok what" lines to `out` (null: nothing) and returns the JSON array;
// `all_ok` says whether every demo turned out as predicted.
template <class Context, std::size_t N>
Task<nlohmann::json> run_demos(const Demo<Context> (&demos)[N], std::string only, Context& ctx,
                               std::FILE* out, bool& all_ok) {
    nlohmann::json results = nlohmann::json::array();
    all_ok = true;
    for (const Demo<Context>& demo : demos) {
        if (!only.empty() && only != demo.name) continue;
        auto start = Clock::now();
        DemoResult r;
        try {
            r = co_await demo.run(ctx);
        } catch (const std::exception& e) {
            r.ok = false;
            r.what = std::string("failed: ") + e.what();
        }
        double wall = std::chrono::duration<double>(Clock::now() - start).count();
        all_ok = all_ok && r.ok;
        auto round3 = [](double x) { return std::round(x * 1000) / 1000; };
        nlohmann::json j = {{"name", demo.name}, {"wall_s", round3(wall)}, {"ok", r.ok},
                            {"what", r.what}, {"numbers", r.numbers}};
        if (r.predicted_s) j["predicted_s"] = round3(*r.predicted_s);
        results.push_back(j);
        if (!out) continue;
        std::fprintf(out, "%-13s wall %5.2f s  ", demo.name, wall);
        if (r.predicted_s) std::fprintf(out, "predicted %5.2f s  ", *r.predicted_s);
        std::fprintf(out, "%-4s %s\n", r.ok ? "ok" : "FAIL", r.what.c_str());
    }
    co_return results;
}

} // namespace ladder::coro
