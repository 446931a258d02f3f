#include "page.hpp"
#include "error.hpp"

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

namespace ladder {

std::string page_path(int page) {
    return page == 0 ? "/" : "/" + std::to_string(page);
}

void check_page(const ResponseParser& response, std::string_view path) {
    if (!response.done()) throw HttpError("incomplete response for " + std::string(path));
    if (response.status() != 200)
        throw HttpError("HTTP status " + std::to_string(response.status()) + " for " +
                        std::string(path));
    auto body = nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
    // The page names its path without the query ("/3" for "/3?delay_ms=1000").
    std::string_view page = path.substr(0, path.find('?'));
    if (!body.is_object() || !body.contains("path") || body["path"] != page)
        throw HttpError("the body is not the JSON page for " + std::string(path));
}

Page parse_page(std::string_view response, std::string_view path, std::string* body) {
    ResponseParser parser;
    parser.feed(response);
    parser.finish();
    check_page(parser, path);
    if (body) *body = parser.body();
    return Page{parser.status(), response.size()};
}

Endpoint require_server(const std::string& stage, const ClientOptions& options) {
    Endpoint server;
    try {
        server = resolve(options.host, options.port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", stage.c_str(), e.what());
        std::exit(2);
    }
    try {
        // One throw-away connection. We send nothing and wait until the server
        // has closed its side too, so this probe is gone from the server's
        // count of open connections before the stage's first page starts.
        auto deadline =
            Clock::now() + std::chrono::milliseconds(std::min(options.timeout_ms, 3000));
        Fd probe = connect_blocking(server, deadline);
        ::shutdown(probe.get(), SHUT_WR);
        try {
            char byte;
            while (recv_blocking(probe.get(), {&byte, 1}, deadline) != 0) {
            }
        } catch (const std::exception&) {
            // The server is there; it just did not close. Nothing to report.
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "%s: no server at %s (%s). Start one first: "
                     "build/stages/00_server/00_server --port %d  (or use ./ladder run %.2s)\n",
                     stage.c_str(), server.text.c_str(), e.what(), options.port, stage.c_str());
        std::exit(1);
    }
    return server;
}

} // namespace ladder
