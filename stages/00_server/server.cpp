#include "server.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace ladder {

using std::chrono::milliseconds;

// --fault trickle sends one byte of the answer per this long.
constexpr milliseconds trickle_interval{10};
// --fault stall keeps a connection this long at most; every client gives up sooner.
constexpr milliseconds stall_limit{600'000};

nlohmann::json ServerStats::to_json() const {
    return {{"accepted", accepted},
            {"open_connections", open},
            {"peak_open_connections", peak_open},
            {"waiting", waiting},
            {"peak_waiting", peak_waiting},
            {"served", served},
            {"bad_requests", bad_requests},
            {"client_gone", client_gone},
            {"idle_closed", idle_closed},
            {"accept_paused", accept_paused},
            {"faults", faults},
            {"handler_errors", handler_errors},
            {"max_late_ms", max_late_ms}};
}

void ServerStats::reset() {
    accepted = served = bad_requests = client_gone = idle_closed = accept_paused = 0;
    faults = handler_errors = 0;
    max_late_ms = 0;
    peak_open = open;
    peak_waiting = waiting;
}

Server::Server(ServerConfig config)
    : config_(std::move(config)),
      site_{config_.site_pages, config_.seed != 0 ? static_cast<unsigned>(config_.seed) : 1u},
      fault_(fault_named(config_.fault).value_or(Fault::none)),
      selector_(make_selector(config_.selector)),
      rng_(config_.seed != 0 ? static_cast<unsigned>(config_.seed) : std::random_device{}()) {
    raise_fd_limit();
    Endpoint where = resolve(config_.host, config_.port);
    listener_ = listen_tcp(where);
    address_ = where.text.substr(0, where.text.rfind(':') + 1) +
               std::to_string(local_port(listener_.get()));
    selector_->add(listener_.get(), EVENT_READ);
    selector_->add(signals_.fd(), EVENT_READ);
    if (!config_.trace_path.empty()) {
        trace_ = std::fopen(config_.trace_path.c_str(), "w");
        if (!trace_) throw_errno("fopen", config_.trace_path);
        // Whole lines only: the tour reads this file while the server runs.
        std::setvbuf(trace_, nullptr, _IOLBF, 0);
        std::fprintf(trace_, "%s\n",
                     nlohmann::json{{"type", "header"},
                                    {"side", "server"},
                                    {"delay_ms", config_.delay_ms},
                                    {"jitter_ms", config_.jitter_ms},
                                    {"t0_us", monotonic_us(Clock::now())}}
                         .dump()
                         .c_str());
    }
}

Server::~Server() {
    for (auto& c : conns_)
        if (c) selector_->remove(c->fd.get());
    if (trace_) std::fclose(trace_);
}

// The server's side of a page's life, on the same clock (CLOCK_MONOTONIC) as
// the clients' --trace files, so a chart can lay the two views over each other.
void Server::trace(const Conn& c, const char* event) {
    if (!trace_) return;
    std::fprintf(trace_,
                 R"({"conn":%ld,"event":"%s","t_us":%lld,"path":%s})"
                 "\n",
                 c.id, event, monotonic_us(Clock::now()),
                 nlohmann::json(c.path)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                     .c_str());
}

// --- the event loop ---------------------------------------------------------------

void Server::run() {
    while (!stopping_ && !signals_.requested()) {
        // Sleep until the next fd is ready or the next delay is over, whichever first.
        for (const Ready& r : selector_->select(time_to_next_timer())) on_event(r.key.fd, r.events);
        fire_timers();
    }
}

Timeout Server::time_to_next_timer() const {
    auto due = timers_.next_due();
    if (accept_resume_ != Clock::time_point{} && (!due || accept_resume_ < *due))
        due = accept_resume_;
    if (!due) return std::nullopt;
    return *due - Clock::now();
}

void Server::on_event(int fd, unsigned events) {
    if (fd == listener_.get()) return accept_clients();
    if (fd == signals_.fd()) return stop();
    if (static_cast<std::size_t>(fd) >= conns_.size() || !conns_[fd]) return; // closed this round
    guarded(fd, [&] {
        Conn& c = *conns_[fd];
        if (events & EVENT_READ) on_readable(c);
        // on_readable may have closed the connection; look again before writing.
        if ((events & EVENT_WRITE) && conns_[fd] && c.state == State::writing) on_writable(c);
    });
}

// One connection is the failure boundary: whatever goes wrong while serving it
// (a bug, an exception nobody expected) closes that connection, never the
// server. A whole class shares this server; one request must not stop it.
template <typename Step>
void Server::guarded(int fd, Step step) {
    try {
        step();
    } catch (const std::exception& e) {
        drop(fd, e.what());
    } catch (...) {
        drop(fd, "an exception that is not a std::exception");
    }
}

void Server::drop(int fd, const std::string& what) {
    ++stats_.handler_errors;
    bool open = static_cast<std::size_t>(fd) < conns_.size() && conns_[fd];
    std::fprintf(stderr, "00_server: connection %ld failed (%s); closed it, serving the others\n",
                 open ? conns_[fd]->id : 0L, what.c_str());
    if (open) close(*conns_[fd]);
}

void Server::fire_timers() {
    auto now = Clock::now();
    if (accept_resume_ != Clock::time_point{} && accept_resume_ <= now) {
        accept_resume_ = {};
        selector_->add(listener_.get(), EVENT_READ);
    }
    while (auto t = timers_.pop_due(now)) {
        if (static_cast<std::size_t>(t->fd) < conns_.size() && conns_[t->fd] &&
            conns_[t->fd]->generation == t->generation) {
            if (conns_[t->fd]->state == State::waiting) // how late does the slow website answer?
                stats_.max_late_ms = std::max(
                    stats_.max_late_ms,
                    std::chrono::duration<double, std::milli>(Clock::now() - t->due).count());
            guarded(t->fd, [&] { on_timer(*conns_[t->fd]); });
        }
    }
}

// --- connections ------------------------------------------------------------------

void Server::accept_clients() {
    // At most a batch per wake-up: with thousands queued, the loop still gets
    // back to the timers in time to answer the connections it already has.
    for (int batch = 0; batch < 256; ++batch) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of fds: the pending client stays in the kernel's queue and
                // the listener stays readable. Stop watching it for a moment, or
                // the loop would spin on it; keep serving the connections we have.
                ++stats_.accept_paused;
                selector_->remove(listener_.get());
                accept_resume_ = Clock::now() + milliseconds(100);
                return;
            }
            throw_errno("accept4");
        }
        if (static_cast<std::size_t>(fd) >= conns_.size()) conns_.resize(fd + 1);
        auto c = std::make_unique<Conn>();
        c->fd.reset(fd);
        c->accepted_at = Clock::now();
        c->id = ++accepted_total_;
        try {
            selector_->add(fd, EVENT_READ, c.get());
        } catch (const std::exception& e) { // e.g. select's FD_SETSIZE, the kernel's limit
            ++stats_.handler_errors;
            if (e.what() != last_watch_error_) // said once, not once per client
                std::fprintf(stderr, "00_server: cannot watch new connections (%s); closing them\n",
                             e.what());
            last_watch_error_ = e.what();
            continue; // c's destructor closes the socket
        }
        set_timer(*c, c->accepted_at + milliseconds(config_.idle_ms));
        trace(*c, "accepted");
        conns_[fd] = std::move(c);
        ++stats_.accepted;
        stats_.peak_open = std::max(stats_.peak_open, ++stats_.open);
    }
}

