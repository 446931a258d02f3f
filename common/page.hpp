// The crawl's pages: which path page i is, and what counts as a good page.
#pragma once

#include "cli.hpp"
#include "http.hpp"
#include "net.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ladder {

// What the report counts of a fetched page.
struct Page {
    int status = 0;
    std::size_t bytes = 0; // the whole response, headers included
};

// Page 0 is "/", page i is "/i".
std::string page_path(int page);

// A good page: a complete HTTP response, status 200, and a JSON body whose
// "path" is the path we asked for. Throws HttpError saying what was wrong.
void check_page(const ResponseParser& response, std::string_view path);

// Parse a whole response at once (for stages that read until EOF first) and
// check it is the page for `path`; with `body`, keep the JSON page there.
// Throws HttpError.
Page parse_page(std::string_view response, std::string_view path, std::string* body = nullptr);

// Resolve --host/--port, then make sure a server answers there. If nobody
// listens, print one line saying how to start the server and exit 1 — better
// than a screen of identical connection errors.
Endpoint require_server(const std::string& stage, const ClientOptions& options);

} // namespace ladder
