#include "harness.hpp"

#include "http.hpp"
#include "net.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#ifndef LADDER_BUILD_ROOT
#error "meson passes LADDER_BUILD_ROOT"
#endif

namespace harness {

using Clock = std::chrono::steady_clock;

std::string build_root() {
    return LADDER_BUILD_ROOT;
}
std::string source_root() {
    return LADDER_SOURCE_ROOT;
}

std::string stage_binary(const std::string& stage) {
    return std::string(LADDER_BUILD_ROOT) + "/stages/" + stage + "/" + stage;
}

namespace {

// fork + exec in a new process group, with stdout (and maybe stderr) on pipes,
// or stderr into the file `err_path`.
pid_t spawn(const std::vector<std::string>& argv, int* out_fd, int* err_fd,
            const std::string& err_path = "") {
    int out[2], err[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    if (err_fd && ::pipe2(err, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) { // only async-signal-safe calls until exec: the test may have threads
        ::setpgid(0, 0);
        ::dup2(out[1], 1);
        if (err_fd) ::dup2(err[1], 2);
        if (!err_path.empty()) {
            int file = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (file >= 0) ::dup2(file, 2);
        }
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid); // also from the parent, so a kill right away reaches the group
    ::close(out[1]);
    *out_fd = out[0];
    if (err_fd) {
        ::close(err[1]);
        *err_fd = err[0];
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

} // namespace

nlohmann::json RunResult::json() const {
    auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "stdout is not one JSON object: " << out << "\nstderr: " << err;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "expected exactly one line: " << out;
    return j.is_object() ? j : nlohmann::json::object();
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
    RunResult r;
    auto start = Clock::now();
    int out = -1, err = -1;
    pid_t pid = spawn(argv, &out, &err);
    pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    int open = 2;
    while (open > 0) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(start + limit - Clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        for (auto& p : fds) {
            if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            ssize_t n = ::read(p.fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(p.fd);
                p.fd = -1;
                --open;
            } else {
                (p.fd == out ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& p : fds)
        if (p.fd >= 0) ::close(p.fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Anything the stage left in its process group (a forked worker) goes too.
    ::kill(-pid, SIGKILL);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    return r;
}

// --- Child ------------------------------------------------------------------------------

Child::Child(const std::vector<std::string>& argv, const std::string& stderr_path) {
    pid_ = spawn(argv, &out_, nullptr, stderr_path);
}

Child::~Child() {
    if (!reaped_) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
}

std::string Child::read_line(std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    for (;;) {
        if (auto nl = buffered_.find('\n'); nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return "";
        pollfd p{out_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(out_, buf, sizeof buf);
        if (n <= 0) return "";
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
}

void Child::signal(int sig) {
    ::kill(pid_, sig);
}

int Child::wait(std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            ::kill(-pid_, SIGKILL); // leftovers in its group
            return decode_status(status);
        }
        std::this_thread::sleep_for(5ms);
    }
    return -1;
}

// --- Server -----------------------------------------------------------------------------

std::vector<std::string> Server::argv(std::vector<std::string> extra) {
    std::vector<std::string> a = {stage_binary("00_server"), "--port", "0"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

Server::Server(std::vector<std::string> extra_args, const std::string& stderr_path)
    : child_(argv(std::move(extra_args)), stderr_path) {
    std::string line = child_.read_line(10s);
    auto colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos)
        throw std::runtime_error("00_server did not start: '" + line + "'");
    port_ = std::stoi(line.substr(colon + 1));
}

nlohmann::json Server::stats() {
    return nlohmann::json::parse(http_get(port_, "/stats").second);
}
void Server::reset_stats() {
    http_get(port_, "/stats?reset=1");
}

std::pair<int, std::string> http_get(int port, const std::string& target,
                                     std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    auto server = ladder::resolve("127.0.0.1", port);
    ladder::Fd sock = ladder::connect_blocking(server, deadline);
    ladder::send_all_blocking(sock.get(), ladder::build_request(server.text, target), deadline);
    ladder::ResponseParser parser;
    char buf[4096];
    while (std::size_t n = ladder::recv_blocking(sock.get(), buf, deadline))
        parser.feed(std::string_view(buf, n));
    parser.finish();
    return {parser.status(), parser.body()};
}

std::optional<std::string> skipped_here(const std::string& stage) {
    static std::map<std::string, std::optional<std::string>> known;
    if (auto it = known.find(stage); it != known.end()) return it->second;
    auto r = run({stage_binary(stage), "--count", "1", "--port", std::to_string(unused_port())});
    return known[stage] = r.exit_code == 3 ? std::optional(r.err) : std::nullopt;
}

int unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    int port = ladder::local_port(fd);
    ::close(fd); // nobody listens there now; the kernel rarely hands it out again at once
    return port;
}

// --- FakeServer -------------------------------------------------------------------------

FakeServer::FakeServer(std::function<void(int)> serve) : serve_(std::move(serve)) {
    ladder::Fd lf = ladder::listen_tcp(ladder::resolve("127.0.0.1", 0), 64);
    port_ = ladder::local_port(lf.get());
    listen_fd_ = lf.release();
    acceptor_ = std::thread([this] {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            workers_.emplace_back([this, fd] {
                serve_(fd);
                ::close(fd);
            });
        }
    });
}

FakeServer::~FakeServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& w : workers_) w.join();
    ::close(listen_fd_);
}

std::string read_request(int fd) {
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
    return head;
}

std::function<void(int)> replies_with(std::string text) {
    return [text = std::move(text)](int fd) {
        if (read_request(fd).empty()) return; // the reachability probe
        ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    };
}

void never_replies(int fd) {
    read_request(fd);
    char c;
    while (::recv(fd, &c, 1, 0) > 0) {
    } // until the client closes (or FakeServer's end shuts the socket)
}

RunResult run_against(std::function<void(int)> serve, std::vector<std::string> argv,
                      std::chrono::milliseconds limit) {
    FakeServer fake(std::move(serve));
    argv.insert(argv.end(), {"--port", fake.port_arg(), "--json", "--quiet"});
    return run(argv, limit);
}

RunResult run_against_fault(const std::string& fault, std::vector<std::string> argv,
                            std::chrono::milliseconds limit) {
    Server server({"--fault", fault, "--delay-ms", "0"}, "/dev/null"); // --fault throw logs
    argv.insert(argv.end(), {"--port", server.port_arg(), "--json", "--quiet"});
    return run(argv, limit);
}

const std::vector<FaultCase>& quick_faults() {
    static const std::vector<FaultCase> cases = {
        {"reset", "Connection reset by peer"},
        {"reset-after-delay", "Connection reset by peer"},
        {"close-early", "empty response: the server closed without answering"},
        {"truncate-head", "truncated response: it ended inside the headers"},
        {"truncate-body", "truncated response: got "},
        {"garbage", "not an HTTP response: 'this is not HTTP"},
        {"wrong-length", "more bytes than Content-Length announced"},
        {"throw", "empty response: the server closed without answering"},
    };
    return cases;
}

void expect_report_keys(const nlohmann::json& report, const std::vector<std::string>& extra) {
    std::vector<std::string> keys = {
        "stage",           "requests",       "ok",    "failed",     "bytes",
        "wall_s",          "user_s",         "sys_s", "max_rss_kb", "ctx_voluntary",
        "ctx_involuntary", "peak_in_flight", "errors"};
    keys.insert(keys.end(), extra.begin(), extra.end());
    for (const auto& key : keys) EXPECT_TRUE(report.contains(key)) << key << " in " << report;
}

void expect_every_page_ok(const nlohmann::json& report, const std::string& stage, int pages,
                          int at_once) {
    EXPECT_EQ(report["stage"], stage);
    EXPECT_EQ(report["ok"], pages);
    EXPECT_EQ(report["failed"], 0);
    EXPECT_TRUE(report["errors"].empty()) << report["errors"];
    EXPECT_GT(report["bytes"].get<long>(), pages * 60); // a JSON page and its headers
    EXPECT_EQ(report["peak_in_flight"], at_once);
}

void expect_server_saw(Server& server, int pages, int at_once) {
    auto s = server.stats();
    EXPECT_EQ(s["served"], pages);
    EXPECT_EQ(s["peak_open_connections"], at_once);
    EXPECT_EQ(s["peak_waiting"], at_once);
}

void expect_no_server_answer(std::vector<std::string> argv) {
    argv.insert(argv.end(), {"--port", std::to_string(unused_port())});
    auto r = run(argv, 20s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1); // require_server: exit 1 when nobody answers
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(contains(r.err, "no server at 127.0.0.1:")) << r.err;
    EXPECT_TRUE(contains(r.err, "00_server")) << r.err;
    EXPECT_EQ(r.out, "");
}

void expect_errors_contain(const nlohmann::json& report, const std::string& part) {
    ASSERT_FALSE(report["errors"].empty()) << report.dump();
    for (const auto& e : report["errors"])
        EXPECT_NE(e.get<std::string>().find(part), std::string::npos) << e;
}

nlohmann::json expect_every_page_failed(const RunResult& r, int pages, const std::string& part) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto j = r.json();
    EXPECT_EQ(j["failed"], pages);
    expect_errors_contain(j, part);
    return j;
}

int count_open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1; // the directory stream's own fd
}

// --- /proc ------------------------------------------------------------------------------

std::optional<ProcInfo> proc_info(pid_t pid) {
    std::string text = slurp("/proc/" + std::to_string(pid) + "/stat");
    // "pid (name) state ppid pgrp ...": the name may hold spaces and parentheses.
    auto paren = text.rfind(')');
    if (paren == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(paren + 2));
    ProcInfo p;
    if (!(rest >> p.state >> p.ppid >> p.pgrp)) return std::nullopt;
    // Fields 6 to 13 (session ... cmajflt), then 14 utime and 15 stime, in clock ticks.
    std::string skipped;
    for (int field = 6; field <= 13; ++field) rest >> skipped;
    long long utime = 0, stime = 0;
    if (rest >> utime >> stime)
        p.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    return p;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    if (DIR* d = ::opendir("/proc")) {
        while (dirent* e = ::readdir(d))
            if (std::isdigit(static_cast<unsigned char>(e->d_name[0])))
                pids.push_back(static_cast<pid_t>(std::stol(e->d_name)));
        ::closedir(d);
    }
    return pids;
}

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> kids;
    for (pid_t pid : all_pids())
        if (auto p = proc_info(pid); p && p->ppid == parent) kids.push_back(pid);
    return kids;
}

std::vector<pid_t> left_in_group(pid_t leader) {
    std::vector<pid_t> left;
    for (pid_t pid : all_pids())
        if (auto p = proc_info(pid); p && p->pgrp == leader && pid != leader) left.push_back(pid);
    return left;
}

bool has_exited(pid_t pid) {
    auto p = proc_info(pid);
    return !p || p->state == 'Z';
}

std::string describe(pid_t pid) {
    std::string text = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto paren = text.rfind(')');
    return paren == std::string::npos ? std::to_string(pid) + " (gone)" : text.substr(0, paren + 3);
}

std::string describe(const std::vector<pid_t>& pids) {
    std::string all;
    for (pid_t pid : pids) all += describe(pid) + "; ";
    return all;
}

// --- files ------------------------------------------------------------------------------

TraceFile read_trace(const std::string& path) {
    TraceFile t;
    std::ifstream f(path);
    for (std::string line; std::getline(f, line);) {
        auto j = nlohmann::json::parse(line);
        if (j["type"] == "header")
            t.header = j;
        else
            t.pages.push_back(j);
    }
    return t;
}

std::string slurp(const std::string& path) {
    // Plain read(), not an ifstream: reading /proc/PID/... of a process that
    // exits meanwhile fails with ESRCH, which libstdc++'s filebuf turns into
    // an exception. Here it just ends the text, as for a file that is gone.
    std::string text;
    ladder::Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f) return text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(f.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
}

std::string temp_path(const std::string& name) {
    return testing::TempDir() + "ladder_" + std::to_string(::getpid()) + "_" + name;
}

} // namespace harness
