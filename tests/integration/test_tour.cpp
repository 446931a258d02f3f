// The class tour, ./ladder compare and ./ladder bench, end to end on a tiny
// preset: what they print, the JSON and SVG they write, the environment block
// above their tables (tools/environment.py), and that killing them leaves
// nothing behind.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> runner(std::vector<std::string> args, const std::string& env = "") {
    std::vector<std::string> argv = {"/usr/bin/env"};
    if (!env.empty()) argv.push_back(env);
    argv.insert(argv.end(),
                {"python3", source_root() + "/tools/ladder_cli.py", "--build", build_root()});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// The build folder as the tour prints it: relative to the source folder.
std::string relative_build() {
    std::string root = source_root() + "/", build = build_root();
    return build.rfind(root, 0) == 0 ? build.substr(root.size()) : build;
}

// The client stages that were built, in ladder order.
std::vector<std::string> built_stages() {
    std::vector<std::string> stages;
    for (const char* s :
         {"01_blocking", "02_process_pool", "03_thread_pool", "04_busy_loop", "05_callbacks",
          "06_generators", "07_coroutines", "08_toolkit", "09_executors", "10_green_threads",
          "11_io_uring"})
        if (::access(stage_binary(s).c_str(), X_OK) == 0) stages.push_back(s);
    return stages;
}

// Processes whose environment carries `mark` (our tour's and everything it
// started), zombies left out: they are gone but for their parent's wait.
std::vector<pid_t> processes_marked(const std::string& mark) {
    std::vector<pid_t> pids;
    for (pid_t pid : all_pids()) {
        auto p = proc_info(pid);
        if (p && p->state != 'Z' &&
            slurp("/proc/" + std::to_string(pid) + "/environ").find(mark) != std::string::npos)
            pids.push_back(pid);
    }
    return pids;
}

// What meson recorded for this build: buildtype, optimization, b_sanitize.
std::map<std::string, std::string> build_options() {
    std::map<std::string, std::string> options;
    auto all = nlohmann::json::parse(slurp(build_root() + "/meson-info/intro-buildoptions.json"));
    for (const auto& o : all)
        if (o["name"] == "buildtype" || o["name"] == "optimization" || o["name"] == "b_sanitize")
            options[o["name"]] = o["value"].get<std::string>();
    return options;
}

// The rule the tools follow, stated once more here: -O1..3 or -Os, no sanitizer.
bool build_is_optimised() {
    auto o = build_options();
    std::string level = o["optimization"];
    return (level == "1" || level == "2" || level == "3" || level == "s") &&
           o["b_sanitize"] == "none";
}

std::size_t count_of(const std::string& text, const std::string& word) {
    std::size_t n = 0;
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
    return n;
}

// The environment block stands above the table: machine, build, runs, and a
// WARNING line exactly when this build is not optimised.
void expect_environment_block(const std::string& out) {
    std::size_t table = out.find("stage ");
    ASSERT_NE(table, std::string::npos) << out;
    std::string above = out.substr(0, table);
    EXPECT_TRUE(std::regex_search(above, std::regex("\nmachine: Linux \\S+ .*, [0-9]+ cores")))
        << above;
    EXPECT_TRUE(std::regex_search(above, std::regex("\nbuild: +.+, " + build_options()["buildtype"] +
                                                    " \\(")))
        << above;
    EXPECT_NE(above.find("\nruns: "), std::string::npos) << above;
    EXPECT_EQ(count_of(above, "WARNING: "), build_is_optimised() ? 0u : 1u) << above;
}

// Prints tools/environment.py's block for each build folder, one block after
// another with "---" between them: one python3 for all (each start costs ~0.5 s).
std::vector<std::string> environment_blocks(const std::vector<std::string>& builds) {
    std::vector<std::string> argv = {
        "/usr/bin/env", "python3", "-c",
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import environment\n"
        "for build in sys.argv[2:]:\n"
        "    environment.print_header(environment.environment(build))\n"
        "    print('---')\n",
        source_root() + "/tools"};
    argv.insert(argv.end(), builds.begin(), builds.end());
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> blocks;
    for (std::size_t at = 0, end; (end = r.out.find("---\n", at)) != std::string::npos; at = end + 4)
        blocks.push_back(r.out.substr(at, end - at));
    return blocks;
}

} // namespace

