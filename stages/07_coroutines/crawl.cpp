#include "crawl.hpp"
#include "error.hpp"
#include "gather.hpp"
#include "http.hpp"
#include "io.hpp"
#include "selector.hpp"

#include <exception>
#include <memory>
#include <vector>

namespace ladder::coro {

// 01_blocking's blocking_get() and fetch_page(), line for line, with co_await
// at every wait. (The `times` lines are for --trace.)
Task<Page> fetch(const Endpoint& server, std::string path, Clock::time_point deadline,
                 PageTimes* times, std::string* body) {
    Socket sock(deadline);
    co_await sock.connect(server);
    if (times) times->mark(Mark::connected);
    { // No co_await in the request's statement: it takes no room in the frame. The block
      // frees async_send_all's frame as soon as it is done. (notes/07: Frames)
        Task<void> sending = async_send_all(sock, build_request(server.text, path));
        co_await sending;
    }
    if (times) times->mark(Mark::sent);
    std::string response;
    for (bool open = true; open;) {
        open = co_await sock.recv(response); // false: the server closed, the page is complete
        if (times && !response.empty()) times->mark_once(Mark::first_byte);
    }
    co_return parse_page(response, path, body);
}

// 01's loop body.
Task<void> crawl_page(const Endpoint& server, int page, std::chrono::milliseconds timeout,
                      Report& report) {
    report.page_started(page);
    // Where fetch notes its moments for --trace: on the heap, and only with
    // --trace, so that a page's frame does not carry them.
    auto times = report.tracing() ? std::make_unique<PageTimes>() : nullptr;
    try {
        Task<Page> fetching = fetch(server, page_path(page), Clock::now() + timeout, times.get());
        Page p = co_await fetching;
        report.page_ok(page, p.status, p.bytes);
    } catch (const TimeoutError& e) { // the I/O says which wait; the page knows why
        report.page_failed(page, std::string(e.what()) + " after " +
                                     std::to_string(timeout.count()) + " ms (--timeout-ms)");
    } catch (const SelectorLimitError&) {
        throw; // not this page's failure but the selector's: main stops the run
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
}

} // namespace ladder::coro
