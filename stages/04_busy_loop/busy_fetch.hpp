// Fetch one page the seed's nonblocking_way(): the socket never makes us wait,
// so we ask again, and again, until the answer is yes.
#pragma once

#include "net.hpp"
#include "page.hpp" // Page: the same result 01's fetch_page() returns
#include "trace.hpp"

#include <chrono>
#include <string>

namespace ladder {

// connect, send and recv on an O_NONBLOCK socket. Each call returns at once;
// each "not yet" (EAGAIN, or still connecting) is retried right away and
// counted in `spins`. Throws SysError (a refused connection, a reset),
// TimeoutError (after `timeout`, even while spinning) or HttpError.
// With `times` (for --trace) it notes when it connected, sent and got the first byte.
Page busy_fetch(const Endpoint& server, const std::string& path, std::chrono::milliseconds timeout,
                long& spins, PageTimes* times = nullptr);

} // namespace ladder
