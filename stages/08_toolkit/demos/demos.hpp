// 08_toolkit's experiments (demos/demos.cpp): each runs one tool against the slow
// server and says what the idea predicts.
#pragma once

#include "cli.hpp"
#include "demo_runner.hpp"
#include "net.hpp"
#include "report.hpp"
#include "07_coroutines/task.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

// Each stage's experiments in a namespace of their own: 08 and 09 both
// have a DemoContext, and each means its own.
namespace ladder::coro::toolkit_demos {

struct DemoContext {
    const Endpoint& server;
    const ClientOptions& options;
    Report& report;
    int workers = 4;   // the crawl demo's workers
    std::FILE* out = nullptr; // where a demo prints more than its line (null: nowhere)
    int delay_ms = 0;  // the server's page delay (/stats says)
    int pages = 0;     // pages started so far: the report's page numbers
    int cancelled = 0;  // pages cancelled on purpose (wait-first, wait-for)
    int dead_links = 0; // 404s: the crawl's dead links, cancel-gather's /site/999999

    // GET path through 07's fetch(), as one reported page; its JSON body.
    Task<std::string> page(std::string path);
    // GET /stats (with reset: and start counting afresh). Not a page.
    Task<nlohmann::json> stats(bool reset = false);
};

struct Demo {
    const char* name;
    Task<DemoResult> (*run)(DemoContext&);
};
extern const Demo demos[14];
constexpr int max_crawl_urls = 500; // the crawl demo stops following links past this
// The most pages a run of these demos fetches (the report counts them).
int max_pages(const std::string& only, int count);

} // namespace ladder::coro::toolkit_demos
