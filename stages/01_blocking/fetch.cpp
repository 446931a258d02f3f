#include "fetch.hpp"
#include "http.hpp"
#include "page.hpp"

namespace ladder {

// The seed's blocking_way(), line for line.
static std::string blocking_get(const Endpoint& server, const std::string& path,
                                Clock::time_point deadline) {
    Fd sock = connect_blocking(server, deadline); // waits for the TCP handshake
    send_all_blocking(sock.get(), build_request(server.text, path), deadline);
    std::string response;
    char chunk[4096];
    // Waits here for the server's whole delay: the process can do nothing else.
    while (std::size_t n = recv_blocking(sock.get(), chunk, deadline)) response.append(chunk, n);
    return response; // 0 bytes from recv = the server closed: the page is complete
}

Page fetch_page(const Endpoint& server, const std::string& path,
                std::chrono::milliseconds timeout) {
    std::string response = blocking_get(server, path, Clock::now() + timeout);
    ResponseParser parsed = parse_page(response, path);
    return Page{parsed.status(), response.size()};
}

} // namespace ladder
