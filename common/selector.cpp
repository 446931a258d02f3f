// The backend-independent half of the selector: the key table and the masking.
#include "selector.hpp"

#include <stdexcept>
#include <string>

namespace ladder {

std::unique_ptr<Selector> make_epoll_selector(Trigger trigger); // selector_epoll.cpp
std::unique_ptr<Selector> make_poll_selector();                 // selector_poll.cpp
std::unique_ptr<Selector> make_select_selector();               // selector_select.cpp

std::unique_ptr<Selector> make_selector(std::string_view backend, Trigger trigger) {
    if (backend == "epoll") return make_epoll_selector(trigger);
    if (trigger == Trigger::edge)
        throw std::invalid_argument("only epoll can be edge-triggered, not '" +
                                    std::string(backend) + "'");
    if (backend == "poll") return make_poll_selector();
    if (backend == "select") return make_select_selector();
    throw std::invalid_argument("unknown selector '" + std::string(backend) +
                                "' (choose epoll, poll or select)");
}

int timeout_to_ms(Timeout timeout) {
    if (!timeout) return -1;
    if (timeout->count() <= 0) return 0;
    // Round up: waking a little late is harmless, waking early makes the
    // caller loop around for nothing (and spin at 0 ms near a deadline).
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(*timeout).count();
    return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

static void check_events(int fd, unsigned events) {
    if (events == 0 || (events & ~(EVENT_READ | EVENT_WRITE)) != 0)
        throw std::invalid_argument("fd " + std::to_string(fd) + ": invalid event bits " +
                                    std::to_string(events));
}

bool Selector::contains(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < keys_.size() && keys_[fd].events != 0;
}

const SelectorKey& Selector::key(int fd) const {
    if (!contains(fd))
        throw std::invalid_argument("fd " + std::to_string(fd) + " is not registered");
    return keys_[fd];
}

void Selector::add(int fd, unsigned events, void* data) {
    if (fd < 0) throw std::invalid_argument("cannot watch a negative fd");
    check_events(fd, events);
    if (contains(fd))
        throw std::invalid_argument("fd " + std::to_string(fd) + " is already registered");
    backend_add(fd, events); // first: if the kernel refuses, the table stays as it was
    if (static_cast<std::size_t>(fd) >= keys_.size()) keys_.resize(fd + 1);
    keys_[fd] = SelectorKey{fd, events, data};
    ++count_;
}

void Selector::modify(int fd, unsigned events, void* data) {
    check_events(fd, events);
    SelectorKey& k = const_cast<SelectorKey&>(key(fd));
    if (k.events != events) backend_modify(fd, events); // data-only changes cost no syscall
    k.events = events;
    k.data = data;
}

void Selector::remove(int fd) {
    key(fd); // throws for an unknown fd
    backend_remove(fd);
    keys_[fd] = SelectorKey{};
    --count_;
}

const std::vector<Ready>& Selector::select(Timeout timeout) {
    ready_.clear();
    backend_wait(timeout_to_ms(timeout));
    // Fill in each key and keep only the events its owner asked for.
    std::size_t kept = 0;
    for (const Ready& r : ready_) {
        int fd = r.key.fd;
        if (!contains(fd)) continue;
        unsigned events = r.events & keys_[fd].events;
        if (events != 0) ready_[kept++] = Ready{keys_[fd], events};
    }
    ready_.resize(kept);
    return ready_;
}

} // namespace ladder