TEST(Tour, RunsEveryBuiltStageAndEndsWithTheTable) {
    auto stages = built_stages();
    ASSERT_FALSE(stages.empty());
    auto r = run(runner({"tour", "--count", "3", "--delay-ms", "50", "--no-pause"}), 300s);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::size_t table = r.out.find("stage ");
    ASSERT_NE(table, std::string::npos) << r.out;
    expect_environment_block(r.out);
    // The server's CPU over each stage's run has a column of its own, after the stage's.
    EXPECT_TRUE(std::regex_search(r.out.substr(table), std::regex("^stage .* cpu s +srv cpu s ")))
        << r.out.substr(table);
    for (const auto& s : stages) {
        EXPECT_NE(r.out.find("== " + s + " =="), std::string::npos) << s;    // header
        EXPECT_NE(r.out.find("notes/" + s + ".md"), std::string::npos) << s; // the note
        EXPECT_NE(r.out.find(relative_build() + "/stages/" + s + "/" + s + " --port"),
                  std::string::npos)
            << s;
        if (skipped_here(s)) { // a row that says why, and no bar
            EXPECT_TRUE(std::regex_search(r.out.substr(table), std::regex(s + " .* skipped: ")))
                << s;
            continue;
        }
        // A table row and a bar for the stage, after the walkthrough.
        EXPECT_TRUE(std::regex_search(
            r.out.substr(table),
            std::regex(s + " +[0-9.]+ +(x[0-9.]+|-) +[0-9.]+ +[0-9]+\\.[0-9]{2} +[0-9.]+ ")))
            << s;
        EXPECT_TRUE(std::regex_search(r.out.substr(table), std::regex(s + " +#+"))) << s;
    }
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\033["), std::string::npos) << "colour in a pipe";
    // It ends by offering the timeline of what it just ran.
    EXPECT_NE(r.out.find("timeline.html"), std::string::npos) << r.out;
    std::string page = slurp(build_root() + "/timeline.html");
    EXPECT_NE(page.find("<svg"), std::string::npos);
    EXPECT_NE(page.find("data-stage=\"01_blocking\""), std::string::npos);
    EXPECT_NE(r.out.find("01_blocking          "), std::string::npos);
}

TEST(Tour, AFailingStageIsShownAndTheTourGoesOn) {
    // Pages slower than the stages' timeout: every stage fails, and every stage still runs.
    auto stages = built_stages();
    auto r = run(
        runner({"tour", "--count", "2", "--delay-ms", "5000", "--timeout-ms", "100", "--no-pause"}),
        300s);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    std::size_t table = r.out.find("stage ");
    ASSERT_NE(table, std::string::npos) << r.out;
    for (const auto& s : stages) {
        EXPECT_NE(r.out.find("== " + s + " =="), std::string::npos) << s;
        std::string status = skipped_here(s) ? " skipped: " : "FAILED";
        EXPECT_TRUE(std::regex_search(r.out.substr(table), std::regex(s + " .*" + status))) << s;
    }
}

TEST(Compare, WritesJsonWithTheSchemaAndAnSvgWithABarPerStage) {
    auto stages = built_stages();
    std::string stage_list;
    std::vector<std::string> wanted;
    for (const auto& s : stages)
        if (s != "08_toolkit" && s != "09_executors" && !skipped_here(s)) {
            stage_list += (stage_list.empty() ? "" : ",") + s.substr(0, 2);
            wanted.push_back(s);
        }
    std::string json_path = temp_path("r.json"), svg_path = temp_path("r.svg");
    auto r = run(runner({"compare", "--stages", stage_list, "--count", "3", "--delay-ms", "50",
                         "--repeat", "2", "--json", json_path, "--svg", svg_path}),
                 300s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

    auto doc = nlohmann::json::parse(slurp(json_path));
    EXPECT_EQ(doc["count"], 3);
    EXPECT_EQ(doc["delay_ms"], 50);
    EXPECT_EQ(doc["repeat"], 2);
    EXPECT_TRUE(doc["preset"].is_string());
    EXPECT_TRUE(doc["date"].is_string());
    // What the numbers depend on, as tools/environment.py found it.
    const auto& env = doc["environment"];
    EXPECT_GE(env["cores"].get<int>(), 1);
    EXPECT_GE(env["cores_usable"].get<int>(), 1);
    EXPECT_LE(env["cores_usable"].get<int>(), env["cores"].get<int>());
    EXPECT_FALSE(env["kernel"].get<std::string>().empty());
    EXPECT_FALSE(env["cpu_model"].get<std::string>().empty());
    EXPECT_FALSE(env["compiler"].get<std::string>().empty());
    EXPECT_NE(env["compiler"], "unknown");
    auto options = build_options();
    EXPECT_EQ(env["buildtype"], options["buildtype"]);
    EXPECT_EQ(env["optimization"], options["optimization"]);
    EXPECT_EQ(env["sanitize"], options["b_sanitize"]);
    EXPECT_EQ(env["optimised"].get<bool>(), build_is_optimised());
    EXPECT_EQ(env["repeat"], 2);
    expect_environment_block(r.out);
    ASSERT_EQ(doc["stages"].size(), wanted.size());
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const auto& s = doc["stages"][i];
        EXPECT_EQ(s["stage"], wanted[i]);
        for (const char* key : {"requests", "ok", "failed", "bytes", "wall_s", "user_s", "sys_s",
                                "max_rss_kb", "ctx_voluntary", "ctx_involuntary", "peak_in_flight",
                                "errors", "server_peak_open", "command"})
            EXPECT_TRUE(s.contains(key)) << wanted[i] << " " << key;
        EXPECT_EQ(s["ok"], 3) << wanted[i];
        EXPECT_EQ(s["wall_s_runs"].size(), 2u);
        EXPECT_GE(s["server_cpu_s"].get<double>(), 0.0) << wanted[i];
        // Repeated: the table shows the median wall time and, beside it, its runs' min-max.
        std::smatch m;
        ASSERT_TRUE(std::regex_search(
            r.out, m, std::regex(wanted[i] + " +([0-9.]+) +([0-9.]+)-([0-9.]+) +(x[0-9.]+|-) ")))
            << wanted[i] << "\n"
            << r.out;
        EXPECT_LE(std::stod(m[2]), std::stod(m[1])) << m[0];
        EXPECT_LE(std::stod(m[1]), std::stod(m[3])) << m[0];
    }
    EXPECT_NE(r.out.find(" wall min-max "), std::string::npos) << r.out;

    // The SVG is well-formed XML with one bar per stage in each of its two charts.
    auto check = run({"/usr/bin/env", "python3", "-c",
                      "import sys, xml.etree.ElementTree as ET\n"
                      "root = ET.parse(sys.argv[1]).getroot()\n"
                      "bars = [e for e in root.iter() if e.get('class') == 'bar']\n"
                      "titles = [e for e in root.iter() if e.tag.endswith('title')]\n"
                      "print(len(bars), len(titles) > 0, root.tag.endswith('svg'))\n",
                      svg_path});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    EXPECT_EQ(check.out, std::to_string(2 * wanted.size()) + " True True\n");
    std::string svg = slurp(svg_path);
    EXPECT_EQ(svg.find("href"), std::string::npos) << "no external resources";
    EXPECT_NE(svg.find("Wall time (s"), std::string::npos);
    EXPECT_NE(svg.find("Max RSS (MiB"), std::string::npos);
    // A small line of what the numbers depend on, under the charts.
    std::smatch line;
    ASSERT_TRUE(std::regex_search(svg, line, std::regex("<text class=\"environment\"[^>]*>([^<]+)<")))
        << svg;
    EXPECT_NE(line[1].str().find("Linux " + env["kernel"].get<std::string>()), std::string::npos)
        << line[1];
    EXPECT_NE(line[1].str().find(", " + options["buildtype"] + " ("), std::string::npos) << line[1];
    std::remove(json_path.c_str());
    std::remove(svg_path.c_str());
}

// The warning follows meson's options alone: tools/environment.py pointed at
// made-up build folders, from an optimised build to one with no meson-info.
TEST(Environment, WarnsExactlyWhenTheBuildIsNotOptimised) {
    struct Case {
        const char *buildtype, *optimization, *sanitize;
        bool warns;
    };
    const Case cases[] = {{"release", "3", "none", false},   {"debugoptimized", "2", "none", false},
                          {"minsize", "s", "none", false},   {"custom", "1", "none", false},
                          {"debug", "0", "none", true},      {"custom", "g", "none", true},
                          {"plain", "plain", "none", true},  {"release", "3", "address", true},
                          {"debug", "0", "address,undefined", true}};
    namespace fs = std::filesystem;
    std::vector<std::string> dirs;
    for (const auto& c : cases) {
        dirs.push_back(temp_path("fake_build_" + std::to_string(dirs.size())));
        fs::create_directories(dirs.back() + "/meson-info");
        nlohmann::json options = nlohmann::json::array(
            {{{"name", "buildtype"}, {"value", c.buildtype}},
             {{"name", "optimization"}, {"value", c.optimization}},
             {{"name", "b_sanitize"}, {"value", c.sanitize}},
             {{"name", "debug"}, {"value", true}}});
        std::ofstream(dirs.back() + "/meson-info/intro-buildoptions.json") << options.dump();
    }
    dirs.push_back(temp_path("not_a_build")); // no meson-info: unknown, not comparable either
    fs::create_directories(dirs.back());

    auto blocks = environment_blocks(dirs);
    ASSERT_EQ(blocks.size(), dirs.size());
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        const auto& c = cases[i];
        std::string what = std::string(c.buildtype) + " -O" + c.optimization + " " + c.sanitize;
        EXPECT_EQ(count_of(blocks[i], "WARNING: "), c.warns ? 1u : 0u) << what << "\n" << blocks[i];
        EXPECT_NE(blocks[i].find(std::string(", ") + c.buildtype + " ("), std::string::npos)
            << blocks[i];
    }
    EXPECT_EQ(count_of(blocks.back(), "WARNING: "), 1u) << blocks.back();
    EXPECT_NE(blocks.back().find("build type is unknown"), std::string::npos) << blocks.back();
    for (const auto& dir : dirs) fs::remove_all(dir);
}

