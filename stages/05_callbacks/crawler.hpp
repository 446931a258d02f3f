// The seed's Crawler (§3.5.2): one object per page, whose work is cut into
// callbacks that the event loop calls when the page's socket is ready.
//
//   fetch()        start a non-blocking connect, watch for WRITE   -> on_connected
//   on_connected   check SO_ERROR, send the request, watch READ    -> on_readable
//   on_readable    append what arrived; at EOF check the page, record it, stop watching
//
// Between two callbacks a Crawler has no stack: everything it needs later (the
// socket, the bytes so far, which callback is next) must live in its members.
#pragma once

#include "net.hpp"
#include "report.hpp"
#include "selector.hpp"

#include <string>

namespace ladder {

// What every Crawler's callbacks share — the seed's globals `selector`,
// `urls_todo` and `stopped`, gathered in one place instead of scattered.
struct Crawl {
    Selector& selector;
    Endpoint server;
    Report& report;
    Clock::duration timeout; // --timeout-ms, per page
    int pages_left = 0;      // the loop stops when this reaches 0 (the seed's `stopped`)
};

class Crawler {
  public:
    Crawler(Crawl& crawl, int page);
    Crawler(const Crawler&) = delete; // the selector holds a pointer to us
    Crawler& operator=(const Crawler&) = delete;

    void fetch();
    // What the event loop calls: run whichever callback was registered last.
    void on_event(unsigned events);
    // The loop calls this once the page's deadline has passed.
    void time_out();

    bool done() const noexcept { return done_; }
    // What --trace-loop calls it (watched_selector.hpp): "page 3 on_readable".
    std::string name() const;
    Clock::time_point deadline() const noexcept { return deadline_; }

  private:
    using Callback = void (Crawler::*)(unsigned events);

    void on_connected(unsigned events);
    void on_readable(unsigned events);
    void watch(unsigned events, Callback callback);
    void fail(const std::string& error);
    void finish();

    Crawl& crawl_;
    int page_;
    std::string path_;
    Clock::time_point deadline_{};
    Fd sock_;
    Callback callback_ = nullptr; // the callback registered with the selector
    std::string response_;        // the seed's self.response: bytes so far
    bool done_ = false;
};

} // namespace ladder
