// What the integration tests share: run a real stage binary with a time limit,
// start a real 00_server on a free port, ask it for /stats, and a tiny fake
// server that misbehaves on purpose.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace harness {

using namespace std::chrono_literals;

// build/stages/NN_name/NN_name
std::string stage_binary(const std::string& stage);
std::string build_root();
std::string source_root();

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
// process group when the object dies.
class Child {
  public:
    explicit Child(const std::vector<std::string>& argv);
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
class Server {
  public:
    explicit Server(std::vector<std::string> extra_args = {});
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

// Open fds of this process (for leak checks).
int count_open_fds();

// A whole file as a string ("" if it cannot be read).
std::string slurp(const std::string& path);
// A path in the test's temporary directory, unique to this process: TMP/ladder_PID_name.
std::string temp_path(const std::string& name);

} // namespace harness
