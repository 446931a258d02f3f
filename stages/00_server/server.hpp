// The slow website: one thread, one event loop (the common selector plus a
// timer queue), thousands of connections. Every GET is answered after a delay
// with a small JSON page, then the connection is closed (HTTP/1.0 style).
#pragma once

#include "answer.hpp"
#include "http.hpp"
#include "net.hpp"
#include "selector.hpp"
#include "signals.hpp"
#include "timer_queue.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace ladder {

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8080;
    int delay_ms = 300;
    int jitter_ms = 0;   // each delay is moved by a uniform amount in [-jitter, +jitter]
    int body_bytes = 0;  // pad each page's body to at least this size
    int idle_ms = 10000; // a client must send its request (or read its answer) within this
    int seed = 0;        // for the jitter (0 picks a random seed) and the linked site
    int site_pages = 30; // /site/0 .. /site/N-1: the linked site (site.hpp)
    bool verbose = false;
    std::string trace_path; // --trace: one JSON line per connection event
    std::string selector = "epoll";
    std::string fault = "none"; // --fault: every page goes wrong this way (answer.hpp)
};

// What the server saw; GET /stats returns it as JSON.
struct ServerStats {
    long accepted = 0, open = 0, peak_open = 0, waiting = 0, peak_waiting = 0;
    long served = 0, bad_requests = 0, client_gone = 0, idle_closed = 0, accept_paused = 0;
    long faults = 0;         // requests answered the wrong way on purpose (--fault, ?fault=)
    long handler_errors = 0; // connections closed because serving them threw
    double max_late_ms = 0;  // the latest a delayed answer started after its due time
    nlohmann::json to_json() const;
    void reset(); // counters to zero, peaks to the current values
};

class Server {
  public:
    explicit Server(ServerConfig config);
    ~Server();
    const std::string& address() const { return address_; } // "127.0.0.1:PORT"
    const ServerStats& stats() const { return stats_; }

    // Serve until SIGINT/SIGTERM (or stop()).
    void run();
    void stop() { stopping_ = true; }

  private:
    enum class State { reading, waiting, writing, trickling, draining };
    struct Conn {
        Fd fd;
        State state = State::reading;
        std::uint64_t generation = 0; // matches the one live timer of this connection
        RequestParser parser;
        std::string path;
        int delay_ms = 0;
        std::string out;
        std::size_t sent = 0;
        bool linger = false; // drain the client's bytes before closing (after a bad request)
        Fault fault = Fault::none;
        Clock::time_point accepted_at;
        long id = 0; // the n-th accepted connection, for the trace
    };

    void on_event(int fd, unsigned events);
    template <typename Step>
    void guarded(int fd, Step step);
    void drop(int fd, const std::string& what);
    void accept_clients();
    void on_readable(Conn& c);
    void on_writable(Conn& c);
    void on_timer(Conn& c);
    void handle_answer(Conn& c, Answer answer);
    void answer_page(Conn& c);
    void trickle_one_byte(Conn& c);
    void respond(Conn& c, int status, std::string_view reason, const std::string& body);
    void send_bytes(Conn& c, std::string bytes);
    void set_timer(Conn& c, Clock::time_point due);
    void set_state(Conn& c, State s);
    void close(Conn& c);
    void reset(Conn& c);
    void trace(const Conn& c, const char* event);
    int next_delay_ms();
    void fire_timers();
    Timeout time_to_next_timer() const;

    ServerConfig config_;
    Site site_; // the linked site, made from config_
    std::string last_watch_error_; // why the last new connection could not be watched
    Fault fault_ = Fault::none; // config_.fault
    std::unique_ptr<Selector> selector_;
    StopSignals signals_;
    Fd listener_;
    std::string address_;
    std::vector<std::unique_ptr<Conn>> conns_; // indexed by fd
    TimerQueue timers_;
    std::uint64_t next_generation_ = 1;
    long accepted_total_ = 0;
    Clock::time_point accept_resume_{}; // while out of fds, accepting pauses until then
    bool stopping_ = false;
    std::mt19937 rng_;
    ServerStats stats_;
    std::FILE* trace_ = nullptr;
};

} // namespace ladder
