#include "fetch.hpp"
#include "http.hpp"
#include "page.hpp"

namespace ladder {

// The seed's blocking_way(), line for line (the `times` lines are for --trace).
static std::string blocking_get(const Endpoint& server, const std::string& path,
                                Clock::time_point deadline, PageTimes* times) {
    Fd sock = connect_blocking(server, deadline); // waits for the TCP handshake
    if (times) times->mark(Mark::connected);
    send_all_blocking(sock.get(), build_request(server.text, path), deadline);
    if (times) times->mark(Mark::sent);
    std::string response;
    char chunk[4096];
    // Waits here for the server's whole delay: the process can do nothing else.
    while (std::size_t n = recv_blocking(sock.get(), chunk, deadline)) {
        if (times && response.empty()) times->mark(Mark::first_byte);
        response.append(chunk, n);
    }
    return response; // 0 bytes from recv = the server closed: the page is complete
}

Page fetch_page(const Endpoint& server, const std::string& path, std::chrono::milliseconds timeout,
                PageTimes* times) {
    return parse_page(blocking_get(server, path, Clock::now() + timeout, times), path);
}

} // namespace ladder