// bench: a median of repeats stands beside the min and max it came from.
TEST(Bench, PrintsTheEnvironmentAndASpreadBesideEachMedian) {
    auto r = run(runner({"bench", "01", "05", "--count", "2", "--delay-ms", "20", "--repeat", "3"}),
                 120s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    expect_environment_block(r.out);
    EXPECT_NE(r.out.find("runs:    median of 3 runs, min-max spread"), std::string::npos) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("cpu s +min-max +srv cpu s +min-max ")))
        << r.out;
    for (const char* stage : {"01_blocking", "05_callbacks"}) {
        // ok, then (median min-max) for wall, cpu, server cpu and max rss.
        std::string cell = " +([0-9.]+) +([0-9.]+)-([0-9.]+)";
        std::smatch m;
        ASSERT_TRUE(std::regex_search(
            r.out, m, std::regex(std::string(stage) + " +2" + cell + cell + cell + cell + " ")))
            << stage << "\n"
            << r.out;
        for (int col = 0; col < 4; ++col) { // a median of 3 is one of the 3: never outside
            double median = std::stod(m[1 + 3 * col]), lo = std::stod(m[2 + 3 * col]),
                   hi = std::stod(m[3 + 3 * col]);
            EXPECT_LE(lo, median) << stage << " column " << col << ": " << m[0];
            EXPECT_LE(median, hi) << stage << " column " << col << ": " << m[0];
        }
    }
}

