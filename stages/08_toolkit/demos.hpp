// The 08_toolkit binary's experiments (demos.cpp): each one runs a tool
// against the slow server and says what the idea predicts.
#pragma once

#include "cli.hpp"
#include "net.hpp"
#include "report.hpp"
#include "07_coroutines/task.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ladder::coro {

// What every demo shares: the server, the flags, the report, and the page
// delay, learnt from the first page's body ({"delay_ms": ...}).
struct DemoContext {
    const Endpoint& server;
    const ClientOptions& options;
    Report& report;
    int workers = 2;
    int delay_ms = -1; // not known yet
    int pages = 0;     // pages started so far (the report's page numbers)
    int cancelled = 0; // pages cancelled on purpose (wait-first, wait-for)

    // GET path as one reported page; returns the body. Throws on failure.
    Task<std::string> page(std::string path);
    // The server's page delay in ms (one probe page if no page told us yet).
    Task<int> delay();
    // GET /stats (with reset=1: and reset them). Not a page.
    Task<nlohmann::json> stats(bool reset);
};

struct DemoResult {
    std::string name;
    double wall_s = 0, predicted_s = 0;
    bool ok = false;
    std::string what; // one line: what happened
};

const std::vector<std::string>& demo_names();
// The most pages a run of these demos can fetch (the report needs a bound).
int max_pages(const std::vector<std::string>& demos, int count);
Task<DemoResult> run_demo(const std::string& name, DemoContext& ctx);

} // namespace ladder::coro
