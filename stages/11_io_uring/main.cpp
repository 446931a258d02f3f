// 11_io_uring — 07's coroutines on completion I/O: the kernel makes each
// connect, send and recv and says when it is done (io_uring), instead of
// saying when a socket is ready for us to make it (epoll).
//
// The crawl (crawl.cpp) is 07's; the Socket's requests (io.cpp) and the loop
// that submits them and waits for their completions (loop.cpp) are new.
#include "crawl.hpp"
#include "loop.hpp"

#include "cli.hpp"
#include "crawl_cost.hpp"
#include "page.hpp"
#include "report.hpp"
#include "signals.hpp"

#include <cstdio>
#include <exception>
#include <optional>

int main(int argc, char** argv) {
    using namespace ladder;
    ClientOptions options;
    Cli cli("11_io_uring", "Fetch every page at once with C++20 coroutines on io_uring.");
    add_client_flags(cli, options);
    cli.parse(argc, argv);

    std::optional<uring::Loop> loop;
    try {
        loop.emplace(); // the ring first: without one there is nothing to try
    } catch (const uring::RingUnavailable& e) { // a machine without io_uring: not a failure
        return report_skipped("11_io_uring", options, e.what());
    }
    Endpoint server = require_server("11_io_uring", options);
    raise_fd_limit(); // one socket per page, all open at once
    ignore_sigpipe();
    Report report("11_io_uring", options);
    try {
        CrawlCost cost; // counted as 07 counts them
        loop->run_until_complete(uring::crawl(server, options, report)); // asyncio.run(crawl())
        report.extra["loop_turns"] = loop->turns();
        loop.reset(); // waits for the last closes
        cost.report(report, options.count);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "11_io_uring: %s\n", e.what());
        return 1;
    }
    return report.finish();
}
