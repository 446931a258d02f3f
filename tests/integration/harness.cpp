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

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
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

// fork + exec in a new process group, with stdout (and maybe stderr) on pipes.
pid_t spawn(const std::vector<std::string>& argv, int* out_fd, int* err_fd) {
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

Child::Child(const std::vector<std::string>& argv) {
    pid_ = spawn(argv, &out_, nullptr);
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

Server::Server(std::vector<std::string> extra_args) : child_(argv(std::move(extra_args))) {
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

int count_open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1; // the directory stream's own fd
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), {});
}

std::string temp_path(const std::string& name) {
    return testing::TempDir() + "ladder_" + std::to_string(::getpid()) + "_" + name;
}

} // namespace harness
