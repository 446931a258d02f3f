#include "io.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace ladder::gen {
namespace {

// Registers fd with the selector for as long as a generator waits on it. The
// seed unregisters on the line after its yield; here a destructor does it,
// because when an error is thrown in at the co_yield, that line never runs.
class Watch {
  public:
    Watch(Selector& selector, int fd, unsigned events, Waiter& waiter)
        : selector_(selector), fd_(fd) {
        selector_.add(fd, events, &waiter);
    }
    ~Watch() { selector_.remove(fd_); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

  private:
    Selector& selector_;
    int fd_;
};

} // namespace

void on_connected(int fd, Future& future) {
    // WRITE means "the connect has finished", not "it worked": SO_ERROR says which.
    if (int err = socket_error(fd))
        future.set_exception(std::make_exception_ptr(SysError("connect", "", err)));
    else
        future.set_result();
}

void on_readable(int fd, Future& future) {
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n >= 0) return future.set_result(Value(chunk, static_cast<std::size_t>(n)));
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return; // not ready after all: wait on
    future.set_exception(std::make_exception_ptr(SysError("recv", "", err)));
}

Generator connect(Selector& selector, int fd, const Endpoint& server) {
    start_connect(fd, server); // throws at once if the kernel refuses on the spot
    Future f;
    Waiter waiter{&f, on_connected};
    Watch watch(selector, fd, EVENT_WRITE, waiter);
    co_yield f; // a failed connect is thrown here, and travels up to our caller's co_yield
    co_return Value();
}

Generator read(Selector& selector, int fd) {
    Future f;
    Waiter waiter{&f, on_readable};
    Watch watch(selector, fd, EVENT_READ, waiter);
    Value chunk = co_yield f;
    co_return chunk;
}

Generator read_all(Selector& selector, int fd, PageTimes* times) {
    Value response;
    Value chunk = co_yield read(selector, fd);
    if (times && !chunk.empty()) times->mark(Mark::first_byte);
    while (!chunk.empty()) {
        response += chunk;
        chunk = co_yield read(selector, fd);
    }
    co_return response;
}

void send_request(int fd, std::string_view request) {
    ssize_t sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent < 0) throw_errno("send");
    if (static_cast<std::size_t>(sent) != request.size())
        throw std::runtime_error("send: the request did not fit the socket buffer");
}

} // namespace ladder::gen
