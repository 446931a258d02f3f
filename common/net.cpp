#include "net.hpp"
#include "error.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ladder {

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_); // close() is never retried on Linux, even after EINTR
    fd_ = fd;
}

Endpoint resolve(std::string_view host, int port) {
    if (port < 0 || port > 65535)
        throw std::invalid_argument("port " + std::to_string(port) + " is out of range");
    Endpoint ep;
    std::string h(host == "localhost" ? "127.0.0.1" : host);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        ep.len = sizeof(sockaddr_in);
        ep.text = h + ":" + std::to_string(port);
    } else if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        ep.len = sizeof(sockaddr_in6);
        ep.text = "[" + h + "]:" + std::to_string(port);
    } else {
        throw std::invalid_argument("host '" + std::string(host) +
                                    "' is not an IP address (use 127.0.0.1, ::1 or localhost)");
    }
    return ep;
}

static int socket_for(const Endpoint& ep, int flags) {
    int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0) throw_errno("socket", ep.text);
    return fd;
}

// Blocking sockets wait inside the kernel; SO_RCVTIMEO/SO_SNDTIMEO bound that
// wait (Linux applies SO_SNDTIMEO to connect too). We set the time that is left
// before each call, so the whole request — not each call — meets the deadline.
static void limit_wait(int fd, Clock::time_point deadline, const char* what) {
    auto left = std::chrono::ceil<std::chrono::microseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw TimeoutError(std::string(what) + " timed out");
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(left.count() / 1'000'000);
    tv.tv_usec = static_cast<suseconds_t>(left.count() % 1'000'000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static bool timed_out(int err) {
    return err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS;
}

Fd connect_blocking(const Endpoint& server, Clock::time_point deadline) {
    Fd sock(socket_for(server, 0));
    limit_wait(sock.get(), deadline, ("connect " + server.text).c_str());
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&server.addr), server.len) == 0)
        return sock;
    if (errno != EINTR) {
        if (timed_out(errno)) throw TimeoutError("connect " + server.text + " timed out");
        throw_errno("connect", server.text);
    }
    // A signal cut the wait short, but the connect goes on in the kernel. Calling
    // connect() again would wait a whole SO_SNDTIMEO more and then fail with
    // EALREADY, so wait for the outcome instead, within what is left of the deadline.
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) throw TimeoutError("connect " + server.text + " timed out");
        pollfd p{sock.get(), POLLOUT, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1'000'000'000)));
        if (n < 0 && errno != EINTR) throw_errno("poll", server.text);
        if (n <= 0) continue; // interrupted again, or out of time: the check above decides
        if (int err = socket_error(sock.get())) throw SysError("connect", server.text, err);
        return sock;
    }
}

void send_all_blocking(int fd, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        limit_wait(fd, deadline, "send");
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (timed_out(errno)) throw TimeoutError("send timed out");
            throw_errno("send");
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::size_t recv_blocking(int fd, std::span<char> buf, Clock::time_point deadline) {
    for (;;) {
        limit_wait(fd, deadline, "recv");
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (timed_out(errno)) throw TimeoutError("recv timed out");
        throw_errno("recv");
    }
}

Fd open_stream_socket(const Endpoint& server) {
    return Fd(socket_for(server, SOCK_NONBLOCK));
}

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_errno("fcntl O_NONBLOCK");
}

bool start_connect(int fd, const Endpoint& server) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server.addr), server.len) == 0)
        return true;
    if (errno == EINPROGRESS || errno == EINTR) return false; // EINTR: it goes on in the background
    throw_errno("connect", server.text);
}

int socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

Fd listen_tcp(const Endpoint& where, int backlog) {
    Fd sock(socket_for(where, SOCK_NONBLOCK));
    int one = 1;
    ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&where.addr), where.len) < 0)
        throw_errno("bind", where.text);
    if (::listen(sock.get(), backlog) < 0) throw_errno("listen", where.text);
    return sock;
}

int local_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) throw_errno("getsockname");
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

long raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) throw_errno("getrlimit RLIMIT_NOFILE");
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &lim) < 0) throw_errno("setrlimit RLIMIT_NOFILE");
    }
    return static_cast<long>(lim.rlim_cur);
}

} // namespace ladder
