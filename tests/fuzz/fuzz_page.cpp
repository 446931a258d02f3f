// libFuzzer target: check_page's JSON, read without building it. The input is
// a page's body (the target wraps it in a 200 response). check_page must throw
// nothing but HttpError, and must agree with nlohmann's own parsed tree: the
// body is the page for "/3" exactly when the tree is an object whose "path" is
// "/3" (unless it nests deeper than check_page allows).
#include "fuzz_input.hpp"

#include "http.hpp"
#include "page.hpp"

#include <nlohmann/json.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string body(reinterpret_cast<const char*>(data), size);
    std::string response =
        "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string error;
    try {
        ladder::parse_page(response, "/3");
    } catch (const ladder::HttpError& e) {
        error = e.what();
    }
    auto tree = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    bool is_page = tree.is_object() && tree.contains("path") && tree["path"] == "/3";
    if (error.empty() && !is_page) fuzz::finding("check_page accepted a body that is not the page");
    if (!error.empty() && is_page && error.find("nested deeper than") == std::string::npos)
        fuzz::finding("check_page refused the page: " + error);
    return 0;
}
