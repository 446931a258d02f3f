// poll backend: we keep the watch list and hand all of it to the kernel on every
// wait, so each wait costs O(watched fds) — the difference the notes measure.
#include "error.hpp"
#include "selector.hpp"

#include <poll.h>

#include <cerrno>
#include <vector>

namespace ladder {
namespace {

short to_poll(unsigned events) {
    short e = 0;
    if (events & EVENT_READ) e |= POLLIN;
    if (events & EVENT_WRITE) e |= POLLOUT;
    return e;
}

unsigned from_poll(short e) {
    unsigned events = 0;
    if (e & POLLIN) events |= EVENT_READ;
    if (e & POLLOUT) events |= EVENT_WRITE;
    if (e & (POLLERR | POLLHUP | POLLNVAL)) events |= EVENT_READ | EVENT_WRITE;
    return events;
}

class PollSelector final : public Selector {
  public:
    std::string_view name() const noexcept override { return "poll"; }

  protected:
    void backend_add(int fd, unsigned events) override {
        if (static_cast<std::size_t>(fd) >= slot_.size()) slot_.resize(fd + 1, -1);
        slot_[fd] = static_cast<int>(fds_.size());
        fds_.push_back(pollfd{fd, to_poll(events), 0});
    }
    void backend_modify(int fd, unsigned events) override {
        fds_[slot_[fd]].events = to_poll(events);
    }
    void backend_remove(int fd) override {
        // Swap the last entry into the hole so removal stays O(1).
        int hole = slot_[fd];
        fds_[hole] = fds_.back();
        slot_[fds_[hole].fd] = hole;
        fds_.pop_back();
        slot_[fd] = -1;
    }

    void backend_wait(int timeout_ms) override {
        int n = ::poll(fds_.data(), fds_.size(), timeout_ms);
        if (n < 0) {
            if (errno == EINTR) return;
            throw_errno("poll");
        }
        for (const pollfd& p : fds_) {
            if (n == 0) break;
            if (p.revents == 0) continue;
            --n;
            ready_.push_back(Ready{SelectorKey{p.fd}, from_poll(p.revents)});
        }
    }

  private:
    std::vector<pollfd> fds_; // what the kernel is handed on every wait
    std::vector<int> slot_;   // fd -> index in fds_, -1 when absent
};

} // namespace

std::unique_ptr<Selector> make_poll_selector() {
    return std::make_unique<PollSelector>();
}

} // namespace ladder
