// select backend, the oldest (4.2BSD, 1983): like poll we keep the watch list
// and hand all of it to the kernel on every wait, here as two bitmaps (fd_set)
// indexed by fd number. A wait costs O(highest fd watched), and the bitmaps
// have a fixed size: FD_SETSIZE bits, 1024 on Linux.
#include "error.hpp"
#include "selector.hpp"

#include <sys/select.h>

#include <cerrno>
#include <string>

namespace ladder {
namespace {

class SelectSelector final : public Selector {
  public:
    SelectSelector() {
        FD_ZERO(&read_set_);
        FD_ZERO(&write_set_);
    }

    std::string_view name() const noexcept override { return "select"; }

  protected:
    void backend_add(int fd, unsigned events) override {
        // Check before FD_SET: an fd past the bitmap has no bit, and FD_SET
        // would write beyond the end of the fd_set.
        if (fd >= FD_SETSIZE)
            throw SelectorLimitError("select() cannot watch fd " + std::to_string(fd) +
                                     ": FD_SETSIZE is " + std::to_string(FD_SETSIZE) +
                                     "; use --selector poll or epoll");
        set_bits(fd, events);
        if (fd > highest_fd_) highest_fd_ = fd;
    }
    void backend_modify(int fd, unsigned events) override { set_bits(fd, events); }
    void backend_remove(int fd) override {
        set_bits(fd, 0);
        // Every select() looks at fds 0..highest_fd_: keep that as short as it can be.
        while (highest_fd_ >= 0 && !FD_ISSET(highest_fd_, &read_set_) &&
               !FD_ISSET(highest_fd_, &write_set_))
            --highest_fd_;
    }

    void backend_wait(int timeout_ms) override {
        // select() overwrites the sets it is given with its answer: hand it copies.
        fd_set readable = read_set_, writable = write_set_;
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        int n = ::select(highest_fd_ + 1, &readable, &writable, nullptr,
                         timeout_ms < 0 ? nullptr : &tv);
        if (n < 0) {
            if (errno == EINTR) return;
            throw_errno("select");
        }
        // The answer is the bitmaps themselves: walk them from fd 0 until all n
        // set bits are found (n counts bits: an fd ready both ways is two).
        for (int fd = 0; n > 0 && fd <= highest_fd_; ++fd) {
            bool r = FD_ISSET(fd, &readable), w = FD_ISSET(fd, &writable);
            if (!r && !w) continue;
            n -= r + w;
            ready_.push_back(
                Ready{SelectorKey{fd}, (r ? EVENT_READ : 0u) | (w ? EVENT_WRITE : 0u)});
        }
    }

  private:
    void set_bits(int fd, unsigned events) {
        FD_CLR(fd, &read_set_);
        FD_CLR(fd, &write_set_);
        if (events & EVENT_READ) FD_SET(fd, &read_set_);
        if (events & EVENT_WRITE) FD_SET(fd, &write_set_);
    }

    fd_set read_set_, write_set_; // what we watch, one bit per fd
    int highest_fd_ = -1;         // select() looks at fds 0..highest_fd_
};

} // namespace

std::unique_ptr<Selector> make_select_selector() {
    return std::make_unique<SelectSelector>();
}

} // namespace ladder
