// libFuzzer target: the response parser. However the bytes are split — whole,
// in fuzzer-chosen pieces, one byte at a time — the outcome must be the same,
// a parser that threw must never look complete, and what it accepts must obey
// the rules it checks. Input: see split_input() in fuzz_input.hpp.
#include "fuzz_input.hpp"

#include "http.hpp"

#include <string>

namespace {

struct Outcome {
    std::string error; // empty when the response was accepted
    int status = 0;
    ladder::Headers headers;
    std::string body;
    bool operator==(const Outcome&) const = default;
};

template <typename FeedAll>
Outcome outcome_of(FeedAll feed_all) {
    ladder::ResponseParser parser;
    Outcome out;
    try {
        feed_all(parser);
        parser.finish();
    } catch (const ladder::HttpError& e) {
        if (parser.done()) fuzz::finding("done() after an HttpError");
        out.error = e.what();
        return out;
    }
    if (!parser.done()) fuzz::finding("finish() returned, but the response is not done");
    out.status = parser.status();
    out.headers = parser.headers();
    out.body = parser.body();
    return out;
}

bool has_control(const std::string& s) {
    for (char c : s)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return true;
    return false;
}

// What an accepted response must be, whatever the bytes were.
void check_accepted(const Outcome& out) {
    if (out.status < 200 || out.status > 599) fuzz::finding("accepted a status outside 200-599");
    for (const auto& [name, value] : out.headers) {
        if (name.empty() || has_control(name) || has_control(value))
            fuzz::finding("accepted a header with a control character");
        if (name == "transfer-encoding") fuzz::finding("accepted a Transfer-Encoding");
        bool no_body = out.status == 204 || out.status == 304;
        if (name == "content-length" && !no_body && std::stoull(value) != out.body.size())
            fuzz::finding("the body is not as long as Content-Length says");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    auto whole = outcome_of([&](ladder::ResponseParser& p) { p.feed(in.message); });
    auto pieces = outcome_of([&](ladder::ResponseParser& p) {
        fuzz::feed_in_pieces(in.message, in.pieces, [&](std::string_view s) { p.feed(s); });
    });
    auto bytewise = outcome_of([&](ladder::ResponseParser& p) {
        fuzz::feed_bytewise(in.message, [&](std::string_view s) { p.feed(s); });
    });
    if (!(pieces == whole)) fuzz::finding("fed in pieces, the response parsed differently");
    if (!(bytewise == whole)) fuzz::finding("fed byte by byte, the response parsed differently");
    if (whole.error.empty()) check_accepted(whole);
    return 0;
}
