// libFuzzer target: 00_server's request-to-answer step (answer.hpp), where one
// request once stopped the whole server. For any bytes a client sends, the
// step must throw nothing, and what the server then sends must be a response
// a client can read: complete, with a JSON body, and for a page, the page
// check_page() accepts for its path. The byte-level faults must not throw either.
#include "fuzz_input.hpp"

#include "answer.hpp"
#include "http.hpp"
#include "page.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace {

// The client's side of `response`: complete, and a JSON body.
ladder::ResponseParser read_as_client(const std::string& response) {
    ladder::ResponseParser client;
    try {
        client.feed(response);
        client.finish();
    } catch (const ladder::HttpError& e) {
        fuzz::finding(std::string("the server's answer does not parse: ") + e.what());
    }
    if (!nlohmann::json::accept(client.body())) fuzz::finding("the answer's body is not JSON");
    return client;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    ladder::RequestParser parser;
    // No try: an exception out of this step is the finding (libFuzzer reports it).
    auto answer = ladder::answer_bytes(parser, bytes, ladder::Fault::none);
    if (!answer) return 0; // the head is not complete yet
    using Kind = ladder::Answer::Kind;
    if (answer->kind == Kind::stats) return 0; // the server's counters, not this step's
    if (answer->kind == Kind::now) {
        if (answer->status < 400) fuzz::finding("an answer at once that is no error");
        read_as_client(ladder::http_response(answer->status, answer->reason, answer->body));
        return 0;
    }
    std::string body = ladder::page_body(answer->path, answer->delay_ms.value_or(0), 0);
    auto client = read_as_client(ladder::http_response(200, "OK", body));
    try {
        ladder::check_page(client, answer->path);
    } catch (const ladder::HttpError& e) {
        fuzz::finding(std::string("the page is not the page for its path: ") + e.what());
    }
    for (const auto& name : ladder::fault_names())
        ladder::faulty_response(*ladder::fault_named(name), 200, "OK", body);
    return 0;
}
