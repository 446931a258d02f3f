// --trace FILE: when each page started, connected, sent its request, saw the
// first byte of the answer and finished — the data behind `./ladder timeline`.
// The Report owns a Trace only when --trace is given; otherwise every mark is
// one null-pointer test and nothing is recorded.
#pragma once

#include "net.hpp"

#include <array>
#include <string>
#include <vector>

namespace ladder {

// The moments between a page's start and its end, in the order they happen.
enum class Mark { connected, sent, first_byte };
inline constexpr int mark_count = 3;

// A page's moments measured somewhere else (a forked worker of 02) and handed
// to the report afterwards. CLOCK_MONOTONIC is shared by every process.
struct PageTimes {
    std::array<Clock::time_point, mark_count> at{};
    void mark(Mark m) { at[static_cast<int>(m)] = Clock::now(); }
    void mark_once(Mark m) { // the first time only (the first byte: not every read)
        if (at[static_cast<int>(m)] == Clock::time_point{}) mark(m);
    }
};

class Trace {
  public:
    Trace(std::string path, int count, Clock::time_point t0);

    void started(int page, Clock::time_point t) { pages_.at(page).start = t; }
    void mark(int page, Mark m, Clock::time_point t) {
        pages_.at(page).times.at[static_cast<int>(m)] = t;
    }
    void times(int page, const PageTimes& times);
    void worker(int page, int worker) { pages_.at(page).worker = worker; }
    void finished(int page, Clock::time_point t, const std::string* error);

    // Writes the file: a header object, then one object per page (JSON lines).
    // `server_delay_ms` is what the server said in /stats (-1: unknown).
    void write(const std::string& stage, int server_delay_ms) const;

  private:
    struct PageTrace {
        Clock::time_point start{}, done{};
        PageTimes times;
        int worker = -1;
        bool ok = false;
        std::string error;
    };
    std::string path_;
    Clock::time_point t0_;
    std::vector<PageTrace> pages_;
};

} // namespace ladder
