// The selector every event-driven stage shares, shaped like Python's `selectors`:
// add(fd, events, data) / modify / remove, and select(timeout) returning the
// (key, ready events) pairs for the fds that are ready.
//
// Three backends sit behind one small interface, in the order history made
// them: select (a bitmap per direction, fds below FD_SETSIZE only), poll (a
// list with no such limit) — both hand the kernel everything they watch on
// every call — and epoll (Linux, the default: the kernel keeps the list).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace ladder {

// Event bits, as in Python: EVENT_READ = 1 << 0, EVENT_WRITE = 1 << 1.
inline constexpr unsigned EVENT_READ = 1u << 0;
inline constexpr unsigned EVENT_WRITE = 1u << 1;

// What the selector remembers about one fd. `data` is the caller's, untouched:
// a stage stores whatever it needs to find its callback or coroutine again.
struct SelectorKey {
    int fd = -1;
    unsigned events = 0;
    void* data = nullptr;
};

// One ready fd: its key (a copy) and the events that are ready, masked by key.events.
// An error or hang-up on the fd is reported as both readable and writable, so
// whoever waits on it finds out at the next read or write. (select is the
// exception for a hang-up: the kernel puts it in the read set only.)
struct Ready {
    SelectorKey key;
    unsigned events;
};

using Timeout = std::optional<std::chrono::nanoseconds>; // nullopt: wait forever

// A limit of the backend rather than a fault of one fd: select() has no bit
// for an fd at or above FD_SETSIZE, and while every fd below it is open, each
// new one lands above it. So a stage ends the run with this one line instead
// of failing page after page with it.
class SelectorLimitError : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

class Selector {
  public:
    virtual ~Selector() = default;

    // Start watching fd. Adding an fd twice, a negative fd or empty/unknown
    // event bits is a std::invalid_argument; an fd the backend has no room
    // for, a SelectorLimitError.
    void add(int fd, unsigned events, void* data = nullptr);
    // Change what fd is watched for (and its data). Unknown fd: std::invalid_argument.
    void modify(int fd, unsigned events, void* data);
    void modify(int fd, unsigned events) { modify(fd, events, key(fd).data); }
    // Stop watching fd. Call it before closing fd. Unknown fd: std::invalid_argument.
    void remove(int fd);

    bool contains(int fd) const noexcept;
    const SelectorKey& key(int fd) const; // unknown fd: std::invalid_argument
    std::size_t size() const noexcept { return count_; }

    // Wait until at least one fd is ready or the timeout passes (rounded up to
    // whole milliseconds; zero or negative means "just look"). A signal that
    // interrupts the wait returns an empty list. The returned list is valid
    // until the next select().
    const std::vector<Ready>& select(Timeout timeout);

    virtual std::string_view name() const noexcept = 0;

  protected:
    // What a backend implements: the kernel side of add/modify/remove, and one
    // wait that appends (fd, ready events) to ready_ — unmasked; select() masks.
    virtual void backend_add(int fd, unsigned events) = 0;
    virtual void backend_modify(int fd, unsigned events) = 0;
    virtual void backend_remove(int fd) = 0;
    virtual void backend_wait(int timeout_ms) = 0;

    std::vector<Ready> ready_;

  private:
    std::vector<SelectorKey> keys_; // indexed by fd; events == 0 means "not registered"
    std::size_t count_ = 0;
};

// "epoll", "poll" or "select"; anything else is std::invalid_argument.
// Trigger::edge (epoll only) reports an fd once each time new data or a state
// change arrives, instead of on every select() for as long as it is ready:
// whoever is woken must then read until EAGAIN (notes/05, exercise 4).
enum class Trigger { level, edge };
std::unique_ptr<Selector> make_selector(std::string_view backend = "epoll",
                                        Trigger trigger = Trigger::level);

// Round a timeout up to whole milliseconds for the backends (-1 = forever).
int timeout_to_ms(Timeout timeout);

} // namespace ladder
