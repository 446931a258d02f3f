// 04_busy_loop — 01_blocking plus one idea: sockets that never block (the
// seed's nonblocking_way).
//
// connect, send and recv return at once, so the program could do something
// else while a page is on its way — but it does not know when to come back,
// so it just asks again, in a loop. The pages still go one at a time, and the
// waiting now burns a CPU: cpu time ≈ wall time, and `spins` counts the
// retries. 05_callbacks replaces the loop with a selector that says when.
#include "busy_fetch.hpp"
#include "cli.hpp"
#include "page.hpp"
#include "report.hpp"

#include <chrono>
#include <exception>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    Cli cli("04_busy_loop", "Fetch pages one after another with non-blocking sockets, spinning.");
    add_client_flags(cli, options);
    cli.parse(argc, argv);

    Endpoint server = require_server("04_busy_loop", options);
    Report report("04_busy_loop", options);
    long spins = 0; // every "not yet" from the kernel, retried at once
    for (int page = 0; page < options.count; ++page) {
        report.page_started(page);
        PageTimes times; // when it connected, sent, got the first byte (for --trace)
        try {
            Page p = busy_fetch(server, page_path(page),
                                std::chrono::milliseconds(options.timeout_ms), spins, &times);
            report.page_ok(page, p.status, p.bytes, times);
        } catch (const std::exception& e) {
            report.page_failed(page, e.what(), times);
        }
    }
    report.extra["spins"] = spins;
    return report.finish();
}
