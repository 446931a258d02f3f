#include "http.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>

namespace ladder {
namespace {

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

bool is_visible_ascii(char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// A "token" (RFC 9110, 5.6.2): what a method or a header name is made of.
bool is_token_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Garbage is quoted in error messages, so keep it short and printable ASCII:
// the message may end up in a terminal or (00_server's 400) in a JSON string.
std::string quote(std::string_view s) {
    std::string out = "'";
    for (char c : s.substr(0, 40)) out += c == ' ' || is_visible_ascii(c) ? c : '?';
    return out + (s.size() > 40 ? "...'" : "'");
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A line of the head may hold a tab, but no other control character: a bare
// CR in "HTTP/1.0 200 OK\rContent-Length: 99" would show one program a status
// line and another a hidden header.
void reject_controls(std::string_view line, const char* where) {
    auto bad =
        std::find_if(line.begin(), line.end(), [](char c) { return is_control(c) && c != '\t'; });
    if (bad == line.end()) return;
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned char>(*bad));
    std::string what = *bad == '\r' ? "a bare CR" : std::string("control character ") + code;
    throw HttpError(what + " in " + where + " " + quote(line));
}

// "Name: value" -> (lower-cased name, value); a name that is not a token is garbage
// (that includes a line folded onto the previous one, which starts with a space).
std::pair<std::string, std::string> split_header(std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
        throw HttpError("malformed header line " + quote(line));
    return {lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))};
}

// Content-Length is digits and nothing else: no sign ("-0"), no space, no list.
// Sent twice, it must say the same both times (RFC 9112, 6.3).
long long content_length(std::string_view value, long long earlier) {
    long long n = -1;
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(), is_digit);
    if (!digits || std::from_chars(value.data(), value.data() + value.size(), n).ec != std::errc{})
        throw HttpError("bad Content-Length " + quote(value));
    if (earlier >= 0 && earlier != n)
        throw HttpError("two different Content-Length values: " + std::to_string(earlier) +
                        " and " + std::to_string(n));
    return n;
}

// HTTP/1.0 has no transfer codings, and the ladder speaks HTTP/1.0: a server must
// not send one to it (RFC 9112, 6.1). Ignoring the header would leave the chunk
// sizes in the body.
[[noreturn]] void reject_transfer_coding(std::string_view value) {
    if (lower(value).find("chunked") != std::string::npos)
        throw HttpError(
            "chunked transfer coding is not supported (Transfer-Encoding: " + quote(value) + ")");
    throw HttpError("transfer coding " + quote(value) + " is not supported");
}

// Moves the next line of `chunk` into `pending` and counts what it took in
// `head_bytes`. Returns true when a whole line (without its LF or CR LF) is in
// `pending`; false when more bytes are needed.
bool next_line(std::string_view& chunk, std::string& pending, std::size_t& head_bytes) {
    auto nl = chunk.find('\n');
    std::size_t take = nl == std::string_view::npos ? chunk.size() : nl + 1;
    pending.append(chunk.substr(0, nl == std::string_view::npos ? chunk.size() : nl));
    chunk.remove_prefix(take);
    head_bytes += take;
    if (nl == std::string_view::npos) return false;
    if (!pending.empty() && pending.back() == '\r') pending.pop_back();
    return true;
}

// The length `pending` will have once it is a whole line: a '\r' at the end of an
// incomplete line may be the first half of its CR LF, so it does not count (yet).
std::size_t line_length(const std::string& pending, bool whole) {
    bool half_crlf = !whole && !pending.empty() && pending.back() == '\r';
    return pending.size() - (half_crlf ? 1 : 0);
}

std::string take_pending(std::string& pending) {
    std::string line = std::move(pending);
    pending.clear();
    return line;
}

// Runs one step of a parser; if it throws, remembers the error in `failed`
// first, so the parser never looks complete afterwards and repeats the error.
template <typename Step>
void remember_failure(std::exception_ptr& failed, Step step) {
    if (failed) std::rethrow_exception(failed);
    try {
        step();
    } catch (...) {
        failed = std::current_exception();
        throw;
    }
}

} // namespace

std::string build_request(std::string_view host, std::string_view path) {
    std::string req;
    req.reserve(32 + host.size() + path.size());
    req.append("GET ").append(path).append(" HTTP/1.0\r\nHost: ").append(host).append("\r\n\r\n");
    return req;
}

// --- response ----------------------------------------------------------------------

void ResponseParser::feed(std::string_view chunk) {
    bytes_seen_ += chunk.size();
    remember_failure(failure_, [&] { consume(chunk); });
}

void ResponseParser::consume(std::string_view chunk) {
    while (!chunk.empty()) {
        if (state_ == State::done)
            throw HttpError(status_ == 204 || status_ == 304
                                ? "bytes after a " + std::to_string(status_) +
                                      " response, which has no body"
                                : std::string("more bytes than Content-Length announced"));
        if (state_ == State::body) {
            std::size_t take = chunk.size();
            if (content_length_ >= 0)
                take = std::min(take, static_cast<std::size_t>(content_length_) - body_.size());
            if (body_.size() + take > limits_.max_body)
                throw HttpError("response body over " + std::to_string(limits_.max_body) +
                                " bytes");
            body_.append(chunk.substr(0, take));
            chunk.remove_prefix(take);
            if (content_length_ >= 0 && body_.size() == static_cast<std::size_t>(content_length_))
                state_ = State::done;
            continue;
        }
        bool whole = next_line(chunk, pending_, head_bytes_);
        if (state_ == State::status_line && line_length(pending_, whole) > limits_.max_line)
            throw HttpError("status line too long: " + quote(pending_));
        if (head_bytes_ > limits_.max_header_bytes)
            throw HttpError("response head over " + std::to_string(limits_.max_header_bytes) +
                            " bytes");
        if (!whole) return;
        take_line(take_pending(pending_));
    }
}