// bench "NN --flag": the same stage with flags of its own is a row of its own.
TEST(Bench, AStageInQuotesWithFlagsIsARowOfItsOwnAndGetsThem) {
    auto r = run(runner({"bench", "05", "05 --selector poll", "--count", "2", "--delay-ms", "20",
                         "--repeat", "1"}),
                 120s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\n05_callbacks +2 "))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\n05_callbacks --selector poll +2 ")))
        << r.out;
    // The flags reach the stage: one it does not know fails its runs.
    auto bad = run(runner({"bench", "05 --no-such-flag", "--count", "1", "--delay-ms", "0",
                           "--repeat", "1"}),
                   120s);
    EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
    EXPECT_TRUE(std::regex_search(bad.out, std::regex("05_callbacks --no-such-flag +0 ")))
        << bad.out;
}

TEST(Compare, ShowsAStageThisMachineCannotRunAsSkippedWithItsReason) {
    if (::access(stage_binary("11_io_uring").c_str(), X_OK) != 0)
        GTEST_SKIP() << "11_io_uring is not built here (no liburing)";
    // As on a machine whose kernel refuses io_uring: 11 says why and exits 3; not a failure.
    std::string json_path = temp_path("skip.json");
    auto r = run(runner({"compare", "--stages", "07,11", "--count", "3", "--delay-ms", "50",
                         "--json", json_path},
                        "LADDER_NO_IO_URING=EPERM"),
                 120s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("07_coroutines +[0-9.]+ .* ok"))) << r.out;
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex("11_io_uring +- .* skipped: io_uring is not allowed here")))
        << r.out;
    auto stages = nlohmann::json::parse(slurp(json_path))["stages"];
    EXPECT_EQ(stages[1]["exit_code"], 3);
    EXPECT_TRUE(contains(stages[1]["skipped"].get<std::string>(), "EPERM"));
    std::remove(json_path.c_str());
}

