#include "io.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace ladder::coro {

bool Socket::Connect::try_now(Socket& s) {
    Fd old(std::exchange(s.waiter_.fd, open_stream_socket(server).release()));
    // Usually the handshake goes on in the kernel; the socket turns writable
    // when it is done, either way.
    return start_connect(s.fd(), server);
}

void Socket::Connect::finish(Socket& s) const {
    if (int err = socket_error(s.fd())) throw SysError("connect", server.text, err);
}

Task<void> async_send_all(Socket& sock, std::string data) {
    std::string_view left = data;
    while (!left.empty()) {
        ssize_t n = ::send(sock.fd(), left.data(), left.size(), MSG_NOSIGNAL);
        if (n >= 0)
            left.remove_prefix(static_cast<std::size_t>(n));
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            co_await sock.sendable(); // the socket's send buffer is full
        else if (errno != EINTR)
            throw_errno("send");
    }
}

// One buffer per thread serves every socket: the loop runs one coroutine at a
// time, so no two reads overlap (and 10,000 parked readers cost no buffer).
bool read_available(int fd, std::string& out) {
    thread_local char buffer[64 * 1024];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0)
            out.append(buffer, static_cast<std::size_t>(n));
        else if (n == 0)
            return false;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        else if (errno != EINTR)
            throw_errno("recv");
    }
}

} // namespace ladder::coro
