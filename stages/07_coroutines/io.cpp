#include "io.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace ladder::coro {

void Readiness::await_resume() const {
    if (waiter_.outcome == Waiter::Outcome::cancelled) throw CancelledError{}; // stage 08
    if (waiter_.outcome == Waiter::Outcome::timed_out)
        throw TimeoutError(std::string(what_) + " timed out");
}

Task<Socket> async_connect(const Endpoint& server, Clock::time_point deadline) {
    Socket sock(open_stream_socket(server));
    if (!start_connect(sock.fd(), server)) {
        // The handshake goes on in the kernel; the socket turns writable when
        // it is done, either way. SO_ERROR says which way.
        co_await writable(sock, deadline, "connect");
        if (int err = socket_error(sock.fd())) throw SysError("connect", server.text, err);
    }
    co_return sock;
}

Task<void> async_send_all(const Socket& sock, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        ssize_t n = ::send(sock.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            co_await writable(sock, deadline, "send"); // the socket's send buffer is full
        } else if (errno != EINTR) {
            throw_errno("send");
        }
    }
}

namespace {

// recv() until the socket has nothing more for now. Appends to `out`; returns
// false at the end of the stream. One buffer serves every socket: the loop
// runs one coroutine at a time, so no two reads can overlap (and 10,000
// parked readers cost no buffers at all).
bool read_available(int fd, std::string& out) {
    static char buffer[64 * 1024];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            out.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0) {
            return false;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else if (errno != EINTR) {
            throw_errno("recv");
        }
    }
}

} // namespace

Task<std::string> async_read_all(const Socket& sock, Clock::time_point deadline, PageTimes* times) {
    std::string data;
    for (;;) {
        co_await readable(sock, deadline, "recv");
        // Take all that arrived; the end of the stream often came with it.
        bool open = read_available(sock.fd(), data);
        if (times && !data.empty() &&
            times->at[static_cast<int>(Mark::first_byte)] == Clock::time_point{})
            times->mark(Mark::first_byte);
        if (!open) co_return data;
    }
}

} // namespace ladder::coro
