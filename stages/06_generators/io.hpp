// The sub-generators of the seed's §4.5.2 — connect(), read(), read_all() —
// and, under them, the selector callbacks, which only complete a Future.
#pragma once

#include "future.hpp"
#include "generator.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "trace.hpp"

#include <string_view>

namespace ladder::gen {

// What key.data points at while a generator waits on an fd: the Future to
// complete, and the selector callback that completes it. It lives in the
// waiting generator's frame.
struct Waiter {
    Future* future;
    void (*callback)(int fd, Future& future); // on_connected or on_readable
};

// The selector callbacks (the seed's on_connected / on_readable). They know
// nothing of pages or crawls: they set a result or an error, and return.
void on_connected(int fd, Future& future); // result "", or the connect error
void on_readable(int fd, Future& future);  // result: one chunk, "" at end of stream

// Sub-generators, for `co_yield` (yield from). Each one watches fd only while
// it waits on it.
Generator connect(Selector& selector, int fd, const Endpoint& server); // returns ""
Generator read(Selector& selector, int fd); // returns one chunk, "" at end of stream
// Returns everything until end of stream; notes the first byte's arrival in
// `times` (for --trace) when given.
Generator read_all(Selector& selector, int fd, PageTimes* times = nullptr);

// A plain function, not a generator: a freshly connected socket takes our few
// dozen bytes in one send(), so there is nothing to wait for.
void send_request(int fd, std::string_view request);

} // namespace ladder::gen
