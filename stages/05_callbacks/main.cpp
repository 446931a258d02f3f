// 05_callbacks — event loop + callbacks (the seed's §3.5): every page in flight
// at once, in one thread.
//
// Each page is a Crawler (crawler.cpp) whose work is cut into callbacks. main
// starts them all, then runs the event loop: ask the selector which sockets are
// ready, call each one's callback, and repeat until no page is left.
#include "cli.hpp"
#include "crawler.hpp"
#include "net.hpp"
#include "page.hpp"
#include "report.hpp"
#include "selector.hpp"
#include "watched_selector.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <string>

namespace {

using namespace ladder;

// Every page has the same timeout and the pages started in order, so the
// oldest unfinished page is always the next one to time out: no heap needed.
class Deadlines {
  public:
    explicit Deadlines(std::deque<Crawler>& crawlers) : crawlers_(crawlers) {}

    // How long select() may sleep before the next page times out.
    Timeout time_left() {
        Crawler* c = oldest_unfinished();
        if (!c) return std::nullopt;
        return c->deadline() - Clock::now();
    }

    // Fail every page whose deadline has passed — the loop enforces
    // --timeout-ms; no socket call waits on its own.
    void time_out_overdue() {
        auto now = Clock::now();
        while (Crawler* c = oldest_unfinished()) {
            if (c->deadline() > now) break;
            c->time_out();
        }
    }

  private:
    Crawler* oldest_unfinished() {
        while (oldest_ < crawlers_.size() && crawlers_[oldest_].done()) ++oldest_;
        return oldest_ < crawlers_.size() ? &crawlers_[oldest_] : nullptr;
    }

    std::deque<Crawler>& crawlers_;
    std::size_t oldest_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    std::string backend = "epoll";
    bool edge_triggered = false;
    Cli cli("05_callbacks", "Fetch every page at once in one thread: an event loop and callbacks.");
    add_client_flags(cli, options);
    add_selector_flag(cli, backend);
    cli.flag("--edge-triggered", &edge_triggered,
             "epoll reports a socket once per arrival, not while bytes remain (notes/05, ex. 4)");
    LoopWatchOptions watching; // watched_selector.hpp: not part of the lesson
    add_loop_watch_flags(cli, watching);
    cli.parse(argc, argv);
    if (edge_triggered && backend != "epoll") cli.fail("--edge-triggered needs --selector epoll");

    Endpoint server = require_server("05_callbacks", options);
    raise_fd_limit(); // one socket per page: 10,000 pages need 10,000 fds
    auto selector = watch_selector(
        make_selector(backend, edge_triggered ? Trigger::edge : Trigger::level), "05_callbacks",
        watching, [](const SelectorKey& key) { return static_cast<Crawler*>(key.data)->name(); });
    Report report("05_callbacks", options);
    Crawl crawl{*selector, server, report, std::chrono::milliseconds(options.timeout_ms),
                options.count};

    // Start every page. fetch() only begins a connect and registers a
    // callback, so this loop takes tens of microseconds per page, not delays.
    std::deque<Crawler> crawlers; // a deque never moves its elements: the selector points at them
    try {
        for (int page = 0; page < options.count; ++page) crawlers.emplace_back(crawl, page).fetch();
    } catch (const SelectorLimitError& e) { // --selector select, past fd 1023
        std::fprintf(stderr, "05_callbacks: %s\n", e.what());
        return 1;
    }

    // The event loop: wait until some sockets are ready (or the next page is
    // due to time out), then run the callback each one was registered with.
    Deadlines deadlines(crawlers);
    long selects = 0;
    while (crawl.pages_left > 0) {
        for (const auto& [key, events] : selector->select(deadlines.time_left()))
            static_cast<Crawler*>(key.data)->on_event(events);
        deadlines.time_out_overdue();
        ++selects;
    }

    report.extra["selector"] = std::string(selector->name());
    report.extra["selects"] = selects;
    return report.finish();
}
