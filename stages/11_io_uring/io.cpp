#include "io.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace ladder::uring {

Socket::~Socket() {
    Loop* loop = Loop::current_or_null();
    if (!fd_ || !loop) return; // nothing to close, or no ring to close it with: ~Fd does
    int fd = fd_.release();    // the kernel closes it, at the loop's next enter
    try {
        loop->submit_unwatched([fd](io_uring_sqe& sqe) { io_uring_prep_close(&sqe, fd); });
    } catch (const std::exception&) { // the ring failed: close it ourselves
        ::close(fd);
    }
}

void Socket::Connect::open(Socket& s) const {
    // A plain blocking socket: the ring never lets a request block the
    // thread, it waits for the socket inside the kernel instead.
    s.fd_ = Fd(::socket(server.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.fd_) throw_errno("socket");
}

void Socket::Connect::prep(io_uring_sqe& sqe, Socket& s) const {
    io_uring_prep_connect(&sqe, s.fd(), reinterpret_cast<const sockaddr*>(&server.addr),
                          server.len);
}

void Socket::Send::prep(io_uring_sqe& sqe, Socket& s) const {
    io_uring_prep_send(&sqe, s.fd(), data.data(), data.size(), MSG_NOSIGNAL);
}

void Socket::Recv::prep(io_uring_sqe& sqe, Socket& s) const {
    io_uring_prep_recv(&sqe, s.fd(), buffer.data(), buffer.size(), 0);
}

Task<void> async_send_all(Socket& sock, std::string data) {
    std::string_view left = data; // `data` lives in this frame until every send completed
    while (!left.empty()) left.remove_prefix(co_await sock.send(left));
}

} // namespace ladder::uring
