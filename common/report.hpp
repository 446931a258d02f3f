// The closing metrics every stage prints, so stages compare side by side:
// one human-readable summary line, or with --json exactly one JSON object.
// Per-page lines go to stderr (none with --quiet).
#pragma once

#include "cli.hpp"
#include "net.hpp"
#include "trace.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace ladder {

class Report {
  public:
    // Starts the wall clock.
    Report(std::string stage, const ClientOptions& options);

    // A page's life as the report sees it: started, then ok or failed.
    // `page` is the page index 0..count-1; in-flight counting follows these calls.
    void page_started(int page);
    void page_ok(int page, int status, std::size_t bytes);
    void page_failed(int page, const std::string& error);
    // The same, with the moments the page's fetch noted on the way (for --trace).
    void page_ok(int page, int status, std::size_t bytes, const PageTimes& times) {
        page_times(page, times);
        page_ok(page, status, bytes);
    }
    void page_failed(int page, const std::string& error, const PageTimes& times) {
        page_times(page, times);
        page_failed(page, error);
    }

    // --trace: the moments in between, called at the stage's natural points
    // (after connect, after the request is sent, at the first byte). Without
    // --trace each call is a single test of a null pointer.
    void mark(int page, Mark m) {
        if (trace_) trace_->mark(page, m, Clock::now());
    }
    void page_times(int page, const PageTimes& times) { // measured in another process
        if (trace_) trace_->times(page, times);
    }
    void set_worker(int page, int worker) { // which process or thread handled the page
        if (trace_) trace_->worker(page, worker);
    }
    bool tracing() const noexcept { return trace_ != nullptr; }

    // Stage-specific keys for the JSON object and the summary (workers, spins, ...).
    nlohmann::json extra = nlohmann::json::object();

    // Stops the clock, reads getrusage (this process and its waited-for
    // children) and prints. Returns the exit code: 0 if every page was ok, else 1.
    // If the environment names a file in LADDER_REPORT_JSON, the JSON object is
    // also written there (how ./ladder's tour collects numbers for its table).
    // With --trace it also writes the trace file.
    int finish();

    nlohmann::json to_json() const; // what finish() prints with --json
    std::string summary() const;    // what finish() prints without it

    int ok() const noexcept { return ok_; }
    int failed() const noexcept { return failed_; }
    int peak_in_flight() const noexcept { return peak_in_flight_; }

  private:
    void finished(int page);
    double elapsed_ms(int page) const;

    std::string stage_;
    const ClientOptions& options_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point end_{};
    std::vector<Clock::time_point> page_start_; // for the per-page lines
    int ok_ = 0, failed_ = 0, in_flight_ = 0, peak_in_flight_ = 0;
    std::size_t bytes_ = 0;
    std::vector<std::string> errors_; // the first few
    std::unique_ptr<Trace> trace_;    // only with --trace
};

// A stage that cannot run on this machine (11 without io_uring) is skipped,
// not failed: one line "STAGE: skipped: REASON" on stderr, with --json the
// object {"stage", "skipped": REASON} on stdout (and in LADDER_REPORT_JSON,
// for the tour). Returns the exit code for it: 3.
int report_skipped(const std::string& stage, const ClientOptions& options,
                   const std::string& reason);

} // namespace ladder
