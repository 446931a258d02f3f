// Fetch one page the blocking way. Stages 02 and 03 call this same function
// from their worker processes and threads.
#pragma once

#include "net.hpp"
#include "page.hpp"
#include "trace.hpp"

#include <chrono>
#include <string>

namespace ladder {

// connect, send, recv until EOF — each call waits inside the kernel until it
// is done. Throws SysError, TimeoutError (after `timeout`) or HttpError.
// With `times` (for --trace) it notes when it connected, sent and got the first byte.
Page fetch_page(const Endpoint& server, const std::string& path, std::chrono::milliseconds timeout,
                PageTimes* times = nullptr);

} // namespace ladder
