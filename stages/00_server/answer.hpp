// 00_server's request-to-answer step: which answer a request gets, and the
// bytes of that answer — decided without sockets, timers or clocks, so a unit
// test or a fuzzer can drive it alone. server.cpp does the waiting and writing.
#pragma once

#include "http.hpp"
#include "site.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ladder {

// The ways a class can watch a stage meet a bad server: --fault MODE for every
// answer, ?fault=MODE for one. notes/00_server.md says what each stage reports.
enum class Fault {
    none,
    reset,             // reset the connection (RST) as soon as the request is read
    reset_after_delay, // wait out the delay, then reset instead of answering
    close_early,       // close (FIN) as soon as the request is read, without a byte
    truncate_head,     // after the delay: half of the head, then close
    truncate_body,     // after the delay: the head and half of the body, then close
    stall,             // never answer: hold the connection until the client gives up
    trickle,           // after the delay: the answer one byte at a time
    garbage,           // after the delay: bytes that are not HTTP
    wrong_length,      // after the delay: a Content-Length of half the body
    throw_error,       // after the delay, the handler throws (a simulated server bug)
};

std::optional<Fault> fault_named(std::string_view name); // "reset-after-delay", ...
std::string_view fault_name(Fault fault);
std::vector<std::string> fault_names(); // every mode, "none" first

// What the server does with one request.
struct Answer {
    enum class Kind {
        now,   // status, reason and body, at once
        stats, // GET /stats: the server's counters, at once
        page,  // the page for `path`, after the delay
    };
    Kind kind = Kind::now;
    int status = 200;
    std::string reason = "OK";
    std::string body;
    std::string path;            // page: what the page names
    std::optional<int> delay_ms; // page: ?delay_ms=, else the server's own delay
    Fault fault = Fault::none;   // page: ?fault=, else the server's --fault
    bool reset_stats = false;    // stats: GET /stats?reset=1
};

// Feeds what arrived to the connection's parser. Returns nothing while the
// request's head is incomplete, then its answer: an error answer (400, 405,
// 414, 431) for a request the server will not serve. Never throws for any
// bytes a client can send.
// `site` says which /site/N pages exist (a link past its end is a 404).
std::optional<Answer> answer_bytes(RequestParser& parser, std::string_view bytes,
                                   Fault server_fault, const Site& site = {});

// The page a GET gets: {"path","msg","delay_ms"}, padded with "pad" to at least
// `body_bytes`. `msg` is "ok" unless a number is given (/random's).
// A page of the linked site also lists its `links`.
std::string page_body(std::string_view path, int delay_ms, int body_bytes,
                      std::optional<double> msg = std::nullopt,
                      const std::vector<std::string>* links = nullptr);

// The whole HTTP/1.0 answer: status line, headers, body.
std::string http_response(int status, std::string_view reason, std::string_view body);

// What a fault that garbles the bytes sends instead of http_response(...):
// truncate_head, truncate_body, garbage, wrong_length. Other faults: the answer itself.
std::string faulty_response(Fault fault, int status, std::string_view reason,
                            std::string_view body);

} // namespace ladder
