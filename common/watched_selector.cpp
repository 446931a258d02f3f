#include "watched_selector.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <utility>
#include <vector>

namespace ladder {
namespace {

// The stage's selector does the work through its public calls; this one keeps
// the keys (with the stage's data) and tells the LoopWatch what happens.
class WatchedSelector final : public Selector {
  public:
    WatchedSelector(std::unique_ptr<Selector> inner, std::unique_ptr<LoopWatch> watch,
                    KeyNamer name_of)
        : inner_(std::move(inner)), watch_(std::move(watch)), name_of_(std::move(name_of)) {}
    ~WatchedSelector() override { end_turn(); } // the last answer's callbacks have run

    std::string_view name() const noexcept override { return inner_->name(); }

  private:
    void backend_add(int fd, unsigned events) override {
        inner_->add(fd, events);
        fds_.insert(fd);
    }
    void backend_modify(int fd, unsigned events) override { inner_->modify(fd, events); }
    void backend_remove(int fd) override {
        inner_->remove(fd);
        fds_.erase(fd);
    }

    void backend_wait(int timeout_ms) override {
        end_turn();
        watch_->turn_began(++turns_);
        for (int fd : fds_) watch_->listed(false, entry(key(fd)));
        Timeout allowed;
        if (timeout_ms >= 0) allowed = std::chrono::milliseconds(timeout_ms);
        const std::vector<Ready>& answer = inner_->select(allowed);
        watch_->selected(allowed);
        for (const Ready& r : answer) {
            ready_.push_back(r);
            if (!contains(r.key.fd)) continue;
            LoopEntry e = entry(key(r.key.fd));
            watch_->fd_ready(e, r.events);
            answered_.push_back(std::move(e)); // its callback runs next, in this order
        }
        in_turn_ = true;
    }

    LoopEntry entry(const SelectorKey& k) const {
        return LoopEntry{name_of_(k), k.fd, k.events};
    }

    void end_turn() {
        if (!in_turn_) return;
        in_turn_ = false;
        watch_->ran_together(answered_);
        answered_.clear();
        watch_->turn_ended(size(), 0); // no ready list: a callback runs as its fd is named
    }

    std::unique_ptr<Selector> inner_;
    std::unique_ptr<LoopWatch> watch_;
    KeyNamer name_of_;
    std::set<int> fds_; // registered, in fd order: the waiting list
    std::vector<LoopEntry> answered_;
    std::uint64_t turns_ = 0;
    bool in_turn_ = false;
};

} // namespace

std::unique_ptr<Selector> watch_selector(std::unique_ptr<Selector> selector,
                                         const std::string& stage,
                                         const LoopWatchOptions& options, KeyNamer name_of) {
    std::unique_ptr<LoopWatch> watch;
    try {
        watch = LoopWatch::make(stage, options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", stage.c_str(), e.what());
        std::exit(1);
    }
    if (!watch) return selector;
    return std::make_unique<WatchedSelector>(std::move(selector), std::move(watch),
                                             std::move(name_of));
}

} // namespace ladder
