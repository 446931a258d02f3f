// 07's crawl.cpp, line for line, but for the lines marked "11:": fetch() owns
// the buffer its recv requests fill. (The `times` lines are for --trace.)
#include "crawl.hpp"
#include "error.hpp"
#include "http.hpp"
#include "io.hpp"

#include "07_coroutines/gather.hpp"

#include <array>
#include <exception>
#include <memory>
#include <vector>

namespace ladder::uring {

Task<Page> fetch(const Endpoint& server, std::string path, Clock::time_point deadline,
                 PageTimes* times) {
    Socket sock(deadline);
    co_await sock.connect(server);
    if (times) times->mark(Mark::connected);
    co_await async_send_all(sock, build_request(server.text, path));
    if (times) times->mark(Mark::sent);
    std::string response;
    // 11: the kernel fills this while the page is parked, so it is the page's
    // own, in this frame (07 reads after the wait, into one shared buffer).
    // Declared before the co_await: a frame destroyed mid-recv cancels the
    // recv and waits for it (~Operation) before the buffer goes.
    std::array<char, 1024> buffer;
    for (std::size_t n = 1; n > 0;) {
        n = co_await sock.recv(buffer);    // 11: 0: the server closed, the page is complete
        response.append(buffer.data(), n); // 11: the bytes are in our buffer already
        if (times && !response.empty()) times->mark_once(Mark::first_byte);
    }
    co_return parse_page(response, path);
}

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
    } catch (const TimeoutError& e) { // the I/O says which request; the page knows why
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
    co_await coro::gather(std::move(pages)); // 07's gather: all of them at once
}

} // namespace ladder::uring
