// c10k_client — how many delayed requests can 00_server hold at once, and how
// late does it answer them? A load client, not a stage: it opens --count
// connections as fast as it can, sends one GET on each, and measures for each
// answer how far after the server's delay it arrived. Not part of meson test.
//
//   build/tests/bench/c10k_client --port P --count 10000 --delay-ms 1000
#include "cli.hpp"
#include "http.hpp"
#include "net.hpp"
#include "page.hpp"
#include "selector.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace ladder;

struct Conn {
    Fd fd;
    std::string request;
    ResponseParser response;
    Clock::time_point sent_at{};
    bool done = false, failed = false;
    double late_ms = 0; // answer time minus the delay
};

int main(int argc, char** argv) {
    ClientOptions opt;
    opt.count = 10000;
    int delay_ms = 1000;
    int ramp_ms = 0;
    Cli cli("c10k_client", "Hold --count delayed requests open at once; measure lateness.");
    add_client_flags(cli, opt);
    cli.option("--delay-ms", &delay_ms, "the delay each request asks for", 0, 600000);
    cli.option("--ramp-ms", &ramp_ms, "spread the connections evenly over this long", 0, 600000);
    cli.parse(argc, argv);
    raise_fd_limit();
    Endpoint server = require_server("c10k_client", opt);
    auto sel = make_selector("epoll");
    std::vector<Conn> conns(static_cast<std::size_t>(opt.count));
    auto start = Clock::now();
    int opened = 0;
    auto open_due_connections = [&] { // connection i starts at start + i * ramp / count
        while (opened < opt.count &&
               Clock::now() >= start + std::chrono::milliseconds(ramp_ms) * opened / opt.count) {
            Conn& c = conns[opened];
            c.fd = open_stream_socket(server);
            start_connect(c.fd.get(), server);
            c.request = build_request(server.text,
                                      page_path(opened) + "?delay_ms=" + std::to_string(delay_ms));
            sel->add(c.fd.get(), EVENT_WRITE, &c);
            ++opened;
        }
    };
    int left = opt.count;
    auto deadline =
        start + std::chrono::milliseconds(opt.timeout_ms) + std::chrono::milliseconds(delay_ms);
    while (left > 0 && Clock::now() < deadline) {
        open_due_connections();
        Timeout wait = deadline - Clock::now();
        if (opened < opt.count) wait = std::chrono::milliseconds(1);
        for (const Ready& r : sel->select(wait)) {
            Conn& c = *static_cast<Conn*>(r.key.data);
            if (r.key.events == EVENT_WRITE) { // connected (or failed): send the request at once
                ssize_t n = ::send(c.fd.get(), c.request.data(), c.request.size(), MSG_NOSIGNAL);
                c.sent_at = Clock::now();
                if (n != static_cast<ssize_t>(c.request.size()))
                    c.failed = true;
                else
                    sel->modify(c.fd.get(), EVENT_READ);
            } else {
                char buf[4096];
                ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
                if (n > 0) {
                    c.response.feed(std::string_view(buf, static_cast<std::size_t>(n)));
                    continue;
                }
                c.failed = n < 0 || (c.response.finish(), c.response.status() != 200);
                c.late_ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - c.sent_at).count() -
                    delay_ms;
            }
            if (c.failed || r.key.events == EVENT_READ) {
                sel->remove(c.fd.get());
                c.fd.reset();
                c.done = true;
                --left;
            }
        }
    }
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> late;
    int failed = 0;
    for (const Conn& c : conns) {
        if (!c.done || c.failed)
            ++failed;
        else
            late.push_back(c.late_ms);
    }
    std::sort(late.begin(), late.end());
    auto pct = [&](double p) {
        return late.empty() ? 0.0 : late[static_cast<std::size_t>(p * (late.size() - 1))];
    };
    std::printf("c10k_client: %d requests x %d ms delay: %zu ok, %d failed in %.3f s; "
                "answer lateness after the delay: median %.1f ms, p99 %.1f ms, max %.1f ms\n",
                opt.count, delay_ms, late.size(), failed, wall, pct(0.5), pct(0.99), pct(1.0));
    return failed == 0 ? 0 : 1;
}
