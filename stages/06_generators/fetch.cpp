// One page as a generator, in the seed's two steps: first one generator that
// yields Futures itself (§4.4.2), then the same cut into sub-generators that
// it waits for with yield from (§4.5.2). Both wait through the same two
// selector callbacks, which only complete a future.
#include "fetch.hpp"
#include "bookkeeping.hpp"
#include "error.hpp"
#include "http.hpp"
#include "page.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace ladder::gen {
namespace {

// The seed's on_connected. WRITE means "the connect has finished", not "it
// worked": SO_ERROR says which.
void on_connected(int fd, Future& future) {
    if (int err = socket_error(fd))
        future.set_exception(std::make_exception_ptr(SysError("connect", "", err)));
    else
        future.set_result();
}

// The seed's on_readable: one recv(), whose bytes are the result ("" at end of stream).
void on_readable(int fd, Future& future) {
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n >= 0) return future.set_result(Value(chunk, static_cast<std::size_t>(n)));
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return; // not ready: wait on
    future.set_exception(std::make_exception_ptr(SysError("recv", "", errno)));
}

// Not a wait: a freshly connected socket takes our few dozen bytes in one send().
void send_request(int fd, const Endpoint& server, const std::string& path) {
    std::string request = build_request(server.text, path);
    ssize_t sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent < 0) throw_errno("send");
    if (static_cast<std::size_t>(sent) != request.size())
        throw std::runtime_error("send: the request did not fit the socket buffer");
}

} // namespace

// --- Step 1 (§4.4.2): a generator that yields Futures ------------------------------------
// Wherever 01 blocked, it makes a Future, registers the selector callback
// that will complete it, and yields it. When its Task resumes it, the co_yield
// takes the future's result — or throws its error, right at that line.
Generator fetch_plain_yield(Selector& selector, const Endpoint& server, std::string path,
                            PageTimes& times) {
    Fd sock = open_stream_socket(server);
    start_connect(sock.get(), server); // throws at once if the kernel refuses on the spot
    {
        Future f;
        Registration registration(selector, sock.get(), EVENT_WRITE, f, on_connected);
        co_yield f; // a failed connect is thrown here
    }
    times.mark(Mark::connected);
    send_request(sock.get(), server, path);
    times.mark(Mark::sent);
    Value response;
    for (;;) {
        Future f;
        Registration registration(selector, sock.get(), EVENT_READ, f, on_readable);
        Value chunk = co_yield f;
        if (chunk.empty()) break; // end of stream: HTTP/1.0 closes after the answer
        if (response.empty()) times.mark(Mark::first_byte);
        response += chunk;
    }
    parse_page(response, path); // HttpError if this is not our page
    co_return response;
}

// --- Step 2 (§4.5.2): the waits as sub-generators, joined by yield from ------------------
// Each wait of step 1 becomes a generator of its own (the seed's connect, read,
// read_all); a caller waits for one with `co_yield`, and yield_from() runs it.
namespace {

Generator connect(Selector& selector, int fd, const Endpoint& server) {
    start_connect(fd, server);
    Future f;
    Registration registration(selector, fd, EVENT_WRITE, f, on_connected);
    co_yield f; // the seed's `yield from f`: here one co_yield serves both
    co_return Value();
}

Generator read(Selector& selector, int fd) {
    Future f;
    Registration registration(selector, fd, EVENT_READ, f, on_readable);
    Value chunk = co_yield f;
    co_return chunk;
}

Generator read_all(Selector& selector, int fd, PageTimes& times) {
    Value response;
    Value chunk = co_yield read(selector, fd);
    if (!chunk.empty()) times.mark(Mark::first_byte);
    while (!chunk.empty()) {
        response += chunk;
        chunk = co_yield read(selector, fd);
    }
    co_return response;
}

} // namespace

Generator fetch(Selector& selector, const Endpoint& server, std::string path, PageTimes& times) {
    Fd sock = open_stream_socket(server);
    co_yield connect(selector, sock.get(), server); // a failed connect is thrown here
    times.mark(Mark::connected);
    send_request(sock.get(), server, path);
    times.mark(Mark::sent);
    Value response = co_yield read_all(selector, sock.get(), times);
    parse_page(response, path);
    co_return response;
}

} // namespace ladder::gen
