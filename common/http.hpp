// Just enough HTTP/1.0 for the ladder: build a GET request, parse a response fed
// in arbitrary chunks, and (for 00_server) parse a request.
//
// Both parsers are strict in the way RFC 9112 asks of a recipient: a control
// character in a line (a bare CR among them), a header name that is not a
// token, a bad or doubled Content-Length, or a Transfer-Encoding is an error,
// never something to guess around. Guessing is how two programs come to
// disagree about where one message ends.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ladder {

// A response or request that is malformed, too big, or cut short.
class HttpError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct HttpLimits {
    std::size_t max_line = 1024;         // status line or request line, without its CR LF
    std::size_t max_header_bytes = 8192; // the whole head, every byte: first line to blank line
    std::size_t max_headers = 64;
    std::size_t max_body = 16 << 20; // 16 MiB
};

// "GET /3 HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n"
std::string build_request(std::string_view host, std::string_view path);

using Headers = std::vector<std::pair<std::string, std::string>>; // names lower-cased

// Incremental response parser. feed() whatever bytes arrived, in any split;
// call finish() at end of stream. Both throw HttpError on garbage, on a limit,
// or (finish) on a truncated response. Once one has thrown, the parser stays
// failed: done() is false and every later call throws again.
class ResponseParser {
  public:
    explicit ResponseParser(HttpLimits limits = {}) : limits_(limits) {}

    void feed(std::string_view chunk);
    void finish();
    bool done() const noexcept { return state_ == State::done && !failure_; }

    int status() const noexcept { return status_; }
    const Headers& headers() const noexcept { return headers_; }
    const std::string& body() const noexcept { return body_; }
    std::size_t bytes_seen() const noexcept { return bytes_seen_; }

  private:
    enum class State { status_line, headers, body, done };
    void consume(std::string_view chunk);
    void take_line(std::string_view line);
    void start_body();

    HttpLimits limits_;
    State state_ = State::status_line;
    std::string pending_;        // an incomplete line carried to the next feed
    std::size_t head_bytes_ = 0; // every byte of the head so far, line ends included
    int status_ = 0;
    Headers headers_;
    std::string body_;
    long long content_length_ = -1; // -1: the body runs until end of stream
    std::size_t bytes_seen_ = 0;
    std::exception_ptr failure_; // the first error, thrown again by every later call
};

// A parsed request line plus headers (00_server's side).
struct Request {
    std::string method;
    std::string target; // "/3?delay_ms=50": visible ASCII only
    std::string version;
    Headers headers;

    std::string_view path() const;  // target without the query
    std::string_view query() const; // after '?', or empty
};

// Find a query parameter: query_param("a=1&delay_ms=50", "delay_ms") == "50".
std::string_view query_param(std::string_view query, std::string_view name);

// Incremental request parser (the head only: the ladder's GETs have no body).
// feed() returns true once the blank line ending the head has arrived.
// Throws HttpError for garbage (→ 400), RequestLineTooLong (→ 414) and
// HeadersTooLarge (→ 431). After a throw it stays failed, like ResponseParser.
class RequestParser {
  public:
    class RequestLineTooLong : public HttpError {
      public:
        using HttpError::HttpError;
    };
    class HeadersTooLarge : public HttpError {
      public:
        using HttpError::HttpError;
    };

    explicit RequestParser(HttpLimits limits = {}) : limits_(limits) {}
    bool feed(std::string_view chunk);
    bool done() const noexcept { return done_ && !failure_; }
    const Request& request() const noexcept { return request_; }

  private:
    void consume(std::string_view chunk);
    void take_request_line(std::string_view line);
    void take_header_line(std::string_view line);

    HttpLimits limits_;
    std::string pending_;
    std::size_t head_bytes_ = 0;
    bool seen_request_line_ = false;
    bool done_ = false;
    long long content_length_ = -1;
    Request request_;
    std::exception_ptr failure_;
};

} // namespace ladder
