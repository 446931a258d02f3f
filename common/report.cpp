#include "report.hpp"
#include "http.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace ladder {

namespace {

constexpr std::size_t max_errors_kept = 5;

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

// What the kernel counted for this process plus its children that were waited
// for (the forked workers of 02): CPU time, peak memory, context switches.
struct Usage {
    double user_s = 0, sys_s = 0;
    long max_rss_kb = 0, voluntary = 0, involuntary = 0;
};

// This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries
// that across exec, so a stage started by a big parent (a Python script) would
// report the parent's size. VmHWM belongs to this program's own memory map.
long own_peak_rss_kb(long fallback) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return fallback;
    char line[256];
    long kb = fallback;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    std::fclose(f);
    return kb;
}

Usage read_usage() {
    Usage u;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage r{};
        getrusage(who, &r);
        u.user_s += seconds(r.ru_utime);
        u.sys_s += seconds(r.ru_stime);
        long rss = who == RUSAGE_SELF ? own_peak_rss_kb(r.ru_maxrss) : r.ru_maxrss;
        u.max_rss_kb = std::max(u.max_rss_kb, rss); // the largest single process
        u.voluntary += r.ru_nvcsw;
        u.involuntary += r.ru_nivcsw;
    }
    return u;
}

} // namespace

Report::Report(std::string stage, const ClientOptions& options)
    : stage_(std::move(stage)), options_(options),
      page_start_(static_cast<std::size_t>(options.count)) {
    if (!options.trace.empty())
        trace_ = std::make_unique<Trace>(options.trace, options.count, start_);
}

void Report::page_started(int page) {
    page_start_.at(page) = Clock::now();
    if (trace_) trace_->started(page, page_start_[page]);
    peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
}

void Report::finished(int /*page*/) {
    --in_flight_;
}

double Report::elapsed_ms(int page) const {
    return std::chrono::duration<double, std::milli>(Clock::now() - page_start_.at(page)).count();
}

void Report::page_ok(int page, int status, std::size_t bytes) {
    finished(page);
    if (trace_) trace_->finished(page, Clock::now(), nullptr);
    ++ok_;
    bytes_ += bytes;
    if (!options_.quiet)
        std::fprintf(stderr, "  page %d: %d, %zu bytes, %.0f ms\n", page, status, bytes,
                     elapsed_ms(page));
}

void Report::page_failed(int page, const std::string& error) {
    finished(page);
    if (trace_) trace_->finished(page, Clock::now(), &error);
    ++failed_;
    if (errors_.size() < max_errors_kept)
        errors_.push_back("page " + std::to_string(page) + ": " + error);
    if (!options_.quiet)
        std::fprintf(stderr, "  page %d: FAILED after %.0f ms: %s\n", page, elapsed_ms(page),
                     error.c_str());
}

nlohmann::json Report::to_json() const {
    Usage u = read_usage();
    auto end = end_ == Clock::time_point{} ? Clock::now() : end_;
    nlohmann::json j = {
        {"stage", stage_},
        {"server", options_.host + ":" + std::to_string(options_.port)},
        {"requests", ok_ + failed_},
        {"ok", ok_},
        {"failed", failed_},
        {"bytes", bytes_},
        {"wall_s", std::chrono::duration<double>(end - start_).count()},
        {"user_s", u.user_s},
        {"sys_s", u.sys_s},
        {"max_rss_kb", u.max_rss_kb},
        {"ctx_voluntary", u.voluntary},
        {"ctx_involuntary", u.involuntary},
        {"peak_in_flight", peak_in_flight_},
        {"errors", errors_},
    };
    j.update(extra);
    return j;
}

std::string Report::summary() const {
    nlohmann::json j = to_json();
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s: %d pages (%d ok, %d failed), %zu bytes in %.3f s; cpu %.3f s user + "
                  "%.3f s sys; max rss %.1f MiB; %ld voluntary + %ld involuntary context "
                  "switches; peak %d in flight",
                  stage_.c_str(), ok_ + failed_, ok_, failed_, bytes_, j["wall_s"].get<double>(),
                  j["user_s"].get<double>(), j["sys_s"].get<double>(),
                  j["max_rss_kb"].get<long>() / 1024.0, j["ctx_voluntary"].get<long>(),
                  j["ctx_involuntary"].get<long>(), peak_in_flight_);
    std::string text = line;
    // Scalars only: an array or object (08's and 09's demos) is for --json,
    // and the demos have printed their own lines already.
    for (const auto& [key, value] : extra.items())
        if (value.is_primitive()) text += "; " + key + " " + value.dump();
    return text;
}

// The server's delay setting, for the trace header (-1 when it cannot be asked).
static int server_delay_ms(const ClientOptions& options) {
    try {
        auto deadline = Clock::now() + std::chrono::seconds(1);
        Endpoint server = resolve(options.host, options.port);
        Fd sock = connect_blocking(server, deadline);
        send_all_blocking(sock.get(), build_request(server.text, "/stats"), deadline);
        ResponseParser response;
        char buf[4096];
        while (std::size_t n = recv_blocking(sock.get(), buf, deadline))
            response.feed(std::string_view(buf, n));
        response.finish();
        return nlohmann::json::parse(response.body()).at("delay_ms").get<int>();
    } catch (const std::exception&) {
        return -1;
    }
}

static void write_report_file(const nlohmann::json& j) {
    if (const char* path = std::getenv("LADDER_REPORT_JSON"); path && *path)
        if (std::FILE* f = std::fopen(path, "w")) {
            std::fprintf(f, "%s\n", j.dump().c_str());
            std::fclose(f);
        }
}

int Report::finish() {
    end_ = Clock::now();
    if (trace_) {
        try {
            trace_->write(stage_, server_delay_ms(options_));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: --trace: %s\n", stage_.c_str(), e.what());
        }
    }
    std::string out = options_.json ? to_json().dump() : summary();
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
    // The tour (tools/runner.py) shows the human line and still needs the
    // numbers: it names a file here, so the command it prints stays the one a
    // student would type.
    write_report_file(to_json());
    return failed_ == 0 && ok_ == options_.count ? 0 : 1;
}

int report_skipped(const std::string& stage, const ClientOptions& options,
                   const std::string& reason) {
    std::fprintf(stderr, "%s: skipped: %s\n", stage.c_str(), reason.c_str());
    nlohmann::json j = {{"stage", stage}, {"skipped", reason}};
    if (options.json) std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    write_report_file(j);
    return 3;
}

} // namespace ladder
