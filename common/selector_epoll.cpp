// epoll backend: the kernel keeps the watch list, so each wait costs O(ready fds).
// Level-triggered by default, like select and poll: an fd is reported on every
// wait for as long as it is ready. Edge-triggered (EPOLLET), only when
// something new arrives — bytes left unread wake no one.
#include "error.hpp"
#include "selector.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

namespace ladder {
namespace {

// The mask translation, both ways, in one place.
std::uint32_t to_epoll(unsigned events) {
    std::uint32_t e = 0;
    if (events & EVENT_READ) e |= EPOLLIN;
    if (events & EVENT_WRITE) e |= EPOLLOUT;
    return e;
}

unsigned from_epoll(std::uint32_t e) {
    unsigned events = 0;
    if (e & EPOLLIN) events |= EVENT_READ;
    if (e & EPOLLOUT) events |= EVENT_WRITE;
    // An error or hang-up wakes both directions: the next read or write on the
    // fd reports what went wrong, whichever one the owner is waiting for.
    if (e & (EPOLLERR | EPOLLHUP)) events |= EVENT_READ | EVENT_WRITE;
    return events;
}

class EpollSelector final : public Selector {
  public:
    explicit EpollSelector(Trigger trigger)
        : epfd_(epoll_create1(EPOLL_CLOEXEC)), edge_(trigger == Trigger::edge) {
        if (epfd_ < 0) throw_errno("epoll_create1");
    }
    ~EpollSelector() override { ::close(epfd_); }
    EpollSelector(const EpollSelector&) = delete;
    EpollSelector& operator=(const EpollSelector&) = delete;

    std::string_view name() const noexcept override {
        return edge_ ? "epoll (edge-triggered)" : "epoll";
    }

  protected:
    void backend_add(int fd, unsigned events) override { ctl(EPOLL_CTL_ADD, fd, events); }
    void backend_modify(int fd, unsigned events) override { ctl(EPOLL_CTL_MOD, fd, events); }
    void backend_remove(int fd) override {
        // Like Python: ignore the kernel's complaint when fd was closed already;
        // our key table is what says whether fd was registered.
        epoll_event ev{};
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
    }

    void backend_wait(int timeout_ms) override {
        int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
        if (n < 0) {
            if (errno == EINTR) return; // a signal: report nothing, let the caller look around
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i)
            ready_.push_back(Ready{SelectorKey{events_[i].data.fd}, from_epoll(events_[i].events)});
    }

  private:
    void ctl(int op, int fd, unsigned events) {
        epoll_event ev{};
        ev.events = to_epoll(events) | (edge_ ? EPOLLET : 0u);
        ev.data.fd = fd;
        if (::epoll_ctl(epfd_, op, fd, &ev) < 0)
            throw_errno("epoll_ctl", "fd " + std::to_string(fd));
    }

    int epfd_;
    bool edge_;
    // Up to this many ready fds per wait; more simply come back on the next wait.
    std::array<epoll_event, 1024> events_{};
};

} // namespace

std::unique_ptr<Selector> make_epoll_selector(Trigger trigger) {
    return std::make_unique<EpollSelector>(trigger);
}

} // namespace ladder
