// The crawler on completion I/O: 07's crawl (07_coroutines/crawl.hpp), the
// same three coroutines, over 11's Socket.
#pragma once

#include "loop.hpp"

#include "cli.hpp"
#include "net.hpp"
#include "page.hpp"
#include "report.hpp"
#include "trace.hpp"

#include <chrono>
#include <string>

namespace ladder::uring {

// connect, send the GET, read until the server closes, check the page.
// Throws SysError, TimeoutError (at `deadline`) or HttpError. `server` must
// outlive the task. With `times` (for --trace) it notes when it connected,
// sent and got the first byte.
Task<Page> fetch(const Endpoint& server, std::string path, Clock::time_point deadline,
                 PageTimes* times = nullptr);

// One page, start to end, errors included: page_started, fetch, then page_ok
// or page_failed. `server` and `report` must outlive the task.
Task<void> crawl_page(const Endpoint& server, int page, std::chrono::milliseconds timeout,
                      Report& report);

// Every page at once, each reported as it ends. `server`, `options` and
// `report` must outlive the task.
Task<void> crawl(const Endpoint& server, const ClientOptions& options, Report& report);

} // namespace ladder::uring
