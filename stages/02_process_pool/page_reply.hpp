// What crosses the socket for one page. The request is the page's index as
// text; the reply is text too: "status bytes" and then, for --trace, when the
// worker connected, sent and got the first byte, in steady-clock ticks. The
// clock (CLOCK_MONOTONIC) is one clock for every process, so the parent can use
// the worker's times as they are.
#pragma once

#include "page.hpp"
#include "trace.hpp"

#include <sstream>
#include <string>

namespace ladder {

inline std::string encode_reply(const Page& page, const PageTimes& times) {
    std::string text = std::to_string(page.status) + " " + std::to_string(page.bytes);
    for (auto at : times.at) text += " " + std::to_string(at.time_since_epoch().count());
    return text;
}

// False when `text` is not such a reply.
inline bool decode_reply(const std::string& text, Page& page, PageTimes& times) {
    std::istringstream in(text);
    in >> page.status >> page.bytes;
    for (auto& at : times.at) {
        Clock::rep ticks = 0;
        in >> ticks;
        at = Clock::time_point(Clock::duration(ticks));
    }
    return !in.fail();
}

} // namespace ladder
