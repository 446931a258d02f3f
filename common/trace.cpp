#include "trace.hpp"
#include "error.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace ladder {

Trace::Trace(std::string path, int count, Clock::time_point t0)
    : path_(std::move(path)), t0_(t0), pages_(static_cast<std::size_t>(count)) {}

void Trace::times(int page, const PageTimes& times) {
    for (int m = 0; m < mark_count; ++m)
        if (times.at[m] != Clock::time_point{}) pages_.at(page).times.at[m] = times.at[m];
}

void Trace::finished(int page, Clock::time_point t, const std::string* error) {
    PageTrace& p = pages_.at(page);
    p.done = t;
    p.ok = error == nullptr;
    if (error) p.error = *error;
}

void Trace::write(const std::string& stage, int server_delay_ms) const {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    if (!f) throw_errno("fopen", path_);
    // Offsets from the run's start in ms; null for a moment the page never reached.
    auto offset = [&](Clock::time_point t) -> nlohmann::json {
        if (t == Clock::time_point{}) return nullptr;
        return std::chrono::duration<double, std::milli>(t - t0_).count();
    };
    nlohmann::json header = {{"type", "header"},
                             {"stage", stage},
                             {"count", pages_.size()},
                             {"server_delay_ms", server_delay_ms < 0
                                                     ? nlohmann::json(nullptr)
                                                     : nlohmann::json(server_delay_ms)},
                             {"t0_us", monotonic_us(t0_)}};
    std::fprintf(f, "%s\n", header.dump().c_str());
    for (std::size_t i = 0; i < pages_.size(); ++i) {
        const PageTrace& p = pages_[i];
        nlohmann::json line = {
            {"type", "page"},
            {"page", i},
            {"worker", p.worker < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.worker)},
            {"start_ms", offset(p.start)},
            {"connected_ms", offset(p.times.at[0])},
            {"sent_ms", offset(p.times.at[1])},
            {"first_byte_ms", offset(p.times.at[2])},
            {"done_ms", offset(p.done)},
            {"ok", p.ok}};
        if (!p.ok) line["error"] = p.done == Clock::time_point{} ? "never finished" : p.error;
        std::fprintf(f, "%s\n", line.dump().c_str());
    }
    if (std::fclose(f) != 0) throw_errno("write", path_);
}

} // namespace ladder
