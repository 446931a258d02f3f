// 01_blocking — the first rung: fetch the pages one after another.
//
// While one page waits for the server, nothing else happens: the total time is
// the sum of all the waits.
#include "cli.hpp"
#include "fetch.hpp"
#include "page.hpp"
#include "report.hpp"

#include <chrono>
#include <exception>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    Cli cli("01_blocking", "Fetch pages one after another with blocking sockets.");
    add_client_flags(cli, options);
    cli.parse(argc, argv);

    Endpoint server = require_server("01_blocking", options);
    Report report("01_blocking", options);
    auto timeout = std::chrono::milliseconds(options.timeout_ms);
    for (int page = 0; page < options.count; ++page) {
        report.page_started(page);
        PageTimes times; // when it connected, sent, got the first byte (for --trace)
        try {
            Page p = fetch_page(server, page_path(page), timeout, &times);
            report.page_ok(page, p.status, p.bytes, times);
        } catch (const std::exception& e) {
            report.page_failed(page, e.what(), times);
        }
    }
    return report.finish();
}
