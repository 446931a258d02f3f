// The crawler, written with coroutines: it reads like 01_blocking's, with
// co_await in front of every wait.
#pragma once

#include "cli.hpp"
#include "net.hpp"
#include "page.hpp"
#include "report.hpp"
#include "task.hpp"
#include "trace.hpp"

#include <chrono>
#include <string>

namespace ladder::coro {

// connect, send the GET, read until the server closes, check the page.
// Throws SysError, TimeoutError (at `deadline`) or HttpError. `server` must
// outlive the task. With `times` (for --trace) it notes when it connected,
// sent and got the first byte; with `body`, it leaves the JSON page there.
Task<Page> fetch(const Endpoint& server, std::string path, Clock::time_point deadline,
                 PageTimes* times = nullptr, std::string* body = nullptr);

// One page, start to end, errors included (01's loop body as a coroutine):
// page_started, fetch, then page_ok or page_failed: a failed page is
// reported, not thrown. `server` and `report` must outlive the task.
Task<void> crawl_page(const Endpoint& server, int page, std::chrono::milliseconds timeout,
                      Report& report);

// Every page at once, each reported as it ends: a failed page does not stop
// the others. `server`, `options` and `report` must outlive the task.
Task<void> crawl(const Endpoint& server, const ClientOptions& options, Report& report);

} // namespace ladder::coro
