// ./ladder loop: the turns of a stage's event loop as text and as a page, and
// that page in a real headless Chromium showing the turn its link names.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

using namespace harness;

namespace {

RunResult ladder_loop(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/env", "python3",
                                     source_root() + "/tools/ladder_cli.py", "--build",
                                     build_root(), "loop"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 60s);
}

// "... turns recorded (of N) in PATH": where the stepper left the recording.
std::string recording_path(const std::string& out) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("turns recorded \\(of [0-9?]+\\) in (\\S+)")))
        << out;
    std::string path = m.size() > 1 ? m[1].str() : "";
    // Relative to the stepper's working directory, which is ours (meson test: the build dir).
    return path.empty() ? path : std::filesystem::absolute(path).string();
}

std::vector<nlohmann::json> recorded_turns(const std::string& path) {
    std::vector<nlohmann::json> turns;
    std::istringstream lines(slurp(path));
    for (std::string line; std::getline(lines, line);)
        if (auto j = nlohmann::json::parse(line); j["type"] == "turn") turns.push_back(j);
    return turns;
}

int lines_starting(const std::string& text, const std::string& start) {
    int n = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) n += line.rfind(start, 0) == 0;
    return n;
}

// <body ...>'s attribute `name` in a dumped DOM, "" when absent.
std::string body_attribute(const std::string& dom, const std::string& name) {
    std::smatch body, attr;
    if (!std::regex_search(dom, body, std::regex("<body[^>]*>"))) return "";
    std::string tag = body.str();
    if (!std::regex_search(tag, attr, std::regex(" " + name + "=\"([^\"]*)\""))) return "";
    return attr[1].str();
}

int count_of(const std::string& text, const std::string& part) {
    int n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// Chromium's processes that use `profile` (its --user-data-dir), zombies left out.
std::vector<pid_t> chromium_using(const std::string& profile) {
    std::vector<pid_t> pids;
    for (pid_t pid : all_pids()) {
        auto p = proc_info(pid);
        if (p && p->state != 'Z' &&
            contains(slurp("/proc/" + std::to_string(pid) + "/cmdline"), profile))
            pids.push_back(pid);
    }
    return pids;
}

} // namespace

