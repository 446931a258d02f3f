#include "crawl.hpp"
#include "error.hpp"
#include "gather.hpp"
#include "http.hpp"
#include "io.hpp"
#include "loop.hpp"
#include "page.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <vector>

namespace ladder::coro {

namespace {

// A plain function, not a coroutine: the parser lives on the stack for a
// moment instead of in every page's frame.
Page check_response(const std::string& response, const std::string& path) {
    ResponseParser parsed = parse_page(response, path);
    return Page{parsed.status(), response.size()};
}

} // namespace

// 01_blocking's blocking_get(), line for line, with co_await at every wait.
// (The `times` lines are for --trace: the moment after each co_await.)
Task<Page> fetch(const Endpoint& server, const std::string& path, Clock::time_point deadline,
                 PageTimes* times) {
    Socket sock = co_await async_connect(server, deadline);
    if (times) times->mark(Mark::connected);
    std::string request = build_request(server.text, path);
    co_await async_send_all(sock, request, deadline);
    if (times) times->mark(Mark::sent);
    std::string response = co_await async_read_all(sock, deadline, times);
    co_return check_response(response, path);
}

// 01's loop body as a coroutine.
Task<void> crawl_page(const Endpoint& server, int page, std::chrono::milliseconds timeout,
                      Report& report) {
    report.page_started(page);
    // Where fetch notes its moments for --trace: on the heap, and only with
    // --trace, so that a page's frame does not carry it.
    auto times = report.tracing() ? std::make_unique<PageTimes>() : nullptr;
    try {
        Page p = co_await fetch(server, page_path(page), Clock::now() + timeout, times.get());
        report.page_ok(page, p.status, p.bytes);
    } catch (const TimeoutError& e) { // the I/O says which wait; the page knows why
        report.page_failed(page, std::string(e.what()) + " after " +
                                     std::to_string(timeout.count()) + " ms (--timeout-ms)");
    } catch (const std::exception& e) {
        report.page_failed(page, e.what());
    }
    if (times) report.page_times(page, *times);
}

Task<void> crawl(const Endpoint& server, const ClientOptions& options, Report& report) {
    std::vector<Task<void>> pages;
    pages.reserve(static_cast<std::size_t>(options.count));
    for (int page = 0; page < options.count; ++page)
        pages.push_back(
            crawl_page(server, page, std::chrono::milliseconds(options.timeout_ms), report));
    co_await gather(std::move(pages)); // asyncio.gather(*tasks): all of them at once
    report.extra["loop_turns"] = Loop::current().turns(); // 05 calls them "selects"
}

} // namespace ladder::coro