void Server::on_readable(Conn& c) {
    char buf[4096];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { // the client went away (EOF or reset) before its answer
        if (c.state == State::waiting || c.state == State::trickling) ++stats_.client_gone;
        return close(c);
    }
    if (c.state != State::reading) return; // bytes after the request are ignored (and drained)
    if (auto answer =
            answer_bytes(c.parser, std::string_view(buf, static_cast<std::size_t>(n)), fault_, site_))
        handle_answer(c, std::move(*answer));
}

void Server::handle_answer(Conn& c, Answer answer) {
    if (answer.kind == Answer::Kind::now) { // an error: 400, 404, 405, 414 or 431
        ++stats_.bad_requests;
        // The rest of a bad request may still be arriving; after a whole GET
        // head (a 404) nothing is, and lingering would keep a finished
        // connection open, counted, until the client closes.
        c.linger = !c.parser.done() || c.parser.request().method != "GET";
        return respond(c, answer.status, answer.reason, answer.body);
    }
    c.path = answer.path;
    trace(c, "parsed");
    if (answer.kind == Answer::Kind::stats) { // answered at once, never delayed
        auto stats = stats_.to_json();
        stats["path"] = "/stats"; // like every page: a client can check it got what it asked
        stats["delay_ms"] = config_.delay_ms;
        stats["jitter_ms"] = config_.jitter_ms;
        stats["fault"] = fault_name(fault_);
        auto body = stats.dump();
        if (answer.reset_stats) stats_.reset();
        return respond(c, 200, "OK", body);
    }
    c.delay_ms = answer.delay_ms ? *answer.delay_ms : next_delay_ms();
    c.fault = answer.fault;
    if (c.fault != Fault::none) {
        ++stats_.faults;
        if (config_.verbose)
            std::fprintf(stderr, "GET %s -> fault '%s'\n", c.parser.request().target.c_str(),
                         std::string(fault_name(c.fault)).c_str());
    }
    if (c.fault == Fault::reset) return reset(c);
    if (c.fault == Fault::close_early) return close(c);
    // The slow part: park the connection until its delay is over. Nothing
    // blocks — the loop goes on serving everyone else meanwhile.
    set_state(c, State::waiting);
    set_timer(c, Clock::now() + (c.fault == Fault::stall ? stall_limit : milliseconds(c.delay_ms)));
    trace(c, "delay_started");
}

