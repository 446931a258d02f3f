// 06_generators — Future, Task and yield from (the seed's §4.4–4.5), in C++20.
//
// fetch() below reads top to bottom like the blocking code of 01, yet every
// page is in flight at once: at each co_yield the generator hands its Task
// what it waits for and steps aside. The selector callbacks (io.cpp) only set
// results on futures; Task::step (task.cpp) carries each result back into the
// generator that waited for it.
#include "cli.hpp"
#include "error.hpp"
#include "future.hpp"
#include "generator.hpp"
#include "http.hpp"
#include "io.hpp"
#include "net.hpp"
#include "page.hpp"
#include "report.hpp"
#include "selector.hpp"
#include "task.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <string>
#include <vector>

namespace {

using namespace ladder;
using namespace ladder::gen;

// The seed's Crawler.fetch (§4.5.2): each co_yield is a `yield from`.
// (`times` notes the moments for --trace.)
Generator fetch(Selector& selector, const Endpoint& server, std::string path, PageTimes& times) {
    Fd sock = open_stream_socket(server);
    co_yield connect(selector, sock.get(), server); // a failed connect is thrown here
    times.mark(Mark::connected);
    send_request(sock.get(), build_request(server.text, path));
    times.mark(Mark::sent);
    Value response = co_yield read_all(selector, sock.get(), &times);
    parse_page(response, path); // HttpError if this is not our page
    co_return response;
}

// One page: its Task, and the time by which it must be done.
struct PageTask {
    PageTask(Clock::time_point deadline_, Generator coro)
        : deadline(deadline_), task(std::move(coro)) {}
    Clock::time_point deadline;
    Task task;
};

std::string describe(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

// Every page has the same timeout and the pages started in order, so the
// oldest unfinished page is always the next one to time out: no heap needed.
class Deadlines {
  public:
    Deadlines(std::deque<PageTask>& pages, std::chrono::milliseconds timeout)
        : pages_(pages), timeout_(timeout) {}

    // How long select() may sleep before the next page times out.
    Timeout time_left() {
        PageTask* p = oldest_unfinished();
        if (!p) return std::nullopt;
        return p->deadline - Clock::now();
    }

    // Throw a TimeoutError into every page whose deadline has passed, at the
    // co_yield where it waits — the loop enforces --timeout-ms.
    void time_out_overdue() {
        auto now = Clock::now();
        while (PageTask* p = oldest_unfinished()) {
            if (p->deadline > now) break;
            p->task.cancel(std::make_exception_ptr(TimeoutError(
                "timed out after " + std::to_string(timeout_.count()) + " ms (--timeout-ms)")));
            ++oldest_; // even if the generator swallowed the error: it had its chance
        }
    }

  private:
    PageTask* oldest_unfinished() {
        while (oldest_ < pages_.size() && pages_[oldest_].task.done()) ++oldest_;
        return oldest_ < pages_.size() ? &pages_[oldest_] : nullptr;
    }

    std::deque<PageTask>& pages_;
    std::chrono::milliseconds timeout_;
    std::size_t oldest_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    std::string backend = "epoll";
    Cli cli("06_generators",
            "Fetch every page at once in one thread: generators driven by Futures and Tasks.");
    add_client_flags(cli, options);
    add_selector_flag(cli, backend);
    cli.parse(argc, argv);

    Endpoint server = require_server("06_generators", options);
    raise_fd_limit(); // one socket per page: 10,000 pages need 10,000 fds
    auto selector = make_selector(backend);
    Report report("06_generators", options);
    std::chrono::milliseconds timeout(options.timeout_ms);

    // Start every page: each Task runs its fetch() up to the first co_yield
    // (the connect) and returns, so this loop takes tens of microseconds per
    // page, not delays.
    int pages_left = options.count;
    std::vector<PageTimes> times(static_cast<std::size_t>(options.count)); // for --trace
    std::deque<PageTask> pages; // a deque never moves its elements: futures point at the tasks
    for (int i = 0; i < options.count; ++i) {
        report.page_started(i);
        PageTask& page = pages.emplace_back(Clock::now() + timeout,
                                        fetch(*selector, server, page_path(i), times[i]));
        // A Task is a Future: once fetch() has returned or thrown, record the page.
        page.task.add_done_callback([&report, &pages_left, &times, i](Future& done) {
            if (auto error = done.exception())
                report.page_failed(i, describe(error), times[i]);
            else // parse_page accepts only 200
                report.page_ok(i, 200, done.result().size(), times[i]);
            --pages_left;
        });
    }

    // The event loop: the seed's loop(). The callbacks it runs only set a
    // result on a future; Task::step takes it from there.
    Deadlines deadlines(pages, timeout);
    long selects = 0;
    while (pages_left > 0) {
        for (const auto& [key, events] : selector->select(deadlines.time_left())) {
            auto* waiter = static_cast<Waiter*>(key.data);
            waiter->callback(key.fd, *waiter->future);
        }
        deadlines.time_out_overdue();
        ++selects;
    }

    report.extra["selector"] = std::string(selector->name());
    report.extra["selects"] = selects;
    return report.finish();
}
