// What the integration tests share: run a real stage binary with a time limit,
// start a real 00_server on a free port (misbehaving on purpose with --fault,
// if asked), ask it for /stats, a tiny fake server for what --fault cannot do,
// what /proc says about processes, and --trace files.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace harness {

using namespace std::chrono_literals;

// build/stages/NN_name/NN_name
std::string stage_binary(const std::string& stage);
std::string build_root();
std::string source_root();

// Why this machine cannot run `stage` (11_io_uring without io_uring): the
// line it printed when it exited 3, "skipped"; nullopt when it can run. Asked
// once per stage (a run with no server to talk to).
std::optional<std::string> skipped_here(const std::string& stage);

struct RunResult {
    int exit_code = -1; // -1 when killed by a signal or the time limit
    int signal = 0;
    bool timed_out = false;
    std::string out, err;
    double seconds = 0;
    nlohmann::json json() const; // stdout as exactly one JSON object (fails the test otherwise)
};

// Runs argv[0] with the rest as arguments, in its own process group; after
// `limit` the whole group is killed and timed_out is set.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds limit = 30s);

// A child process we start and must not leave behind: killed with its whole
// process group when the object dies. Its stderr goes to `stderr_path` when
// one is given, else where the test's own goes.
class Child {
  public:
    explicit Child(const std::vector<std::string>& argv, const std::string& stderr_path = "");
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    // The next line of stdout, or "" on EOF or after `limit`.
    std::string read_line(std::chrono::milliseconds limit = 10s);
    void signal(int sig);
    // Waits for exit; returns the exit code, 128+signal, or -1 after `limit` (then kills it).
    int wait(std::chrono::milliseconds limit = 10s);

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffered_;
    bool reaped_ = false;
};

// A real 00_server on a free port ("--port 0"), stopped at the end of the test.
// With a `stderr_path`, what it logs goes to that file.
class Server {
  public:
    explicit Server(std::vector<std::string> extra_args = {}, const std::string& stderr_path = "");
    int port() const { return port_; }
    std::string port_arg() const { return std::to_string(port_); }
    nlohmann::json stats(); // GET /stats
    void reset_stats();     // GET /stats?reset=1
    Child& process() { return child_; }

  private:
    static std::vector<std::string> argv(std::vector<std::string> extra);
    Child child_;
    int port_ = 0;
};

// One GET to 127.0.0.1:port; returns (status, body). Throws on failure.
std::pair<int, std::string> http_get(int port, const std::string& target,
                                     std::chrono::milliseconds limit = 5s);

// A port nobody listens on (bound, then closed).
int unused_port();

// A fake server for failure paths: accepts connections on a free port and runs
// `serve(fd)` on each in its own thread; closes everything when it dies.
class FakeServer {
  public:
    explicit FakeServer(std::function<void(int fd)> serve);
    ~FakeServer();
    int port() const { return port_; }
    std::string port_arg() const { return std::to_string(port_); }

  private:
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::function<void(int)> serve_;
    std::thread acceptor_;
    std::vector<std::thread> workers_;
};

// Reads one request head (until the blank line) from fd; returns it.
std::string read_request(int fd);

// Canned misbehaviours for FakeServer. require_server()'s reachability probe
// connects and sends nothing; it gets nothing back from either.
// Answers every request with `text` (garbage, a cut-off reply, the wrong page), then closes.
std::function<void(int fd)> replies_with(std::string text);
// Reads the request, then says nothing until the client gives up.
void never_replies(int fd);

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Runs a stage (argv) with "--port P --json --quiet" against a FakeServer that
// serves each connection with `serve`.
RunResult run_against(std::function<void(int fd)> serve, std::vector<std::string> argv,
                      std::chrono::milliseconds limit = 30s);

// Runs a stage (argv) with "--port P --json --quiet" against a real 00_server
// started with "--fault `fault` --delay-ms 0": every page goes wrong that way.
RunResult run_against_fault(const std::string& fault, std::vector<std::string> argv,
                            std::chrono::milliseconds limit = 30s);

// The fault modes that fail a page at once, and words every stage's error must
// contain for each (notes/00_server.md has the table; stall and trickle take
// time and have tests of their own).
struct FaultCase {
    std::string mode, error;
};
const std::vector<FaultCase>& quick_faults();

// --- what every stage's report and answers share ---------------------------------------------

// The report has every key common/report.hpp writes, and the stage's own `extra` ones.
void expect_report_keys(const nlohmann::json& report, const std::vector<std::string>& extra = {});
// A run of `stage` in which all `pages` pages came back ok, each with a page's
// worth of bytes, and at most `at_once` of them were in flight (the client's count).
void expect_every_page_ok(const nlohmann::json& report, const std::string& stage, int pages,
                          int at_once);
// The server's own view of that run: `pages` served, and at the peak exactly
// `at_once` connections open and `at_once` requests waiting out their delay.
void expect_server_saw(Server& server, int pages, int at_once);
// Every error the report kept contains `part` (and there is one at least).
void expect_errors_contain(const nlohmann::json& report, const std::string& part);
// A run in which each of `pages` pages failed with an error containing `part`,
// and the stage said so with exit code 1. Returns its report.
nlohmann::json expect_every_page_failed(const RunResult& r, int pages, const std::string& part);
// Runs a stage (argv) with "--port P" where nobody listens: it must say so in
// one line on stderr that names 00_server (what to start), print nothing on
// stdout and exit 1, without waiting out any timeout.
void expect_no_server_answer(std::vector<std::string> argv);

// Polls `cond` every 5 ms until it holds or `limit` passes; returns whether it
// held. For waiting on a fact (the server saw N requests, a process exited),
// never a sleep that hopes.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return cond();
}

// Open fds of this process (for leak checks).
int count_open_fds();

// --- what /proc says about processes -------------------------------------------------------

struct ProcInfo {
    char state = '?'; // R, S, Z (exited, not yet reaped), ...
    pid_t ppid = 0, pgrp = 0;
    double cpu_s = 0; // user + system CPU time so far
};
// From /proc/PID/stat; nullopt once the process is gone (reaped).
std::optional<ProcInfo> proc_info(pid_t pid);
std::vector<pid_t> all_pids();
std::vector<pid_t> children_of(pid_t parent);
// Every process in the group `leader` leads but the leader itself: a stage's
// forked workers, which stay in its group even after the stage is gone.
std::vector<pid_t> left_in_group(pid_t leader);
// True once `pid` has exited: gone, or a zombie its parent (the test) has not
// reaped yet. At that moment every worker it did not reap itself is still visible.
bool has_exited(pid_t pid);
// "pid (name) state" of each, for failure messages.
std::string describe(pid_t pid);
std::string describe(const std::vector<pid_t>& pids);

// --- files --------------------------------------------------------------------------------

// A --trace file: its header line, then one object per page.
struct TraceFile {
    nlohmann::json header;
    std::vector<nlohmann::json> pages;
};
TraceFile read_trace(const std::string& path);

// A whole file as a string ("" if it cannot be read).
std::string slurp(const std::string& path);
// A path in the test's temporary directory, unique to this process: TMP/ladder_PID_name.
std::string temp_path(const std::string& name);

} // namespace harness
