#include "crawler.hpp"
#include "error.hpp"
#include "http.hpp"
#include "page.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <stdexcept>

namespace ladder {

Crawler::Crawler(Crawl& crawl, int page) : crawl_(crawl), page_(page), path_(page_path(page)) {}

void Crawler::fetch() {
    crawl_.report.page_started(page_);
    deadline_ = Clock::now() + crawl_.timeout;
    try {
        sock_ = open_stream_socket(crawl_.server);
        // Returns at once: the TCP handshake goes on in the kernel, and when it
        // ends — well or badly — the socket becomes writable.
        start_connect(sock_.get(), crawl_.server);
        watch(EVENT_WRITE, &Crawler::on_connected);
    } catch (const SelectorLimitError&) {
        throw; // not this page's failure but the selector's: main stops the run
    } catch (const std::exception& e) {
        fail(e.what()); // no socket left, or the connect failed on the spot
    }
}

std::string Crawler::name() const {
    return "page " + std::to_string(page_) +
           (callback_ == &Crawler::on_connected ? " on_connected" : " on_readable");
}

void Crawler::on_event(unsigned events) {
    // Our caller is the event loop, which knows nothing about pages: an error
    // thrown out of here would reach no one who could handle it. So every
    // callback's error stops here and becomes this page's result.
    try {
        (this->*callback_)(events);
    } catch (const std::exception& e) {
        fail(e.what());
    }
}

void Crawler::on_connected(unsigned /*events*/) {
    // WRITE means "the connect has finished", not "it worked": SO_ERROR says which.
    if (int err = socket_error(sock_.get())) throw SysError("connect", crawl_.server.text, err);
    crawl_.report.mark(page_, Mark::connected); // for --trace
    std::string request = build_request(crawl_.server.text, path_);
    ssize_t sent = ::send(sock_.get(), request.data(), request.size(), MSG_NOSIGNAL);
    if (sent < 0) throw_errno("send", crawl_.server.text);
    // A fresh socket's send buffer holds kilobytes and our request is a few
    // dozen bytes, so one send() takes all of it.
    if (static_cast<std::size_t>(sent) != request.size())
        throw std::runtime_error("send: the request did not fit the socket buffer");
    crawl_.report.mark(page_, Mark::sent);
    watch(EVENT_READ, &Crawler::on_readable);
}

void Crawler::on_readable(unsigned /*events*/) {
    char chunk[4096];
    ssize_t n = ::recv(sock_.get(), chunk, sizeof chunk, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return; // wait for more
        throw_errno("recv", crawl_.server.text);
    }
    if (n > 0) {
        // Part of the answer: keep it and stay registered. The selector is
        // level-triggered: while bytes are left unread, it reports the socket
        // again on the next turn (with --edge-triggered, not: notes/05, exercise 4).
        if (response_.empty()) crawl_.report.mark(page_, Mark::first_byte);
        response_.append(chunk, static_cast<std::size_t>(n));
        return;
    }
    // End of stream: the server has said everything (HTTP/1.0 closes after the answer).
    Page page = parse_page(response_, path_); // HttpError if it is not our page
    finish();
    crawl_.report.page_ok(page_, page.status, page.bytes);
}

void Crawler::time_out() {
    using std::chrono::milliseconds;
    auto ms = std::chrono::duration_cast<milliseconds>(crawl_.timeout).count();
    fail("timed out after " + std::to_string(ms) + " ms (--timeout-ms) " +
         (callback_ == &Crawler::on_connected ? "waiting to connect" : "waiting for the answer"));
}

void Crawler::watch(unsigned events, Callback callback) {
    callback_ = callback;
    // One fd, one registration: switching from WRITE to READ is a modify.
    if (crawl_.selector.contains(sock_.get()))
        crawl_.selector.modify(sock_.get(), events, this);
    else
        crawl_.selector.add(sock_.get(), events, this);
}

void Crawler::fail(const std::string& error) {
    if (done_) return;
    finish();
    crawl_.report.page_failed(page_, error);
}

// The page is finished, well or badly: forget the socket and count the page off.
void Crawler::finish() {
    if (sock_ && crawl_.selector.contains(sock_.get())) crawl_.selector.remove(sock_.get());
    sock_.reset(); // close after remove: the selector must never watch a closed fd
    response_ = std::string();
    done_ = true;
    --crawl_.pages_left;
}

} // namespace ladder
