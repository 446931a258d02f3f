#include "07_coroutines/watch/watch.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ladder::coro {

namespace {

LoopEntry entry(const Waiter& w) {
    return LoopEntry{w.where(), w.fd, w.events};
}

// The watcher's own waiter (show_tasks_after) has no name: it is the
// watching, not the watched, and stays out of every view.
bool shown(const Waiter& w) {
    return *w.function != '\0';
}

// The promise of the coroutine behind `h`. Every coroutine of these stages
// is a Task, whose promise begins with PromiseBase, and compilers place the
// promise after the frame's two function pointers: so from_address() finds
// it. (A view for debugging; the loop itself never does this.)
const detail::PromiseBase& promise_of(std::coroutine_handle<> h) {
    return std::coroutine_handle<detail::PromiseBase>::from_address(h.address()).promise();
}

bool is_root(std::coroutine_handle<> continuation) {
    return !continuation || continuation.address() == std::noop_coroutine().address();
}

} // namespace

void LoopWatchHooks::turn_began(std::uint64_t turn) {
    watch_.turn_began(turn);
    if (!watch_.recording()) return;
    loop_.waiting_list().for_each([&](const Waiter& w) {
        if (shown(w)) watch_.listed(false, entry(w));
    });
    loop_.ready_list().for_each([&](const Waiter& w) {
        if (shown(w)) watch_.listed(true, entry(w));
    });
}

void LoopWatchHooks::selected(const Timeout& timeout, const std::vector<Ready>& ready_fds) {
    watch_.selected(timeout);
    if (!watch_.recording()) return;
    for (const Ready& r : ready_fds)
        if (const auto& w = *static_cast<Waiter*>(r.key.data); shown(w))
            watch_.fd_ready(entry(w), r.events);
}

void LoopWatchHooks::woken(Waiter& w) {
    if (w.timed_out && shown(w) && watch_.recording()) watch_.timer_fired(entry(w));
}

void LoopWatchHooks::step_began(Waiter& w) {
    if (watch_.timing_steps()) watch_.step_began(shown(w) ? entry(w) : LoopEntry{"the task view"});
}

void LoopWatchHooks::turn_ended() {
    if (!watch_.recording()) return;
    std::size_t waiting = 0, ready = 0;
    loop_.waiting_list().for_each([&](const Waiter& w) { waiting += shown(w); });
    loop_.ready_list().for_each([&](const Waiter& w) { ready += shown(w); });
    watch_.turn_ended(waiting, ready);
}

void print_tasks(const Loop& loop, std::FILE* out) {
    // Each waiter's chain, root first: "crawl_page > fetch".
    std::map<std::string, std::vector<std::string>> chains; // chain -> what each waits for
    auto now = Clock::now();
    auto add = [&](const Waiter& w, const char* state) {
        if (!shown(w)) return;
        std::string chain = w.function;
        for (auto up = promise_of(w.handle).continuation; !is_root(up);
             up = promise_of(up).continuation)
            chain = std::string(promise_of(up).name) + " > " + chain;
        std::string what = std::string(state) + " at line " + std::to_string(w.line);
        if (w.fd >= 0)
            what += ", fd " + std::to_string(w.fd) + (w.events & EVENT_READ ? " to read" : " to write");
        if (w.deadline != never)
            what += ", deadline in " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       w.deadline - now)
                                       .count()) +
                    " ms";
        chains[chain].push_back(what);
    };
    loop.ready_list().for_each([&](const Waiter& w) { add(w, "ready"); });
    loop.waiting_list().for_each([&](const Waiter& w) { add(w, "parked"); });
    std::size_t tasks = 0;
    for (const auto& [chain, whats] : chains) tasks += whats.size();
    std::fprintf(out, "tasks on the loop at turn %llu: %zu\n",
                 static_cast<unsigned long long>(loop.turns()), tasks);
    for (const auto& [chain, whats] : chains) {
        std::fprintf(out, "  %s: %s", chain.c_str(), whats.front().c_str());
        if (whats.size() > 1) std::fprintf(out, " (and %zu more like it)", whats.size() - 1);
        std::fprintf(out, "\n");
    }
    std::fflush(out);
}

namespace {

std::atomic<bool> tasks_asked{false};

extern "C" void on_sigquit(int) {
    tasks_asked = true;
}

// Wait until `deadline` passes.
struct Until {
    Loop& loop;
    Waiter waiter;
    Until(Loop& on, Clock::time_point deadline) noexcept : loop(on) { waiter.deadline = deadline; }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> self) {
        waiter.handle = self; // no function name: not shown (above)
        loop.park(waiter);
    }
    void await_resume() const {
        if (waiter.error) std::rethrow_exception(waiter.error);
    }
};

} // namespace

TaskView::TaskView(Loop& loop) : loop_(loop) {
    struct sigaction quit{};
    quit.sa_handler = on_sigquit;
    tasks_asked = false;
    ::sigaction(SIGQUIT, &quit, &old_);
    loop_.attach(*this);
}

TaskView::~TaskView() {
    loop_.detach(*this);
    ::sigaction(SIGQUIT, &old_, nullptr);
}

void TaskView::turn_ended() {
    if (tasks_asked.exchange(false)) print_tasks(loop_, stderr);
}

Task<void> show_tasks_after(Loop& loop, int after_ms) {
    co_await Until(loop, Clock::now() + std::chrono::milliseconds(after_ms));
    print_tasks(loop, stderr);
}

void add_watch_flags(Cli& cli, LoopWatchOptions& options) {
    add_loop_watch_flags(cli, options);
    cli.option("--dump-tasks-after-ms", &options.dump_tasks_after_ms,
               "print every task on the loop once, this long after the start (kill -QUIT too)",
               0, 3'600'000);
}

Watching::Watching(Loop& loop, std::string stage, const LoopWatchOptions& options)
    : watch_(LoopWatch::make(std::move(stage), options)), on_quit_(loop) {
    if (watch_) hooks_.emplace(loop, *watch_);
    if (options.dump_tasks_after_ms >= 0) {
        dump_once_ = show_tasks_after(loop, options.dump_tasks_after_ms);
        dump_once_.start();
    }
}

} // namespace ladder::coro
