// 09_executors' experiments (demos/demos.cpp): CPU-bound work next to the event
// loop, each one timed and set beside what the idea predicts.
#pragma once

#include "cli.hpp"
#include "demo_runner.hpp"
#include "net.hpp"
#include "09_executors/process_executor.hpp"
#include "report.hpp"
#include "09_executors/thread_executor.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

// Each stage's experiments in a namespace of their own: 08 and 09 both
// have a DemoContext, and each means its own.
namespace ladder::coro::executor_demos {

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
    std::FILE* out = stdout; // where the tables go (null: nowhere)
    int pages = 0;           // pages started so far (the report's page numbers)
    nlohmann::json measured = nlohmann::json::object(); // what `choose` reuses
};

struct Demo {
    const char* name;
    Task<DemoResult> (*run)(DemoContext&);
};
extern const Demo demos[4];
int pages_of(const std::string& only, int count); // pages a run fetches

// The named functions every worker process knows: "cpu" ("n seed" -> to_message
// of a CpuAnswer) and "echo" (the argument back: a round trip's cost).
ProcessExecutor::NamedFunctions worker_functions();

} // namespace ladder::coro::executor_demos
