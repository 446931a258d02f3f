// 00_server — the slow website every stage of the ladder talks to.
//
//   build/stages/00_server/00_server --port 8080 --delay-ms 300
//
// It prints "listening on HOST:PORT" once it accepts connections, then serves
// until Ctrl-C. GET /any/path answers after the delay; GET /stats at once.
// --fault MODE (or ?fault=MODE on one request) makes the answers go wrong on
// purpose, so a class can watch each stage meet a bad server (answer.hpp).
#include "cli.hpp"
#include "server.hpp"

#include <cstdio>
#include <exception>
#include <string>

// "--fault: answer every page wrongly on purpose: reset, stall, ..."
static std::string fault_help() {
    std::string help = "answer every page wrongly on purpose (notes/00_server.md):";
    for (const auto& name : ladder::fault_names()) help += " " + name;
    return help + "; one request: ?fault=MODE";
}

int main(int argc, char** argv) {
    ladder::ServerConfig config;
    ladder::Cli cli("00_server", "The local slow website: answers every GET after a delay.");
    cli.option("--host", &config.host, "address to listen on (loopback unless you ask)")
        .option("--port", &config.port, "port to listen on; 0 picks a free one", 0, 65535)
        .option("--delay-ms", &config.delay_ms, "how long each page takes", 0, 600'000)
        .option("--jitter-ms", &config.jitter_ms, "move each delay by up to +/- this", 0, 600'000)
        .option("--body-bytes", &config.body_bytes, "pad each page to at least this size", 0,
                16 << 20)
        .option("--idle-ms", &config.idle_ms, "close clients silent for this long", 1, 3'600'000)
        .option("--seed", &config.seed,
                "seed for the jitter (0: random) and the linked site (0: seed 1)", 0, 1 << 30)
        .option("--site-pages", &config.site_pages, "pages of the linked site /site/0..N-1", 1,
                100'000)
        .option("--selector", &config.selector, "event backend", {"epoll", "poll", "select"})
        .option("--trace", &config.trace_path, "write each connection's events to this file")
        .option("--fault", &config.fault, fault_help(), ladder::fault_names())
        .flag("--verbose", &config.verbose, "log every answer on stderr");
    cli.parse(argc, argv);
    try {
        ladder::Server server(config);
        std::printf("listening on %s\n", server.address().c_str());
        std::fflush(stdout); // tests and ./ladder wait for this line
        server.run();
        std::fprintf(stderr, "00_server: stopped after serving %ld pages\n", server.stats().served);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "00_server: %s\n", e.what());
        return 1;
    }
}
