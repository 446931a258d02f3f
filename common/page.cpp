#include "page.hpp"
#include "error.hpp"

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

namespace ladder {

std::string page_path(int page) {
    return page == 0 ? "/" : "/" + std::to_string(page);
}

namespace {

// The deepest nesting a page may have. A real page is one flat object.
constexpr int max_json_depth = 32;

// Reads a page's JSON without building it: checks the syntax, bounds the
// nesting, and keeps only the top-level "path". A parsed DOM would cost about
// 40 bytes for each '[' of a hostile body (a 16 MiB body used 667 MB); this
// costs one bit per level of nesting, and at most max_json_depth levels.
class PageScanner : public nlohmann::json_sax<nlohmann::json> {
  public:
    bool is_object = false;
    bool too_deep = false;
    std::optional<std::string> path; // the last top-level "path" wins, as in a parsed object

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool string(string_t& text) override {
        if (depth_ == 1 && value_is_path_) path = std::move(text);
        return value();
    }
    bool key(string_t& name) override {
        value_is_path_ = depth_ == 1 && name == "path";
        if (value_is_path_) path.reset(); // until its value turns out to be a string
        return true;
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0) is_object = true;
        return enter();
    }
    bool start_array(std::size_t) override { return enter(); }
    bool end_object() override { return leave(); }
    bool end_array() override { return leave(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    bool value() {
        value_is_path_ = false;
        return true;
    }
    bool enter() {
        value();
        too_deep = ++depth_ > max_json_depth;
        return !too_deep; // false stops the parser right here
    }
    bool leave() {
        --depth_;
        return true;
    }

    int depth_ = 0;
    bool value_is_path_ = false;
};

} // namespace

void check_page(const ResponseParser& response, std::string_view path) {
    if (!response.done()) throw HttpError("incomplete response for " + std::string(path));
    if (response.status() != 200)
        throw HttpError("HTTP status " + std::to_string(response.status()) + " for " +
                        std::string(path));
    // A page is small; its size is bounded before a byte of JSON is read.
    if (response.body().size() > HttpLimits{}.max_body)
        throw HttpError("the page for " + std::string(path) + " is over " +
                        std::to_string(HttpLimits{}.max_body) + " bytes");
    PageScanner scanner;
    bool valid = nlohmann::json::sax_parse(response.body(), &scanner);
    if (scanner.too_deep)
        throw HttpError("the body is not the JSON page for " + std::string(path) +
                        ": nested deeper than " + std::to_string(max_json_depth) + " levels");
    // The page names its path without the query ("/3" for "/3?delay_ms=1000").
    std::string_view page = path.substr(0, path.find('?'));
    if (!valid || !scanner.is_object || scanner.path != page)
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
