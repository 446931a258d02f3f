// HTTP: the GET we send, the response parser (fed in every possible split), the
// request parser of 00_server, and what counts as a good page.
#include "http.hpp"
#include "page.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using namespace ladder;
using namespace std::string_view_literals;

namespace {

const std::string page_body = R"({"path":"/3"})";
const std::string page_response = "HTTP/1.1 200 OK\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: 13\r\n"
                                  "\r\n" +
                                  page_body;
const Headers page_headers = {{"content-type", "application/json"}, {"content-length", "13"}};

// No Content-Length: the body runs until the server closes the connection.
const std::string eof_response = "HTTP/1.0 404 Not Found\r\nServer: t\r\n\r\nno such page";

// Feeds text in two chunks, cut at `cut`, then finishes.
ResponseParser parse_split(std::string_view text, std::size_t cut, HttpLimits limits = {}) {
    ResponseParser p(limits);
    p.feed(text.substr(0, cut));
    p.feed(text.substr(cut));
    p.finish();
    return p;
}

ResponseParser parse_bytewise(std::string_view text) {
    ResponseParser p;
    for (char c : text) p.feed(std::string_view(&c, 1));
    p.finish();
    return p;
}

// Runs fn, expecting an HttpError whose message contains `words`.
template <typename Fn>
void expect_http_error(Fn fn, const std::string& words) {
    try {
        fn();
        ADD_FAILURE() << "no HttpError (expected one saying '" << words << "')";
    } catch (const HttpError& e) {
        EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
}

void expect_page(const ResponseParser& p) {
    EXPECT_TRUE(p.done());
    EXPECT_EQ(p.status(), 200);
    EXPECT_EQ(p.headers(), page_headers);
    EXPECT_EQ(p.body(), page_body);
    EXPECT_EQ(p.bytes_seen(), page_response.size());
}

// --- build_request ---------------------------------------------------------------

TEST(BuildRequest, ExactBytes) {
    EXPECT_EQ(build_request("127.0.0.1:8080", "/3"),
              "GET /3 HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n");
    EXPECT_EQ(build_request("[::1]:80", "/"), "GET / HTTP/1.0\r\nHost: [::1]:80\r\n\r\n");
}

// --- ResponseParser ---------------------------------------------------------------

TEST(ResponseParser, WholeResponseAtOnce) {
    ResponseParser p;
    p.feed(page_response);
    EXPECT_TRUE(p.done()); // Content-Length reached: done before end of stream
    p.finish();
    expect_page(p);
}

TEST(ResponseParser, SplitAtEveryByteBoundary) {
    for (std::size_t cut = 0; cut <= page_response.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        expect_page(parse_split(page_response, cut));
    }
}

TEST(ResponseParser, OneByteAtATime) {
    expect_page(parse_bytewise(page_response));
}

TEST(ResponseParser, BodyUntilEndOfStream) {
    for (std::size_t cut = 0; cut <= eof_response.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        ResponseParser p = parse_split(eof_response, cut);
        EXPECT_EQ(p.status(), 404);
        EXPECT_EQ(p.headers(), (Headers{{"server", "t"}}));
        EXPECT_EQ(p.body(), "no such page");
    }
    EXPECT_EQ(parse_bytewise(eof_response).body(), "no such page");

    ResponseParser p;
    p.feed(eof_response);
    EXPECT_FALSE(p.done()); // only the end of stream says the body is complete
    p.finish();
    EXPECT_TRUE(p.done());
}

TEST(ResponseParser, HeaderNamesLowerCasedAndValuesTrimmed) {
    ResponseParser p = parse_split("HTTP/1.1 204 No Content\r\nX-Thing: \t a b \t\r\n"
                                   "Content-Length:0\r\n\r\n",
                                   0);
    EXPECT_EQ(p.status(), 204);
    EXPECT_EQ(p.headers(), (Headers{{"x-thing", "a b"}, {"content-length", "0"}}));
    EXPECT_EQ(p.body(), "");
}

TEST(ResponseParser, TruncatedResponsesFailAtFinish) {
    for (std::size_t cut = 1; cut < page_response.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        ResponseParser p;
        p.feed(page_response.substr(0, cut)); // fine so far...
        EXPECT_FALSE(p.done());
        EXPECT_THROW(p.finish(), HttpError); // ...but the stream ended early
    }
}

TEST(ResponseParser, TruncationMessagesSayWhere) {
    ResponseParser in_body;
    in_body.feed(page_response.substr(0, page_response.size() - 8));
    expect_http_error([&] { in_body.finish(); }, "got 5 of 13 body bytes");
    ResponseParser in_head;
    in_head.feed("HTTP/1.1 200 OK\r\nContent-");
    expect_http_error([&] { in_head.finish(); }, "inside the headers");
}

TEST(ResponseParser, EmptyResponseFails) {
    ResponseParser p;
    p.feed("");
    expect_http_error([&] { p.finish(); }, "empty response");
}

TEST(ResponseParser, GarbageFailsAtFeed) {
    const std::string garbage[] = {
        "hello world\r\n",
        std::string("\x00\xff\x13\x7f binary\n", 12),
        "HTTP/2 200 OK\r\n",
        "HTTP/1.1 20 OK\r\n",
        "HTTP/1.1 abc OK\r\n",
        "HTTP/1.1 099 Too Low\r\n",
        "HTTP/1.1 200OK\r\n",
        "http/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n",
    };
    for (const std::string& g : garbage) {
        SCOPED_TRACE(g);
        ResponseParser p;
        EXPECT_THROW(p.feed(g), HttpError);
    }
}

TEST(ResponseParser, StatusLineTooLongFailsBeforeItEnds) {
    ResponseParser p; // default max_line 1024
    EXPECT_NO_THROW(p.feed("HTTP/1.1 200 " + std::string(1000, 'x')));
    EXPECT_THROW(p.feed(std::string(100, 'x')), HttpError); // no newline needed
    ResponseParser junk;
    EXPECT_THROW(junk.feed(std::string(5000, '\x01')), HttpError);
}

TEST(ResponseParser, TooManyHeaders) {
    HttpLimits limits;
    limits.max_headers = 3;
    std::string head = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
    EXPECT_NO_THROW(parse_split(head + "\r\n", 0, limits));
    ResponseParser p(limits);
    EXPECT_THROW(p.feed(head + "D: 4\r\n\r\n"), HttpError);
}

TEST(ResponseParser, HeadersTooLarge) {
    HttpLimits limits;
    limits.max_header_bytes = 64;
    std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'v');
    ResponseParser p(limits);
    EXPECT_THROW(p.feed(big), HttpError); // before the line even ends
}

TEST(ResponseParser, BodyOverMaxBody) {
    HttpLimits limits;
    limits.max_body = 10;
    EXPECT_EQ(parse_split("HTTP/1.0 200 OK\r\n\r\n0123456789", 0, limits).body(), "0123456789");
    ResponseParser announced(limits);
    EXPECT_THROW(announced.feed("HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n"), HttpError);
    ResponseParser streamed(limits); // no Content-Length: caught as the bytes arrive
    streamed.feed("HTTP/1.0 200 OK\r\n\r\n0123456789");
    EXPECT_THROW(streamed.feed("A"), HttpError);
}

TEST(ResponseParser, BadContentLength) {
    for (const char* value : {"abc", "-1", "12x", "", "1 2", "+5", "99999999999999999999"}) {
        SCOPED_TRACE(value);
        ResponseParser p;
        std::string head = std::string("HTTP/1.0 200 OK\r\nContent-Length: ") + value + "\r\n";
        expect_http_error([&] { p.feed(head); }, "bad Content-Length");
    }
}

TEST(ResponseParser, BytesAfterContentLengthFail) {
    ResponseParser together;
    EXPECT_THROW(together.feed(page_response + "X"), HttpError);
    ResponseParser later;
    later.feed(page_response);
    EXPECT_THROW(later.feed("X"), HttpError);
    ResponseParser empty_body;
    EXPECT_THROW(empty_body.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nX"), HttpError);
}

// --- ResponseParser: the strict edges (RFC 9112) ----------------------------------------

// Feeds `text` whole, expecting an HttpError that says `words`; the parser must
// not look complete afterwards, and finish() must fail with the same words.
void expect_rejected(const std::string& text, const std::string& words) {
    SCOPED_TRACE(text);
    ResponseParser p;
    expect_http_error([&] { p.feed(text); }, words);
    EXPECT_FALSE(p.done());
    expect_http_error([&] { p.finish(); }, words);
}

TEST(ResponseParser, ControlCharactersInTheHeadAreRejected) {
    const std::string ok = "HTTP/1.0 200 OK\r\n";
    expect_rejected(ok + "X-A: a" + std::string(1, '\0') + "b\r\n\r\n", "control character 0x00");
    expect_rejected(ok + "X-A: a\x7f\r\n\r\n", "control character 0x7f");
    expect_rejected(ok + "X-A: a\x01"
                         "b\r\n\r\n",
                    "control character 0x01");
    expect_rejected(ok + "X\x01"
                         "A: ab\r\n\r\n",
                    "control character 0x01");
    expect_rejected("HTTP/1.0 200 O\x02K\r\n\r\n", "control character 0x02 in the status line");
    expect_rejected(ok + "X(A): ab\r\n\r\n", "malformed header line"); // not a token
    // A tab is no control character there, and bytes over 0x7f are allowed in values.
    ResponseParser p;
    p.feed(ok + "X-A: a\tb\xe4\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(p.done());
    EXPECT_EQ(p.headers()[0].second, "a\tb\xe4");
}

// "HTTP/1.0 200 OK\rContent-Length: 99" is one line to a parser that splits at
// LF and two lines to one that also splits at CR: reject it.
TEST(ResponseParser, ABareCrInsideALineIsRejected) {
    expect_rejected("HTTP/1.0 200 OK\rContent-Length: 99\r\n\r\n", "a bare CR in the status line");
    expect_rejected("HTTP/1.0 200 OK\r\nX-A: 1\rContent-Length: 99\r\n\r\n",
                    "a bare CR in a header line");
    expect_rejected("HTTP/1.0 200 OK\r\n\r\r\n", "a bare CR in a header line");
}

TEST(ResponseParser, ContentLengthIsDigitsOnlyAndSaysOneThing) {
    expect_rejected("HTTP/1.0 200 OK\r\nContent-Length: -0\r\n\r\n", "bad Content-Length '-0'");
    expect_rejected("HTTP/1.0 200 OK\r\nContent-Length: 1, 1\r\n\r\n", "bad Content-Length");
    expect_rejected("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
                    "two different Content-Length values: 2 and 3");
    // The same value twice says one thing: allowed (RFC 9112, 6.3).
    ResponseParser twice;
    twice.feed("HTTP/1.0 200 OK\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nab");
    EXPECT_TRUE(twice.done());
    EXPECT_EQ(twice.body(), "ab");
}

TEST(ResponseParser, TransferCodingsAreNotSupported) {
    expect_rejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                    "chunked transfer coding is not supported");
    expect_rejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
                    "chunked transfer coding is not supported");
    expect_rejected("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                    "transfer coding 'gzip' is not supported");
}

// An HTTP/1.0 client never gets a 1xx (RFC 9110, 15.2); taking one as the
// final answer would read the real answer as its body.
TEST(ResponseParser, InterimResponsesAreRejected) {
    expect_rejected("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", "interim response 100");
    expect_rejected("HTTP/1.1 103 Early Hints\r\n\r\n", "interim response 103");
    expect_rejected("HTTP/1.1 600 Beyond\r\n\r\n", "not an HTTP response");
}

// A 204 (and a 304) ends at its blank line whatever its headers say (RFC 9112, 6.3).
TEST(ResponseParser, A204EndsAtItsBlankLine) {
    ResponseParser p;
    p.feed("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
    EXPECT_TRUE(p.done());
    EXPECT_EQ(p.body(), "");
    EXPECT_NO_THROW(p.finish());
    expect_rejected("HTTP/1.1 204 No Content\r\n\r\nhello", "bytes after a 204 response");
    expect_rejected("HTTP/1.1 304 Not Modified\r\n\r\nhello", "bytes after a 304 response");
}

TEST(ResponseParser, NotDoneAfterAThrowingFeed) {
    ResponseParser p;
    expect_http_error([&] { p.feed(page_response + "X"); }, "more bytes than Content-Length");
    EXPECT_FALSE(p.done()); // the body was complete, but the response as a whole is not good
    expect_http_error([&] { p.feed("more"); }, "more bytes than Content-Length");
    expect_http_error([&] { p.finish(); }, "more bytes than Content-Length");
    EXPECT_THROW(check_page(p, "/3"), HttpError);

    ResponseParser truncated; // the same after a throwing finish()
    truncated.feed(page_response.substr(0, 30));
    EXPECT_THROW(truncated.finish(), HttpError);
    EXPECT_FALSE(truncated.done());
}

// The head limit counts every byte of the head, from the first line to the
// blank line. A head exactly at the limit is fine whatever the split (a '\r'
// still waiting for its '\n' is no reason to fail early); one byte more is not.
TEST(HttpLimits, TheHeadLimitCountsEveryByteWhateverTheSplit) {
    HttpLimits limits;
    limits.max_line = 20; // "HTTP/1.0 200 xxxxxxx" is 20 bytes
    std::string response = "HTTP/1.0 200 xxxxxxx\r\nA: 123456789012345\r\n\r\n";
    limits.max_header_bytes = response.size(); // 44
    std::string request = "GET / HTTP/1.0\r\n\r\n";
    for (std::size_t cut = 0; cut <= response.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        EXPECT_NO_THROW(parse_split(response, cut, limits));
    }
    limits.max_header_bytes = request.size(); // 18
    for (std::size_t cut = 0; cut <= request.size(); ++cut) {
        SCOPED_TRACE("request cut at " + std::to_string(cut));
        RequestParser p(limits);
        EXPECT_NO_THROW(p.feed(request.substr(0, cut)));
        EXPECT_NO_THROW(p.feed(request.substr(cut)));
        EXPECT_TRUE(p.done());
    }

    limits.max_header_bytes = response.size() - 1; // the status line counts too
    ResponseParser response_over(limits);
    expect_http_error([&] { response_over.feed(response); }, "response head over 43 bytes");
    limits.max_header_bytes = request.size() - 1; // ...and so does the blank line
    RequestParser request_over(limits);
    EXPECT_THROW(request_over.feed(request), RequestParser::HeadersTooLarge);
}

// --- RequestParser -----------------------------------------------------------------

const std::string get_request = "GET /3?delay_ms=50&x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";

void expect_get(const RequestParser& p) {
    ASSERT_TRUE(p.done());
    const Request& r = p.request();
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/3?delay_ms=50&x=1");
    EXPECT_EQ(r.version, "HTTP/1.1");
    EXPECT_EQ(r.path(), "/3");
    EXPECT_EQ(r.query(), "delay_ms=50&x=1");
    EXPECT_EQ(r.headers, (Headers{{"host", "a"}, {"accept", "*/*"}}));
}

TEST(RequestParser, GetWithQuery) {
    RequestParser p;
    EXPECT_TRUE(p.feed(get_request));
    expect_get(p);
    EXPECT_EQ(query_param(p.request().query(), "delay_ms"), "50");
    EXPECT_EQ(query_param(p.request().query(), "x"), "1");
}

TEST(RequestParser, NoQuery) {
    RequestParser p;
    EXPECT_TRUE(p.feed("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(p.request().path(), "/");
    EXPECT_EQ(p.request().query(), "");
}

TEST(RequestParser, FeedReportsDoneOnlyAfterTheBlankLine) {
    RequestParser p;
    EXPECT_FALSE(p.feed("\r\nGET / HTTP/1.0\r\n")); // a leading blank line is tolerated
    EXPECT_FALSE(p.done());
    EXPECT_TRUE(p.feed("\r\n"));
    EXPECT_TRUE(p.done());
}

TEST(RequestParser, SplitAtEveryByteBoundary) {
    for (std::size_t cut = 0; cut <= get_request.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        RequestParser p;
        bool early = p.feed(std::string_view(get_request).substr(0, cut));
        EXPECT_EQ(early, cut == get_request.size());
        EXPECT_TRUE(p.feed(std::string_view(get_request).substr(cut)));
        expect_get(p);
    }
    RequestParser bytewise;
    for (char c : get_request) bytewise.feed(std::string_view(&c, 1));
    expect_get(bytewise);
}

TEST(RequestParser, Http10And11AcceptedOthersRejected) {
    for (const char* ok : {"GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"}) {
        RequestParser p;
        EXPECT_TRUE(p.feed(ok)) << ok;
    }
    for (const char* bad : {"GET / HTTP/2.0\r\n", "GET / HTTP/0.9\r\n", "GET / http/1.1\r\n"}) {
        RequestParser p;
        EXPECT_THROW(p.feed(bad), HttpError) << bad;
    }
}

TEST(RequestParser, MalformedRequestLine) {
    for (const char* bad : {"GET /\r\n", "GET\r\n", "GET  / HTTP/1.0\r\n", " GET / HTTP/1.0\r\n",
                            "GET / HTTP/1.0 extra\r\n", "GET / \r\n", "GET x HTTP/1.0\r\n",
                            "GET / HTTP/1.0\r\nno colon\r\n"}) {
        RequestParser p;
        try {
            p.feed(bad);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const RequestParser::HeadersTooLarge&) {
            ADD_FAILURE() << "431 instead of 400 for: " << bad;
        } catch (const HttpError&) {
        }
    }
}

TEST(RequestParser, HeadOverTheLimitIsHeadersTooLarge) {
    RequestParser big; // default max_header_bytes 8192; no newline needed to notice
    EXPECT_THROW(big.feed("GET / HTTP/1.0\r\nX: " + std::string(9000, 'v')),
                 RequestParser::HeadersTooLarge);

    HttpLimits limits;
    limits.max_headers = 2;
    RequestParser many(limits);
    EXPECT_THROW(many.feed("GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
                 RequestParser::HeadersTooLarge);
}

// Feeds `text` whole to a RequestParser; returns the status 00_server would
// answer: 400 for garbage, 414 for a long request line, 431 for a big head,
// 200 for a good request, 0 for an incomplete one.
int request_status(std::string_view text, HttpLimits limits = {}) {
    RequestParser p(limits);
    try {
        return p.feed(text) ? 200 : 0;
    } catch (const RequestParser::RequestLineTooLong&) {
        EXPECT_FALSE(p.done());
        return 414;
    } catch (const RequestParser::HeadersTooLarge&) {
        EXPECT_FALSE(p.done());
        return 431;
    } catch (const HttpError&) {
        EXPECT_FALSE(p.done());
        return 400;
    }
}

// The bug that once stopped 00_server: a byte that is not ASCII in the target
// went into a JSON page, whose dump() threw. Targets are visible ASCII now.
TEST(RequestParser, TargetsOutsideVisibleAsciiAre400) {
    EXPECT_EQ(request_status("GET /\x97 HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET /\xc3\xa4 HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET /a\x7f HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET /a\tb HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET /a\0b HTTP/1.0\r\n\r\n"sv), 400);
    EXPECT_EQ(request_status("GET /%C3%A4?x=~!$&'()*+,;=:@ HTTP/1.0\r\n\r\n"), 200);
    RequestParser p;
    expect_http_error([&] { p.feed("GET /\x97 HTTP/1.0\r\n\r\n"); }, "bad request target '/?'");
}

TEST(RequestParser, ControlCharactersInTheMethodAndHeadersAre400) {
    EXPECT_EQ(request_status("G\x01T / HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GE\rT / HTTP/1.0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("G(T) / HTTP/1.0\r\n\r\n"), 400); // not a token
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nX-A: a\x7f\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nX-A: a\rb\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nX\0A: ab\r\n\r\n"sv), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\n folded: x\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nX-A: a\tb\xe4\r\n\r\n"), 200);
}

TEST(RequestParser, FramingHeadersAreCheckedToo) {
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nContent-Length: -0\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              400);
    EXPECT_EQ(request_status("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), 200);
}

// 414 when the request line is too long, 431 when the rest of the head is.
TEST(RequestParser, ALongRequestLineIs414NotA431) {
    EXPECT_EQ(request_status("GET /" + std::string(2000, 'a') + " HTTP/1.0\r\n\r\n"), 414);
    EXPECT_EQ(request_status("GET /" + std::string(9000, 'a')), 414); // no line end needed
    EXPECT_EQ(request_status("GET / HTTP/1.0\r\nX: " + std::string(9000, 'v')), 431);
    EXPECT_EQ(request_status("GET /" + std::string(1000, 'a') + " HTTP/1.0\r\n\r\n"), 200);
    // Blank lines before the request line are part of the head as well.
    EXPECT_EQ(request_status(std::string(9000, '\n') + "GET / HTTP/1.0\r\n\r\n"), 431);
}

TEST(RequestParser, NotDoneAfterAThrowingFeed) {
    RequestParser p;
    EXPECT_FALSE(p.feed("GET / HTTP/1.0\r\n"));
    EXPECT_THROW(p.feed("X-A: \x01\r\n\r\n"), HttpError);
    EXPECT_FALSE(p.done());
    EXPECT_THROW(p.feed("\r\n"), HttpError); // it stays failed
    EXPECT_FALSE(p.done());
}

TEST(QueryParam, FindsWholeNamesOnly) {
    EXPECT_EQ(query_param("a=1&delay_ms=50", "delay_ms"), "50");
    EXPECT_EQ(query_param("a=1&delay_ms=50", "a"), "1");
    EXPECT_EQ(query_param("ab=1", "a"), "");
    EXPECT_EQ(query_param("a=1", "missing"), "");
    EXPECT_EQ(query_param("", "a"), "");
    EXPECT_EQ(query_param("flag&a=2", "flag"), "");
    EXPECT_EQ(query_param("a=1&a=2", "a"), "1"); // the first one wins
}

// --- page.hpp ------------------------------------------------------------------------

TEST(Page, PagePath) {
    EXPECT_EQ(page_path(0), "/");
    EXPECT_EQ(page_path(1), "/1");
    EXPECT_EQ(page_path(7), "/7");
}

std::string response(std::string_view status_line, std::string_view body) {
    return std::string(status_line) + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

TEST(Page, GoodPage) {
    std::string body;
    Page page = parse_page(page_response, "/3", &body);
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.bytes, page_response.size());
    EXPECT_EQ(body, page_body);
    ResponseParser p;
    p.feed(page_response);
    p.finish();
    EXPECT_NO_THROW(check_page(p, "/3"));
    EXPECT_NO_THROW(parse_page(response("HTTP/1.0 200 OK", R"({"path":"/","n":0})"), "/"));
}

TEST(Page, BadPages) {
    EXPECT_THROW(parse_page(page_response, "/4"), HttpError);
    EXPECT_THROW(parse_page(response("HTTP/1.0 404 Not Found", page_body), "/3"), HttpError);
    EXPECT_THROW(parse_page(response("HTTP/1.0 200 OK", "not json"), "/3"), HttpError);
    EXPECT_THROW(parse_page(response("HTTP/1.0 200 OK", R"(["/3"])"), "/3"), HttpError);
    EXPECT_THROW(parse_page(response("HTTP/1.0 200 OK", R"({"path":3})"), "/3"), HttpError);
    EXPECT_THROW(parse_page(response("HTTP/1.0 200 OK", R"({"other":"/3"})"), "/3"), HttpError);
    EXPECT_THROW(parse_page(page_response.substr(0, page_response.size() - 1), "/3"), HttpError);
    EXPECT_THROW(parse_page("", "/3"), HttpError);
}

// check_page reads the JSON without building it, so nesting costs nothing
// until it is refused: a real page is one flat object.
TEST(Page, DeepNestingIsRefused) {
    auto nested = [](int depth) {
        return R"({"path":"/3","x":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') +
               "}";
    };
    EXPECT_NO_THROW(parse_page(response("HTTP/1.0 200 OK", nested(32)), "/3"));
    expect_http_error([&] { parse_page(response("HTTP/1.0 200 OK", nested(33)), "/3"); },
                      "nested deeper than 32 levels");
    // The hostile body that once took 667 MB: 16 MiB of '['.
    std::string brackets((16 << 20) - 100, '[');
    expect_http_error([&] { parse_page(response("HTTP/1.0 200 OK", brackets), "/3"); },
                      "nested deeper than 32 levels");
}

TEST(Page, OnlyATopLevelStringPathCounts) {
    auto page = [](std::string_view body) {
        return parse_page(response("HTTP/1.0 200 OK", body), "/3");
    };
    EXPECT_NO_THROW(page(R"({"x":{"path":"/4"},"path":"/3","y":[1,2.5,null,true,"s"]})"));
    EXPECT_NO_THROW(page(R"({"path":"/4","path":"/3"})")); // the last one wins, as in an object
    EXPECT_THROW(page(R"({"path":"/3","path":3})"), HttpError);
    EXPECT_THROW(page(R"({"x":{"path":"/3"}})"), HttpError);
    EXPECT_THROW(page(R"({"path":["/3"]})"), HttpError);
    EXPECT_THROW(page(R"({"path":"/3"} trailing)"), HttpError);
    EXPECT_THROW(page("{\"path\":\"/3\",\"x\":\"\xff\"}"), HttpError); // not UTF-8
}

} // namespace
