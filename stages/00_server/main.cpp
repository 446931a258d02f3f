// 00_server — the slow website every stage of the ladder talks to.
//
//   build/stages/00_server/00_server --port 8080 --delay-ms 300
//
// It prints "listening on HOST:PORT" once it accepts connections, then serves
// until Ctrl-C. GET /any/path answers after the delay; GET /stats at once.
#include "cli.hpp"
#include "server.hpp"

#include <cstdio>
#include <exception>

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
        .option("--seed", &config.seed, "seed for the jitter (0: random)", 0, 1 << 30)
        .option("--selector", &config.selector, "event backend", {"epoll", "poll", "select"})
        .option("--trace", &config.trace_path, "write each connection's events to this file")
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
