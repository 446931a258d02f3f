#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace ladder {

Cli::Cli(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

Cli& Cli::flag(std::string name, bool* target, std::string help) {
    Spec spec;
    spec.name = std::move(name);
    spec.help = std::move(help);
    spec.flag = target;
    specs_.push_back(std::move(spec));
    return *this;
}

Cli& Cli::option(std::string name, int* target, std::string help, int min, int max) {
    Spec spec;
    spec.name = std::move(name);
    spec.help = std::move(help);
    spec.number = target;
    spec.min = min;
    spec.max = max;
    specs_.push_back(std::move(spec));
    return *this;
}

Cli& Cli::option(std::string name, std::string* target, std::string help,
                 std::vector<std::string> choices) {
    Spec spec;
    spec.name = std::move(name);
    spec.help = std::move(help);
    spec.text = target;
    spec.choices = std::move(choices);
    specs_.push_back(std::move(spec));
    return *this;
}

Cli& Cli::hidden(std::string name, int* target, int min, int max) {
    option(std::move(name), target, "", min, max);
    specs_.back().hidden = true;
    return *this;
}

void Cli::fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s (see %s --help)\n", program_.c_str(), message.c_str(),
                 program_.c_str());
    std::exit(2);
}

void Cli::set(const Spec& spec, const std::string& value) const {
    if (spec.number) {
        int n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
            fail(spec.name + " expects a whole number, got '" + value + "'");
        if (n < spec.min || n > spec.max)
            fail(spec.name + " must be between " + std::to_string(spec.min) + " and " +
                 std::to_string(spec.max) + ", got " + value);
        *spec.number = n;
        return;
    }
    if (!spec.choices.empty()) {
        bool known = false;
        std::string list;
        for (const auto& c : spec.choices) {
            known = known || c == value;
            list += (list.empty() ? "" : ", ") + c;
        }
        if (!known) fail(spec.name + " must be one of " + list + ", got '" + value + "'");
    }
    *spec.text = value;
}

void Cli::parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            print_help();
            std::exit(0);
        }
        std::string value;
        bool inline_value = false;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
            inline_value = true;
        }
        const Spec* spec = nullptr;
        for (const auto& s : specs_)
            if (s.name == arg) spec = &s;
        if (!spec) fail("unknown argument '" + std::string(argv[i]) + "'");
        if (spec->flag) {
            if (inline_value) fail(spec->name + " takes no value");
            *spec->flag = true;
            continue;
        }
        if (!inline_value) {
            if (i + 1 == argc) fail(spec->name + " needs a value");
            value = argv[++i];
        }
        set(*spec, value);
    }
}

void Cli::print_help() const {
    std::printf("usage: %s [flags]\n%s\n\nflags:\n", program_.c_str(), summary_.c_str());
    for (const auto& s : specs_) {
        if (s.hidden) continue;
        std::string left = s.name;
        if (s.number) left += " N";
        if (s.text) left += " VALUE";
        std::string help = s.help;
        // A default outside [min, max] is a "not set" marker (e.g. --workers 0 = one per page).
        if (s.number && *s.number >= s.min && *s.number <= s.max)
            help += " (default " + std::to_string(*s.number) + ")";
        if (s.text && !s.text->empty()) help += " (default " + *s.text + ")";
        std::printf("  %-22s %s\n", left.c_str(), help.c_str());
    }
    std::printf("  %-22s %s\n", "--help", "show this help and exit");
}

void add_client_flags(Cli& cli, ClientOptions& o) {
    cli.option("--host", &o.host, "server address: an IPv4/IPv6 literal or localhost")
        .option("--port", &o.port, "server port", 1, 65535)
        .option("--count", &o.count, "how many pages to fetch", 1, 1'000'000)
        .option("--timeout-ms", &o.timeout_ms, "give up on a page after this long", 1, 3'600'000)
        .flag("--json", &o.json, "print the report as one JSON object on stdout")
        .flag("--quiet", &o.quiet, "no per-page lines on stderr")
        .option("--trace", &o.trace,
                "write when each page connected, sent, got its first "
                "byte and finished, as JSON lines, to this file");
}

void add_selector_flag(Cli& cli, std::string& selector) {
    cli.option("--selector", &selector, "event backend", {"epoll", "poll", "select"});
}

int pool_size(const Cli& cli, int workers, int pages, int cap, const char* what) {
    if (workers == 0) {
        workers = std::min(pages, cap);
        if (pages > cap)
            std::fprintf(stderr,
                         "%s: %d pages but only %d %s (the default cap); choose with --workers\n",
                         cli.program().c_str(), pages, workers, what);
    }
    return std::min(workers, pages);
}

} // namespace ladder
