// One page as a generator, in the seed's two steps (fetch.cpp). main runs
// step 2 unless given --plain-yield.
#pragma once

#include "generator.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "trace.hpp"

#include <string>

namespace ladder::gen {

// Step 1 (§4.4.2): one generator that yields a Future wherever 01 blocked.
Generator fetch_plain_yield(Selector& selector, const Endpoint& server, std::string path,
                            PageTimes& times);

// Step 2 (§4.5.2): the same, built from the sub-generators connect(), read()
// and read_all(). It yields generators: run it through yield_from().
Generator fetch(Selector& selector, const Endpoint& server, std::string path, PageTimes& times);

// Both return the whole response, and fail with the error that ended the page.
// `path` is taken by value: a coroutine keeps a reference parameter as a
// reference, and the caller's string may be gone before the frame is; the
// selector, the server and `times` (the moments for --trace) are main's, which
// outlive every page.

} // namespace ladder::gen
