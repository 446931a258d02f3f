#include "busy_fetch.hpp"
#include "error.hpp"
#include "http.hpp"
#include "page.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <string_view>

namespace ladder {

namespace {

// "Not yet": nothing to read, no room to write, or the handshake still going on.
bool not_yet(int err) {
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

// Every turn of a spin loop looks at the clock: a server that never answers
// must not keep us spinning forever.
void check_deadline(Clock::time_point deadline, const char* what) {
    if (Clock::now() >= deadline) throw TimeoutError(std::string(what) + " timed out");
}

} // namespace

Page busy_fetch(const Endpoint& server, const std::string& path, std::chrono::milliseconds timeout,
                long& spins, PageTimes* times) {
    auto deadline = Clock::now() + timeout;
    Fd sock = open_stream_socket(server); // O_NONBLOCK: no call on it will wait
    start_connect(sock.get(), server);    // returns at once, the handshake goes on without us

    // The seed: `while True: try: sock.send(data); break; except OSError: pass`.
    // Before the handshake is done, send() fails with EAGAIN: try again. But a
    // refused connection makes it fail with ECONNREFUSED, and swallowing that
    // error too (as the seed does) would spin forever on a dead server.
    std::string request = build_request(server.text, path);
    std::string_view unsent = request;
    while (!unsent.empty()) {
        check_deadline(deadline, "connect and send");
        ssize_t n = ::send(sock.get(), unsent.data(), unsent.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            // The first send that works shows the handshake is done.
            if (times && unsent.size() == request.size()) times->mark(Mark::connected);
            unsent.remove_prefix(static_cast<std::size_t>(n));
        } else if (not_yet(errno)) {
            ++spins;
        } else {
            throw_errno("send", server.text); // e.g. Connection refused
        }
    }
    if (times) times->mark(Mark::sent);

    // The seed's recv loop: the answer comes only after the server's delay,
    // and until then every recv() says EAGAIN — at full speed, on one CPU.
    ResponseParser response;
    char chunk[4096];
    for (;;) {
        check_deadline(deadline, "recv");
        ssize_t n = ::recv(sock.get(), chunk, sizeof chunk, 0);
        if (n > 0) {
            if (times && response.bytes_seen() == 0) times->mark(Mark::first_byte);
            response.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
        } else if (n == 0) {
            break; // the server closed: the response is complete
        } else if (not_yet(errno)) {
            ++spins;
        } else {
            throw_errno("recv", server.text);
        }
    }
    response.finish();
    check_page(response, path);
    return Page{response.status(), response.bytes_seen()};
}

} // namespace ladder