TEST(LoopStepper, TextShowsEveryRecordedTurn) {
    auto r = ladder_loop({"07", "--count", "3", "--text"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto turns = recorded_turns(recording_path(r.out));
    ASSERT_GE(turns.size(), 2u) << "a connect turn and a read turn at least";
    EXPECT_EQ(lines_starting(r.out, "turn "), static_cast<int>(turns.size())) << r.out;
    for (const char* part : {"  waiting  ", "  selector slept ", "  fds      ", "  ready    ",
                             "  steps    ", "  after    "})
        EXPECT_EQ(lines_starting(r.out, part), static_cast<int>(turns.size())) << part;
    EXPECT_TRUE(contains(r.out, "fetch:")) << "07's steps are named after their co_await";
}

TEST(LoopStepper, AStageOfExperimentsIsSteppedThroughOneOfThemUnlessTold) {
    // 09 runs every experiment by default (thousands of turns); the stepper
    // picks `mixed`, and a --demo given is kept.
    auto r = ladder_loop({"09", "--text"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "stepping through 09_executors's 'mixed' experiment")) << r.err;
    EXPECT_TRUE(contains(r.out, "fetch:")) << "mixed fetches pages on the loop";
    EXPECT_LT(recorded_turns(recording_path(r.out)).size(), 200u);
    auto cpu = ladder_loop({"09", "--demo", "cpu", "--jobs", "2", "--size", "100000", "--text"});
    ASSERT_EQ(cpu.exit_code, 0) << cpu.out << cpu.err;
    EXPECT_FALSE(contains(cpu.err, "stepping through")) << cpu.err;
    EXPECT_FALSE(contains(cpu.out, "fetch:")) << "cpu fetches no page";
}

TEST(LoopStepper, WritesOneSelfContainedPage) {
    std::string page = temp_path("l.html");
    auto r = ladder_loop({"05", "--count", "3", "--html", page});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string html = slurp(page);
    EXPECT_TRUE(contains(html, "<svg")) << "the page timeline";
    EXPECT_TRUE(contains(html, "\"stage\": \"05_callbacks\"")) << "the recording, embedded";
    EXPECT_TRUE(contains(html, "page 0 on_connected"));
    for (const char* outside : {"src=", "<link", "http://", "https://"}) {
        std::string rest = html;
        // The SVG namespace is a name, not a download.
        for (auto at = rest.find("http://www.w3.org/2000/svg"); at != std::string::npos;
             at = rest.find("http://www.w3.org/2000/svg"))
            rest.erase(at, 26);
        EXPECT_FALSE(contains(rest, outside)) << outside << ": self-contained";
    }
    std::remove(page.c_str());
}

TEST(LoopStepper, BadInputSaysWhatIsWrongInOneLineAndExits2) {
    auto stage = ladder_loop({"04", "--text"});
    EXPECT_EQ(stage.exit_code, 2);
    EXPECT_EQ(count_of(stage.err, "\n"), 1) << stage.err;
    EXPECT_TRUE(contains(stage.err, "05 06 07 08 09")) << stage.err;
    for (std::vector<std::string> args : {std::vector<std::string>{"07"},
                                          {"07", "--text", "--html", temp_path("x.html")}}) {
        auto r = ladder_loop(args);
        EXPECT_EQ(r.exit_code, 2) << args.size();
        EXPECT_EQ(count_of(r.err, "\n"), 1) << r.err;
        EXPECT_TRUE(contains(r.err, "--html FILE or --text")) << r.err;
    }
}

TEST(LoopStepper, AFailingStageSaysWhyAndFails) {
    auto r = ladder_loop({"07", "--text", "--no-such-flag"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "07_coroutines: unknown argument '--no-such-flag'")) << r.err;
    EXPECT_EQ(lines_starting(r.out, "turn "), 0) << r.out;
}

// The page in a real browser: opened at #turn=2, it must show turn 2 and draw
// as many boxes as that turn's line in the recording lists.
TEST(LoopStepper, ChromiumOpensThePageAtTheTurnItsLinkNames) {
    if (::access("/usr/bin/chromium", X_OK) != 0)
        GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
    std::string page = temp_path("browser.html");
    auto r = ladder_loop({"05", "--count", "3", "--html", page});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto turns = recorded_turns(recording_path(r.out));
    auto turn = std::find_if(turns.begin(), turns.end(), [](auto& t) { return t["turn"] == 2; });
    ASSERT_NE(turn, turns.end()) << "05 at 3 pages has a turn 2 (the answers arrive)";

    std::string profile = temp_path("chromium-profile");
    std::filesystem::create_directories(profile);
    auto dump = run({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
                     "--virtual-time-budget=2000", "--dump-dom", "file://" + page + "#turn=2"},
                    60s);
    // Its helpers (zygote, renderer) must not outlive it: run() killed its process
    // group on a timeout; anything that left the group goes now.
    for (pid_t pid : chromium_using(profile)) ::kill(pid, SIGKILL);
    EXPECT_TRUE(eventually([&] { return chromium_using(profile).empty(); }, 5s));
    std::filesystem::remove_all(profile);
    ASSERT_FALSE(dump.timed_out) << dump.err;
    ASSERT_EQ(dump.exit_code, 0) << dump.err;

    EXPECT_EQ(body_attribute(dump.out, "data-error"), "") << "a script error";
    EXPECT_EQ(body_attribute(dump.out, "data-turn"), "2") << dump.out.substr(0, 2000);
    EXPECT_EQ(body_attribute(dump.out, "data-turns"), std::to_string(turns.size()));
    for (const char* list : {"waiting", "fds", "steps", "ready"}) {
        auto expected = std::to_string((*turn)[list].size());
        EXPECT_EQ(body_attribute(dump.out, std::string("data-") + list), expected) << list;
        // And the boxes are really there, in the DOM.
        EXPECT_EQ(count_of(dump.out, std::string("data-column=\"") + list + "\""),
                  static_cast<int>((*turn)[list].size()))
            << list;
    }
    std::remove(page.c_str());
}
