// The 09_executors binary's experiments (demos.cpp): CPU-bound work next to
// the event loop, each one timed and set beside what the idea predicts.
#pragma once

#include "cli.hpp"
#include "net.hpp"
#include "process_executor.hpp"
#include "report.hpp"
#include "07_coroutines/task.hpp"
#include "thread_executor.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace ladder::coro {

// What every demo shares.
struct DemoContext {
    std::optional<Endpoint> server; // only `mixed` fetches pages
    const ClientOptions& options;
    Report& report;
    ThreadExecutor& threads;
    ProcessExecutor& processes;
    int cores = 1;
    int jobs = 20;           // CPU jobs of the cpu demo
    std::uint64_t size = 0;  // numbers one CPU job squares
    int blocking_ms = 1000;  // each blocking call of the mixed demo
    std::FILE* out = stdout; // where the tables go (stderr with --json)
    int pages = 0;           // pages started so far (the report's page numbers)
    nlohmann::json measured = nlohmann::json::object(); // what `choose` reuses
};

struct DemoResult {
    std::string name;
    double wall_s = 0;
    bool ok = false;
    std::string what;                                  // one line: what happened
    nlohmann::json numbers = nlohmann::json::object(); // the measured figures
};

const std::vector<std::string>& demo_names();
int pages_of(const std::vector<std::string>& demos, int count); // pages a run fetches
Task<DemoResult> run_demo(const std::string& name, DemoContext& ctx);

// The named jobs every worker process knows: "cpu" ("n seed" -> to_message
// of a CpuAnswer) and "echo" (the argument back: a round trip's cost).
ProcessExecutor::NamedJobs worker_jobs();

} // namespace ladder::coro
