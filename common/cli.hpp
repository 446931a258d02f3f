// Command-line flags. Every client stage shares the same ones (add_client_flags);
// a stage adds its own with flag()/option(). `--name value` and `--name=value`
// both work; a bad or unknown flag prints one line and exits 2; --help exits 0.
#pragma once

#include <string>
#include <vector>

namespace ladder {

class Cli {
  public:
    Cli(std::string program, std::string summary);

    Cli& flag(std::string name, bool* target, std::string help);
    Cli& option(std::string name, int* target, std::string help, int min, int max);
    Cli& option(std::string name, std::string* target, std::string help,
                std::vector<std::string> choices = {});
    // Flags for tests and debugging; parsed like the others but left out of --help.
    Cli& hidden(std::string name, int* target, int min, int max);

    void parse(int argc, char** argv);
    [[noreturn]] void
    fail(const std::string& message) const; // "prog: message (see --help)", exit 2
    const std::string& program() const { return program_; }

  private:
    struct Spec {
        std::string name, help;
        bool* flag = nullptr;
        int* number = nullptr;
        std::string* text = nullptr;
        int min = 0, max = 0;
        std::vector<std::string> choices;
        bool hidden = false;
    };
    void set(const Spec& spec, const std::string& value) const;
    void print_help() const;

    std::string program_, summary_;
    std::vector<Spec> specs_;
};

// The flags every client stage (01-09) shares.
struct ClientOptions {
    std::string host = "127.0.0.1";
    int port = 8080;
    int count = 10;
    int timeout_ms = 10000; // per page
    bool json = false;
    bool quiet = false;
    std::string trace; // --trace FILE: per-page moments as JSON lines
};

void add_client_flags(Cli& cli, ClientOptions& options);

// The flag of the event-driven stages: --selector epoll|poll|select.
void add_selector_flag(Cli& cli, std::string& selector);

// The size of 02's and 03's pool. `workers` is --workers, 0 when not given:
// then one worker per page, at most `cap` (past it, a note on stderr names the
// cap; `what` says what a worker is: "worker processes", "threads"). Never
// more workers than pages: a worker without a page would only idle.
int pool_size(const Cli& cli, int workers, int pages, int cap, const char* what);

} // namespace ladder
