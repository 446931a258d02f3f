#include "http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ladder {
namespace {

// Garbage is quoted in error messages, so keep it short and printable.
std::string quote(std::string_view s) {
    std::string out = "'";
    for (char c : s.substr(0, 40)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return out + (s.size() > 40 ? "...'" : "'");
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "Name: value" -> (lower-cased name, value); a line without a proper name is garbage.
std::pair<std::string, std::string> split_header(std::string_view line) {
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos ||
        line.substr(0, colon).find_first_of(" \t") != std::string_view::npos)
        throw HttpError("malformed header line " + quote(line));
    return {lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))};
}

// Splits the next line off `chunk` into `pending`. Returns true when a whole
// line (without its CR LF) is in `pending`; false when more bytes are needed.
bool next_line(std::string_view& chunk, std::string& pending) {
    auto nl = chunk.find('\n');
    pending.append(chunk.substr(0, nl == std::string_view::npos ? chunk.size() : nl));
    chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
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
    while (!chunk.empty()) {
        if (state_ == State::done) throw HttpError("more bytes than Content-Length announced");
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
        bool whole = next_line(chunk, pending_);
        std::size_t length = line_length(pending_, whole);
        bool too_long = state_ == State::status_line
                            ? length > limits_.max_line
                            : header_bytes_ + length > limits_.max_header_bytes;
        if (too_long)
            throw HttpError(state_ == State::status_line
                                ? "status line too long: " + quote(pending_)
                                : std::string("response headers too large"));
        if (!whole) return;
        std::string line = std::move(pending_);
        pending_.clear();
        take_line(line);
    }
}

void ResponseParser::take_line(std::string_view line) {
    if (state_ == State::status_line) {
        // "HTTP/1.1 200 OK": a version, three digits, then a reason or nothing.
        int code = 0;
        bool ok =
            line.size() >= 12 && line.substr(0, 7) == "HTTP/1." &&
            (line[7] == '0' || line[7] == '1') && line[8] == ' ' &&
            std::from_chars(line.data() + 9, line.data() + 12, code).ptr == line.data() + 12 &&
            (line.size() == 12 || line[12] == ' ');
        if (!ok || code < 100) throw HttpError("not an HTTP response: " + quote(line));
        status_ = code;
        state_ = State::headers;
        return;
    }
    header_bytes_ += line.size() + 2;
    if (line.empty()) return start_body();
    if (headers_.size() == limits_.max_headers)
        throw HttpError("more than " + std::to_string(limits_.max_headers) + " response headers");
    auto header = split_header(line);
    if (header.first == "content-length") {
        long long n = -1;
        auto [end, ec] =
            std::from_chars(header.second.data(), header.second.data() + header.second.size(), n);
        if (ec != std::errc{} || end != header.second.data() + header.second.size() || n < 0)
            throw HttpError("bad Content-Length " + quote(header.second));
        if (static_cast<unsigned long long>(n) > limits_.max_body)
            throw HttpError("response body over " + std::to_string(limits_.max_body) + " bytes");
        content_length_ = n;
    }
    headers_.push_back(std::move(header));
}

void ResponseParser::start_body() {
    state_ = content_length_ == 0 ? State::done : State::body;
}

void ResponseParser::finish() {
    if (state_ == State::done) return;
    if (state_ == State::body && content_length_ < 0) {
        state_ = State::done; // no Content-Length: the body was everything until end of stream
        return;
    }
    if (bytes_seen_ == 0) throw HttpError("empty response: the server closed without answering");
    if (state_ == State::body)
        throw HttpError("truncated response: got " + std::to_string(body_.size()) + " of " +
                        std::to_string(content_length_) + " body bytes");
    throw HttpError("truncated response: it ended inside the headers");
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
    while (!done_ && !chunk.empty()) {
        bool whole = next_line(chunk, pending_);
        if (!seen_request_line_ && line_length(pending_, whole) > limits_.max_line)
            throw HeadersTooLarge("request line over " + std::to_string(limits_.max_line) +
                                  " bytes");
        if (head_bytes_ + line_length(pending_, whole) > limits_.max_header_bytes)
            throw HeadersTooLarge("request head over " + std::to_string(limits_.max_header_bytes) +
                                  " bytes");
        if (!whole) break;
        std::string line = std::move(pending_);
        pending_.clear();
        head_bytes_ += line.size() + 2;
        take_line(line);
    }
    return done_;
}

void RequestParser::take_line(std::string_view line) {
    if (!seen_request_line_) {
        if (line.empty()) return; // tolerate blank lines before the request line (RFC 9112)
        // "GET /path HTTP/1.1": three parts separated by single spaces.
        auto sp1 = line.find(' ');
        auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1 ||
            line.find(' ', sp2 + 1) != std::string_view::npos)
            throw HttpError("malformed request line " + quote(line));
        request_.method = line.substr(0, sp1);
        request_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        request_.version = line.substr(sp2 + 1);
        if (request_.version != "HTTP/1.0" && request_.version != "HTTP/1.1")
            throw HttpError("unsupported HTTP version " + quote(request_.version));
        if (request_.target.front() != '/')
            throw HttpError("bad request target " + quote(request_.target));
        seen_request_line_ = true;
        return;
    }
    if (line.empty()) {
        done_ = true;
        return;
    }
    if (request_.headers.size() == limits_.max_headers)
        throw HeadersTooLarge("more than " + std::to_string(limits_.max_headers) +
                              " request headers");
    request_.headers.push_back(split_header(line));
}

} // namespace ladder
