#include "loop_watch.hpp"
#include "error.hpp"

#include <chrono>
#include <utility>

namespace ladder {

namespace {

// Lists and answers are cut at this many entries: the stepper draws a few
// boxes, not 10,000 ("waiting_more" says how many were left out).
constexpr std::size_t list_limit = 50;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

double rounded(double ms) {
    return static_cast<double>(static_cast<long long>(ms * 1000 + 0.5)) / 1000;
}

void push_limited(nlohmann::json& turn, const char* list, nlohmann::json entry) {
    nlohmann::json& l = turn[list];
    if (l.size() < list_limit)
        l.push_back(std::move(entry));
    else
        turn[std::string(list) + "_more"] = turn.value(std::string(list) + "_more", 0) + 1;
}

} // namespace

void add_loop_watch_flags(Cli& cli, LoopWatchOptions& o) {
    cli.option("--trace-loop", &o.trace_path,
               "write what the event loop does, one JSON line per turn, to this file")
        .option("--trace-loop-turns", &o.trace_turns, "record at most this many turns", 1,
                10'000'000)
        .option("--slow-step-ms", &o.slow_step_ms,
                "warn when one step holds the loop longer than this (0: off)", 0, 3'600'000)
        .flag("--debug", &o.debug, "asyncio's debug mode: slow steps over 100 ms are reported");
}

std::unique_ptr<LoopWatch> LoopWatch::make(std::string stage, const LoopWatchOptions& o) {
    if (o.trace_path.empty() && o.slow_step_ms == 0 && !o.debug && o.dump_tasks_after_ms < 0)
        return nullptr;
    return std::make_unique<LoopWatch>(std::move(stage), o);
}

LoopWatch::LoopWatch(std::string stage, const LoopWatchOptions& o)
    : stage_(std::move(stage)), max_turns_(o.trace_turns),
      slow_step_ms_(o.slow_step_ms > 0 ? o.slow_step_ms : o.debug ? 100 : 0) {
    if (o.trace_path.empty()) return;
    trace_ = std::fopen(o.trace_path.c_str(), "w");
    if (!trace_) throw_errno("fopen", o.trace_path + " (--trace-loop)");
    std::fprintf(trace_, "%s\n",
                 nlohmann::json{{"type", "header"},
                                {"stage", stage_},
                                {"max_turns", max_turns_},
                                {"t0_us", monotonic_us(start_)}}
                     .dump()
                     .c_str());
}

LoopWatch::~LoopWatch() {
    if (!trace_) return;
    std::fprintf(trace_, "%s\n",
                 nlohmann::json{{"type", "end"}, {"turns", turns_}, {"recorded", recorded_}}
                     .dump()
                     .c_str());
    std::fclose(trace_);
}

nlohmann::json LoopWatch::as_json(const LoopEntry& e) {
    nlohmann::json j = {{"who", e.who}};
    if (e.fd >= 0) j["fd"] = e.fd;
    if (e.events) j["for"] = e.events & EVENT_READ ? "read" : "write";
    return j;
}

void LoopWatch::turn_began(std::uint64_t turn) {
    ++turns_;
    turn_start_ = Clock::now();
    if (!recording()) return;
    turn_ = {{"type", "turn"},
             {"turn", turn},
             {"t_ms", rounded(ms_between(start_, turn_start_))},
             {"waiting", nlohmann::json::array()},
             {"ready", nlohmann::json::array()},
             {"fds", nlohmann::json::array()},
             {"timers", nlohmann::json::array()},
             {"steps", nlohmann::json::array()}};
}

void LoopWatch::listed(bool ready, LoopEntry entry) {
    if (recording()) push_limited(turn_, ready ? "ready" : "waiting", as_json(entry));
}

void LoopWatch::selected(const Timeout& allowed) {
    selected_at_ = Clock::now();
    if (!recording()) return;
    double slept = ms_between(turn_start_, selected_at_);
    turn_["slept_ms"] = rounded(slept);
    if (!allowed) {
        turn_["timeout_ms"] = nullptr;
        turn_["why"] = "nothing is ready and no deadline: until an fd is ready";
    } else if (allowed->count() <= 0) {
        turn_["timeout_ms"] = 0;
        turn_["why"] = "something is ready already: just look";
    } else {
        turn_["timeout_ms"] = rounded(std::chrono::duration<double, std::milli>(*allowed).count());
        turn_["why"] = "until an fd is ready or the nearest deadline";
    }
}

void LoopWatch::fd_ready(LoopEntry entry, unsigned events) {
    if (!recording()) return;
    nlohmann::json j = as_json(entry);
    j["events"] = std::string(events & EVENT_READ ? "r" : "") + (events & EVENT_WRITE ? "w" : "");
    push_limited(turn_, "fds", std::move(j));
}

void LoopWatch::timer_fired(LoopEntry entry) {
    if (recording()) push_limited(turn_, "timers", as_json(entry));
}

void LoopWatch::step_began(LoopEntry entry) {
    running_ = std::move(entry);
    step_start_ = Clock::now();
}

void LoopWatch::step_ended() {
    if (step_start_ == Clock::time_point{}) return; // watched from inside a step: not its start
    double ms = ms_between(std::exchange(step_start_, Clock::time_point{}), Clock::now());
    if (slow_step_ms_ > 0 && ms > slow_step_ms_ && ++slow_steps_)
        std::fprintf(stderr,
                     "%s: slow step: %s held the loop for %.0f ms (--slow-step-ms %.0f): every "
                     "other page waited that long\n",
                     stage_.c_str(), running_.who.c_str(), ms, slow_step_ms_);
    if (!recording()) return;
    nlohmann::json j = as_json(running_);
    j["ms"] = rounded(ms);
    push_limited(turn_, "steps", std::move(j));
}

void LoopWatch::ran_together(const std::vector<LoopEntry>& steps) {
    double ms = ms_between(selected_at_, Clock::now());
    if (slow_step_ms_ > 0 && ms > slow_step_ms_ && ++slow_steps_)
        std::fprintf(stderr,
                     "%s: slow turn: the callbacks of %zu ready fds held the loop for %.0f ms "
                     "(--slow-step-ms %.0f): every other page waited that long\n",
                     stage_.c_str(), steps.size(), ms, slow_step_ms_);
    if (!recording()) return;
    for (const LoopEntry& e : steps) push_limited(turn_, "steps", as_json(e));
    turn_["steps_ms"] = rounded(ms);
}

void LoopWatch::turn_ended(std::size_t waiting, std::size_t ready) {
    if (!recording()) return;
    turn_["waiting_after"] = waiting;
    turn_["ready_after"] = ready;
    std::fprintf(trace_, "%s\n", turn_.dump().c_str());
    // Whole lines, now: a run that is killed still leaves a file the stepper reads.
    std::fflush(trace_);
    ++recorded_;
}

} // namespace ladder
