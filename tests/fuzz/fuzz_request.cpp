// libFuzzer target: 00_server's request parser. However the bytes are split
// the outcome must be the same (the answer's status too: 400, 414 or 431), a
// parser that threw must never look done, and an accepted request must be one
// the server can put into a JSON page. Input: see split_input() in fuzz_input.hpp.
#include "fuzz_input.hpp"

#include "http.hpp"

#include <algorithm>
#include <string>

namespace {

struct Outcome {
    int status = 0; // 0: incomplete, 200: a whole request, else the error's status
    std::string error;
    ladder::Request request;
    bool operator==(const Outcome& o) const {
        return status == o.status && error == o.error && request.method == o.request.method &&
               request.target == o.request.target && request.version == o.request.version &&
               request.headers == o.request.headers;
    }
};

template <typename FeedAll>
Outcome outcome_of(FeedAll feed_all) {
    ladder::RequestParser parser;
    Outcome out;
    try {
        feed_all(parser);
    } catch (const ladder::HttpError& e) {
        if (parser.done()) fuzz::finding("done() after an HttpError");
        out.error = e.what();
        out.status = dynamic_cast<const ladder::RequestParser::RequestLineTooLong*>(&e) ? 414
                     : dynamic_cast<const ladder::RequestParser::HeadersTooLarge*>(&e)  ? 431
                                                                                        : 400;
        return out;
    }
    out.status = parser.done() ? 200 : 0;
    if (parser.done()) out.request = parser.request();
    return out;
}

bool is_visible_ascii(char c) {
    return c > 0x20 && c < 0x7f;
}

void check_accepted(const ladder::Request& r) {
    if (r.target.empty() || r.target.front() != '/') fuzz::finding("a target without its '/'");
    if (!std::all_of(r.target.begin(), r.target.end(), is_visible_ascii))
        fuzz::finding("a target that is not visible ASCII");
    if (r.method.empty() || !std::all_of(r.method.begin(), r.method.end(), is_visible_ascii))
        fuzz::finding("a method that is not visible ASCII");
    if (r.version != "HTTP/1.0" && r.version != "HTTP/1.1") fuzz::finding("an unknown version");
    for (const auto& [name, value] : r.headers)
        for (char c : name + value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                fuzz::finding("a header with a control character");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::SplitInput in = fuzz::split_input(data, size);
    auto whole = outcome_of([&](ladder::RequestParser& p) { p.feed(in.message); });
    auto pieces = outcome_of([&](ladder::RequestParser& p) {
        fuzz::feed_in_pieces(in.message, in.pieces, [&](std::string_view s) { p.feed(s); });
    });
    auto bytewise = outcome_of([&](ladder::RequestParser& p) {
        fuzz::feed_bytewise(in.message, [&](std::string_view s) { p.feed(s); });
    });
    if (!(pieces == whole)) fuzz::finding("fed in pieces, the request parsed differently");
    if (!(bytewise == whole)) fuzz::finding("fed byte by byte, the request parsed differently");
    if (whole.status == 200) check_accepted(whole.request);
    return 0;
}