TEST(Compare, EstimatesASequentialStageThatWouldTakeTooLong) {
    // 200 pages x 400 ms one at a time would take 80 s: 01 is measured on a sample.
    std::string json_path = temp_path("est.json");
    auto r = run(runner({"compare", "--stages", "01", "--count", "200", "--delay-ms", "400",
                         "--json", json_path}),
                 120s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto s = nlohmann::json::parse(slurp(json_path))["stages"][0];
    EXPECT_TRUE(s["estimated"].get<bool>());
    EXPECT_LT(s["sample_count"].get<int>(), 200);
    EXPECT_GE(s["wall_s"].get<double>(), 200 * 0.4); // scaled up: never less than 200 delays
    EXPECT_NE(r.out.find("estimate"), std::string::npos) << r.out;
    EXPECT_LT(r.seconds, 60.0) << "the sample should be short";
    std::remove(json_path.c_str());
}

TEST(Compare, BadArgumentsExitWith2) {
    for (std::vector<std::string> args : {std::vector<std::string>{"compare", "--count", "0"},
                                          {"compare", "--preset", "huge"},
                                          {"compare", "--stages", "42"}}) {
        auto r = run(runner(args));
        EXPECT_EQ(r.exit_code, 2) << args[1] << r.err;
        EXPECT_FALSE(r.err.empty());
    }
}

// Killing the tour mid-run — politely or not — leaves no server and no stage behind.
TEST(Tour, KillingItLeavesNoProcessBehind) {
    for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
        std::string mark =
            "LADDER_TOUR_TEST_MARK=" + std::to_string(::getpid()) + "_" + std::to_string(sig);
        Child tour(runner({"tour", "--count", "3", "--delay-ms", "2000", "--no-pause"}, mark));
        // Wait until a stage is running (its header is printed just before it starts).
        std::string line;
        auto deadline = Clock::now() + 30s;
        while (line.find("$ ") == std::string::npos && Clock::now() < deadline)
            line = tour.read_line(30s);
        ASSERT_NE(line.find("$ "), std::string::npos) << "the tour never started a stage";
        std::this_thread::sleep_for(200ms);
        EXPECT_GE(processes_marked(mark).size(), 3u) << "tour, server and stage should be running";
        ::kill(tour.pid(), sig);
        tour.wait(10s);
        bool gone = false;
        for (auto until = Clock::now() + 10s; !gone && Clock::now() < until;) {
            gone = processes_marked(mark).empty();
            if (!gone) std::this_thread::sleep_for(50ms);
        }
        EXPECT_TRUE(gone) << "signal " << sig << " left " << processes_marked(mark).size()
                          << " processes";
    }
}

// tools/: ladder_cli.py is the command line and no library imports it back; the
// libraries import one another only downward. Any import counts, one inside a
// function too: that is how the old circle runner -> tour -> runner hid.
TEST(Tools, ImportNoCircle) {
    auto r = run({"/usr/bin/env", "python3", "-c",
                  "import ast, pathlib, sys\n"
                  "files = {p.stem: p for p in pathlib.Path(sys.argv[1]).glob('*.py')}\n"
                  "uses = {}\n"
                  "for name, path in files.items():\n"
                  "    found = set()\n"
                  "    for node in ast.walk(ast.parse(path.read_text())):\n"
                  "        if isinstance(node, ast.Import):\n"
                  "            found |= {a.name.split('.')[0] for a in node.names}\n"
                  "        elif isinstance(node, ast.ImportFrom) and node.module:\n"
                  "            found.add(node.module.split('.')[0])\n"
                  "    uses[name] = found & files.keys()\n"
                  "def circle(name, path):\n"
                  "    if name in path:\n"
                  "        return path[path.index(name):] + [name]\n"
                  "    for used in uses[name]:\n"
                  "        if c := circle(used, path + [name]):\n"
                  "            return c\n"
                  "for name in sorted(uses):\n"
                  "    if c := circle(name, []):\n"
                  "        sys.exit('import circle: ' + ' -> '.join(c))\n"
                  "if back := sorted(n for n in uses if 'ladder_cli' in uses[n]):\n"
                  "    sys.exit('ladder_cli is imported by ' + ', '.join(back))\n"
                  "print(len(uses), 'modules, no circle')\n",
                  source_root() + "/tools"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("no circle"), std::string::npos) << r.out << r.err;
}