void ResponseParser::take_line(std::string_view line) {
    if (state_ == State::status_line) {
        // "HTTP/1.1 200 OK": a version, three digits, then a reason or nothing.
        bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." &&
                  (line[7] == '0' || line[7] == '1') && line[8] == ' ' && is_digit(line[9]) &&
                  is_digit(line[10]) && is_digit(line[11]) &&
                  (line.size() == 12 || line[12] == ' ');
        int code = ok ? (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0') : 0;
        if (code < 100 || code > 599) throw HttpError("not an HTTP response: " + quote(line));
        reject_controls(line, "the status line");
        // A 1xx is an interim answer an HTTP/1.0 client never asked for (RFC 9110, 15.2).
        if (code < 200)
            throw HttpError("interim response " + std::to_string(code) +
                            ": a server must not send 1xx to an HTTP/1.0 request");
        status_ = code;
        state_ = State::headers;
        return;
    }
    if (line.empty()) return start_body();
    reject_controls(line, "a header line");
    if (headers_.size() == limits_.max_headers)
        throw HttpError("more than " + std::to_string(limits_.max_headers) + " response headers");
    auto header = split_header(line);
    if (header.first == "content-length") {
        content_length_ = content_length(header.second, content_length_);
        if (static_cast<unsigned long long>(content_length_) > limits_.max_body)
            throw HttpError("response body over " + std::to_string(limits_.max_body) + " bytes");
    } else if (header.first == "transfer-encoding") {
        reject_transfer_coding(header.second);
    }
    headers_.push_back(std::move(header));
}

void ResponseParser::start_body() {
    // A 204 or 304 ends at the blank line, whatever its headers say (RFC 9112, 6.3).
    bool no_body = status_ == 204 || status_ == 304 || content_length_ == 0;
    state_ = no_body ? State::done : State::body;
}

void ResponseParser::finish() {
    remember_failure(failure_, [&] {
        if (state_ == State::done) return;
        if (state_ == State::body && content_length_ < 0) {
            state_ = State::done; // no Content-Length: the body was everything until end of stream
            return;
        }
        if (bytes_seen_ == 0)
            throw HttpError("empty response: the server closed without answering");
        if (state_ == State::body)
            throw HttpError("truncated response: got " + std::to_string(body_.size()) + " of " +
                            std::to_string(content_length_) + " body bytes");
        throw HttpError("truncated response: it ended inside the headers");
    });
}

// --- request (00_server) ---------------------------------------------------------------

std::string_view Request::path() const {
    return std::string_view(target).substr(0, target.find('?'));
}

std::string_view Request::query() const {
    auto q = target.find('?');
    return q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
}

std::string_view query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

bool RequestParser::feed(std::string_view chunk) {
    remember_failure(failure_, [&] { consume(chunk); });
    return done_;
}

void RequestParser::consume(std::string_view chunk) {
    while (!done_ && !chunk.empty()) {
        bool whole = next_line(chunk, pending_, head_bytes_);
        if (!seen_request_line_ && line_length(pending_, whole) > limits_.max_line)
            throw RequestLineTooLong("request line over " + std::to_string(limits_.max_line) +
                                     " bytes");
        if (head_bytes_ > limits_.max_header_bytes)
            throw HeadersTooLarge("request head over " + std::to_string(limits_.max_header_bytes) +
                                  " bytes");
        if (!whole) break;
        std::string line = take_pending(pending_);
        if (seen_request_line_)
            take_header_line(line);
        else if (!line.empty()) // blank lines before the request line are tolerated (RFC 9112)
            take_request_line(line);
    }
}

void RequestParser::take_request_line(std::string_view line) {
    reject_controls(line, "the request line");
    // "GET /path HTTP/1.1": three parts separated by single spaces.
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        throw HttpError("malformed request line " + quote(line));
    request_.method = line.substr(0, sp1);
    request_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    request_.version = line.substr(sp2 + 1);
    if (!is_token(request_.method)) throw HttpError("malformed request line " + quote(line));
    if (request_.version != "HTTP/1.0" && request_.version != "HTTP/1.1")
        throw HttpError("unsupported HTTP version " + quote(request_.version));
    // Visible ASCII only: any other byte must come percent-encoded (RFC 3986).
    bool visible = std::all_of(request_.target.begin(), request_.target.end(), is_visible_ascii);
    if (request_.target.empty() || request_.target.front() != '/' || !visible)
        throw HttpError("bad request target " + quote(request_.target) +
                        ": a path starting with '/', in visible ASCII (percent-encode the rest)");
    seen_request_line_ = true;
}

void RequestParser::take_header_line(std::string_view line) {
    if (line.empty()) {
        done_ = true;
        return;
    }
    reject_controls(line, "a header line");
    if (request_.headers.size() == limits_.max_headers)
        throw HeadersTooLarge("more than " + std::to_string(limits_.max_headers) +
                              " request headers");
    auto header = split_header(line);
    // The server reads no body, but a request that frames one wrongly is still wrong.
    if (header.first == "content-length")
        content_length_ = content_length(header.second, content_length_);
    else if (header.first == "transfer-encoding")
        reject_transfer_coding(header.second);
    request_.headers.push_back(std::move(header));
}

} // namespace ladder
