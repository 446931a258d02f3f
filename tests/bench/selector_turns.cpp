// selector_turns — what one turn of an event loop costs each backend when many
// connections are open but idle. For N = 10, 1,000 and 5,000 it opens N socket
// pairs, watches one end of each for reading, makes one of them readable and
// times select(0) calls: each returns that one ready fd. What a turn costs
// beyond that is the price of the idle ones. Not part of meson test.
//
//   build/tests/bench/selector_turns [--repeat 5] [--ms 100]
#include "cli.hpp"
#include "error.hpp"
#include "net.hpp"
#include "selector.hpp"

#include <fcntl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace ladder;

namespace {

struct Size {
    int connections;
    const char* label;
};
constexpr Size sizes[] = {{10, "10"}, {1000, "1,000"}, {5000, "5,000"}};
constexpr const char* backends[] = {"select", "poll", "epoll"};

// N connected pairs. The watched ends take the lowest fds (3, 4, 5, ...) and
// their peers are moved above them, as a server's client sockets would sit
// in a row: so select can watch 1,000 of them, all below FD_SETSIZE.
struct IdleConnections {
    std::vector<Fd> watched, peers;

    explicit IdleConnections(int n) {
        int peers_from = n + 64; // above every watched end and the fds the process had already
        for (int i = 0; i < n; ++i) {
            int fds[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                throw_errno("socketpair");
            watched.emplace_back(fds[0]);
            Fd peer(fds[1]);
            int moved = ::fcntl(peer.get(), F_DUPFD_CLOEXEC, peers_from);
            if (moved < 0) throw_errno("fcntl(F_DUPFD)");
            peers.emplace_back(moved); // `peer` closes its low fd: the next pair reuses it
        }
    }
};

// This thread's CPU time. A turn never sleeps (select(0)), so its CPU time is
// its cost, without the moments other processes on a busy machine hold the core.
double cpu_ns() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return 1e9 * static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec);
}

// CPU nanoseconds per select(0) turn, over about `ms` milliseconds of turning.
double time_turns(Selector& sel, std::chrono::milliseconds ms) {
    long turns = 0;
    double start = cpu_ns(), now = start, end = start + 1e6 * static_cast<double>(ms.count());
    while (now < end) {
        for (int i = 0; i < 100; ++i, ++turns)
            if (sel.select(std::chrono::nanoseconds(0)).size() != 1)
                throw std::runtime_error("a turn did not return exactly the one ready fd");
        now = cpu_ns();
    }
    return (now - start) / static_cast<double>(turns);
}

// The median cost of a turn for one backend with n idle connections, or
// nullopt when the backend cannot watch them (select past fd 1023).
std::optional<double> measure(const char* backend, int n, int repeat,
                              std::chrono::milliseconds ms) {
    IdleConnections conns(n);
    auto sel = make_selector(backend);
    try {
        for (const Fd& fd : conns.watched) sel->add(fd.get(), EVENT_READ);
    } catch (const SelectorLimitError&) {
        return std::nullopt;
    }
    // The newest connection (the highest fd) has something to read, forever:
    // level-triggered, every turn reports it again.
    if (::send(conns.peers.back().get(), "x", 1, MSG_NOSIGNAL) != 1) throw_errno("send");
    time_turns(*sel, ms / 5); // warm up: caches, page faults, CPU frequency
    std::vector<double> ns;
    for (int i = 0; i < repeat; ++i) ns.push_back(time_turns(*sel, ms));
    std::sort(ns.begin(), ns.end());
    return ns[ns.size() / 2];
}

std::string cell(std::optional<double> ns) {
    char text[32];
    if (!ns) return "refused";
    std::snprintf(text, sizeof text, *ns < 10'000 ? "%.2f us" : "%.0f us", *ns / 1000);
    return text;
}

} // namespace

int main(int argc, char** argv) {
    int repeat = 5, ms = 100;
    Cli cli("selector_turns", "The cost of one selector turn with 10, 1,000 and 5,000 idle "
                              "connections, for select, poll and epoll.");
    cli.option("--repeat", &repeat, "timed runs per cell; the table shows their median", 1, 100)
        .option("--ms", &ms, "how long each timed run turns", 1, 10'000);
    cli.parse(argc, argv);
    long limit = raise_fd_limit();
    int most = sizes[2].connections;
    if (limit < 2 * most + 200) {
        std::fprintf(stderr, "selector_turns: %d connections need %d fds, the limit is %ld\n", most,
                     2 * most + 200, limit);
        return 1;
    }

    utsname host{};
    ::uname(&host);
    std::printf("CPU time of one select(0) turn, one fd ready among N idle connections; median "
                "of %d runs of %d ms\n(%u cores, %s %s)\n\n",
                repeat, ms, std::thread::hardware_concurrency(), host.sysname, host.release);
    std::printf("%-12s", "connections");
    for (const char* b : backends) std::printf("%12s", b);
    std::printf("\n");
    bool refused = false;
    try {
        for (auto [n, label] : sizes) {
            std::printf("%-12s", label);
            std::fflush(stdout);
            for (const char* b : backends) {
                auto ns = measure(b, n, repeat, std::chrono::milliseconds(ms));
                refused = refused || !ns;
                std::printf("%12s", cell(ns).c_str());
                std::fflush(stdout);
            }
            std::printf("\n");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nselector_turns: %s\n", e.what());
        return 1;
    }
    if (refused)
        std::printf("\nrefused: select() has no bit for fd %d and up (FD_SETSIZE)\n", FD_SETSIZE);
    return 0;
}