int Server::next_delay_ms() {
    if (config_.jitter_ms == 0) return config_.delay_ms;
    std::uniform_int_distribution<int> jitter(-config_.jitter_ms, config_.jitter_ms);
    return std::max(0, config_.delay_ms + jitter(rng_));
}

void Server::on_timer(Conn& c) {
    if (c.state == State::draining) return close(c);
    if (c.state == State::trickling) return trickle_one_byte(c);
    if (c.state != State::waiting) { // reading or writing for too long
        ++stats_.idle_closed;
        return close(c);
    }
    answer_page(c);
}

// The delay is over: the page, or the fault this request asked for.
void Server::answer_page(Conn& c) {
    switch (c.fault) {
    case Fault::stall:
        return close(c); // stall_limit is over; its client gave up long ago
    case Fault::reset_after_delay:
        return reset(c);
    case Fault::throw_error:
        throw std::runtime_error("fault 'throw': the handler failed on purpose");
    default:
        break;
    }
    std::optional<double> msg;
    if (c.path == "/random") // stage 08's Event demo: a number to watch, uniform in [0, 1)
        msg = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    std::optional<std::vector<std::string>> links;
    if (auto page = Site::page_of(c.path)) links = site_.links_of(*page); // a page of the site
    std::string body =
        page_body(c.path, c.delay_ms, config_.body_bytes, msg, links ? &*links : nullptr);
    if (c.fault == Fault::none || c.fault == Fault::trickle) ++stats_.served; // a good page
    if (c.fault == Fault::trickle) {
        c.out = http_response(200, "OK", body);
        c.sent = 0;
        set_state(c, State::trickling);
        return trickle_one_byte(c);
    }
    if (c.fault != Fault::none) return send_bytes(c, faulty_response(c.fault, 200, "OK", body));
    respond(c, 200, "OK", body);
}

// One byte now, the next one a trickle_interval later: the client sees its
// answer arrive in as many reads as it has bytes.
void Server::trickle_one_byte(Conn& c) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, 1, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ++stats_.client_gone;
        return close(c);
    }
    if (n > 0) ++c.sent;
    if (c.sent == c.out.size()) {
        trace(c, "written");
        return close(c);
    }
    set_timer(c, Clock::now() + trickle_interval);
}

void Server::respond(Conn& c, int status, std::string_view reason, const std::string& body) {
    if (config_.verbose)
        std::fprintf(
            stderr, "%s %s -> %d after %lld ms\n", c.parser.request().method.c_str(),
            c.parser.request().target.c_str(), status,
            static_cast<long long>(
                std::chrono::duration_cast<milliseconds>(Clock::now() - c.accepted_at).count()));
    send_bytes(c, http_response(status, reason, body));
}

void Server::send_bytes(Conn& c, std::string bytes) {
    c.out = std::move(bytes);
    c.sent = 0;
    set_state(c, State::writing);
    set_timer(c, Clock::now() + milliseconds(config_.idle_ms));
    on_writable(c); // usually the whole answer fits in the socket buffer at once
}

void Server::on_writable(Conn& c) {
    while (c.sent < c.out.size()) {
        ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                selector_->modify(c.fd.get(), EVENT_WRITE); // wake us when there is room
                return;
            }
            ++stats_.client_gone;
            return close(c);
        }
        c.sent += static_cast<std::size_t>(n);
    }
    if (c.linger) {
        trace(c, "written");
        // A bad request may still be arriving. Closing now, with unread bytes,
        // would send a reset that can destroy our answer before the client
        // reads it: say "no more from us" and read until the client closes.
        ::shutdown(c.fd.get(), SHUT_WR);
        c.linger = false;
        set_state(c, State::draining);
        selector_->modify(c.fd.get(), EVENT_READ);
        set_timer(c, Clock::now() + milliseconds(std::min(config_.idle_ms, 2000)));
        return;
    }
    trace(c, "written");
    close(c); // HTTP/1.0: the end of the connection marks the end of the body
}

void Server::set_state(Conn& c, State s) {
    if (c.state == State::waiting) --stats_.waiting;
    if (s == State::waiting) stats_.peak_waiting = std::max(stats_.peak_waiting, ++stats_.waiting);
    c.state = s;
}

void Server::set_timer(Conn& c, Clock::time_point due) {
    c.generation = next_generation_++; // the connection's older timer is now stale
    timers_.push(Timer{due, c.fd.get(), c.generation});
}

void Server::close(Conn& c) {
    trace(c, "closed");
    if (c.state == State::waiting) --stats_.waiting;
    --stats_.open;
    int fd = c.fd.get();
    if (selector_->contains(fd)) selector_->remove(fd);
    conns_[fd].reset(); // closes the socket; its pending timer goes stale
}

void Server::reset(Conn& c) {
    // SO_LINGER with a zero timeout: close() sends a reset (RST), not a FIN.
    linger abort{1, 0};
    ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    close(c);
}

} // namespace ladder
