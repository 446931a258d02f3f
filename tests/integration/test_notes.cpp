// Notes stay true: every file a note names in backquotes exists, and every
// --flag it names in backquotes is one that a program of the ladder takes.
// The rule, exactly as check_note() applies it (strict where a note is
// specific, silent where it cannot be):
//
// * Which notes: every *.md under notes/ when the test runs (notes/*.md,
//   notes/solutions/NN.md, any other subfolder), so a new stage's note and the
//   solutions are checked the day they land. Only inline code spans are read:
//   text between two backquotes of one paragraph. A paragraph ends at a line
//   that is empty or all spaces, or at a ``` fence, so a span may wrap onto the
//   next line. Fenced blocks are quoted output and code: never read. Reported
//   as problems themselves: a paragraph with an odd number of backquotes (a
//   broken span) and a fence that is never closed.
//
// * Words. A span is split at white space; each word loses the [ ] ( ) " ' , ;
//   | $ around it and a trailing ':'. A word begins a command when it is the
//   span's first, follows && || | or a word ending in ';', or starts with '('
//   or '$('.
//
// * Paths. Skipped: words that start with '/' (the system's: /proc/...), that
//   contain "...", or that have a placeholder part in capitals (NN PID FILE P N
//   NAME PORT MODE DIR, between / _ . -: notes/NN_name.md). Any other word is a
//   path when it ends in .cpp .hpp .h .md .py .build or .dict, or starts with
//   common/ stages/ tests/ notes/ tools/, or starts with build/ and has no '.'
//   in its last part (a program; build/timeline.html is what a command writes).
//   A path in build/ must exist in the build directory; any other must exist
//   under one of: the project root, stages/, common/, notes/,
//   tests/integration/, tests/unit/, or the note's own stage folder (notes/05
//   may say `crawler.cpp`). `doorbell.hpp/.cpp` names both files. Words of
//   neither kind (t.html, r.json, build-san/...) are not checked.
//
// * Flags. A word is a flag when it starts with "--" and a lowercase letter;
//   the flag is its leading run of [a-z0-9-_] (so `--nofile=32:32` is
//   --nofile). Whose flag it is depends on the last program named before it in
//   the same span:
//   - a stage — its bare name (`08_toolkit`), its binary in any build directory
//     (`build-san/stages/06_generators/06_generators`), or `./ladder run NN` with
//     NN two digits: the flag must be in that stage's --help;
//   - `./ladder loop NN` or `./ladder bench ... NN`: in that stage's --help or
//     in `./ladder help` (both take flags there);
//   - `./ladder` followed by anything else: in `./ladder help`;
//   - c10k_client (bare or as a path): in its --help;
//   - a program that is not ours, only where a command begins (gdb, prlimit,
//     strace, python3, ... : foreign_program() below; also any word with '='
//     such as CXX=clang++), or a GoogleTest binary (test_* without a '.')
//     anywhere: its flags are not checked, until one of ours is named;
//   - nobody: the flag must be in the --help of 00_server, of every client
//     stage (the shared --port, --count, --timeout-ms ...), of the note's own
//     stage, or in `./ladder help`; a file named 00_overview.md may name any
//     stage's flag. A note's own stage: notes/NN_name.md when a stage of that
//     name is built; notes/<folder>/NN*.md (notes/solutions/05.md) is stage NN's.
//   So a misspelt flag, a flag a stage dropped or hides from --help, and one
//   stage's flag named bare in another stage's note all fail the note.
//
// The programs' --help is asked once, from whatever stages were built; a stage
// that was not built is not a stage here (its name is just a word).
#include "harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;

namespace {

// --- what the programs take -----------------------------------------------------------------

std::set<std::string> flags_in(const std::string& text) {
    std::set<std::string> flags;
    static const std::regex flag(R"(--[a-z][a-z0-9-]*)");
    for (std::sregex_iterator it(text.begin(), text.end(), flag), end; it != end; ++it)
        flags.insert(it->str());
    return flags;
}

// Every stage that was built: build/stages/NN_name/NN_name.
std::vector<std::string> built_stages() {
    std::vector<std::string> stages;
    for (const auto& entry : fs::directory_iterator(build_root() + "/stages")) {
        std::string name = entry.path().filename().string();
        if (name.size() > 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
            std::isdigit(static_cast<unsigned char>(name[1])) && name[2] == '_' &&
            fs::exists(stage_binary(name)))
            stages.push_back(name);
    }
    std::sort(stages.begin(), stages.end());
    return stages;
}

// The --help of each program a note can name, asked once.
struct Programs {
    std::map<std::string, std::set<std::string>> stage_flags; // "05_callbacks" -> flags
    std::set<std::string> ladder_flags, c10k_flags;
    std::set<std::string> client_flags; // in every client stage's --help (--port, --count, ...)

    Programs() {
        for (const auto& stage : built_stages()) {
            auto r = run({stage_binary(stage), "--help"}, 10s);
            EXPECT_EQ(r.exit_code, 0) << stage << " --help: " << r.err;
            stage_flags[stage] = flags_in(r.out);
            EXPECT_TRUE(stage_flags[stage].count("--help")) << stage << " --help:\n" << r.out;
        }
        bool first = true;
        for (const auto& [name, its_flags] : stage_flags) {
            if (name == "00_server") continue;
            const auto& flags = its_flags; // (clang 14 cannot capture a structured binding)
            if (first) client_flags = flags;
            std::erase_if(client_flags, [&](const std::string& f) { return !flags.count(f); });
            first = false;
        }
        auto r = run({source_root() + "/ladder", "help"}, 10s);
        EXPECT_EQ(r.exit_code, 0) << "./ladder help: " << r.err;
        ladder_flags = flags_in(r.out);
        r = run({build_root() + "/tests/bench/c10k_client", "--help"}, 10s);
        EXPECT_EQ(r.exit_code, 0) << "c10k_client --help: " << r.err;
        c10k_flags = flags_in(r.out);
    }
    // "05" -> "05_callbacks", "" when there is no such stage.
    std::string stage_numbered(const std::string& nn) const {
        for (const auto& [name, flags] : stage_flags)
            if (name.compare(0, 2, nn) == 0) return name;
        return "";
    }
};

const Programs& programs() {
    static const Programs p;
    return p;
}

// --- reading a note -------------------------------------------------------------------------

struct Span {
    std::string text;
    int line; // where it starts
};

struct Problem {
    int line;
    std::string what;
};

// The inline code spans of a note, outside fenced blocks, and a problem for
// each paragraph whose backquotes do not pair up.
std::vector<Span> code_spans(const std::string& note, std::vector<Problem>& problems) {
    std::vector<Span> spans;
    std::istringstream in(note);
    std::string line, paragraph;
    int line_no = 0, paragraph_start = 0;
    bool fenced = false;
    auto end_paragraph = [&] {
        std::size_t ticks = std::count(paragraph.begin(), paragraph.end(), '`');
        if (ticks % 2 != 0) {
            problems.push_back({paragraph_start, "odd number of backquotes: a code span is broken"});
        } else {
            int at = paragraph_start;
            std::size_t open = std::string::npos;
            for (std::size_t i = 0; i < paragraph.size(); ++i) {
                if (paragraph[i] == '`') {
                    if (open == std::string::npos) {
                        open = i;
                    } else {
                        spans.push_back({paragraph.substr(open + 1, i - open - 1),
                                         at - static_cast<int>(std::count(
                                                  paragraph.begin() + static_cast<long>(open),
                                                  paragraph.begin() + static_cast<long>(i), '\n'))});
                        open = std::string::npos;
                    }
                } else if (paragraph[i] == '\n') {
                    ++at;
                }
            }
        }
        paragraph.clear();
    };
    while (std::getline(in, line)) {
        ++line_no;
        auto first = line.find_first_not_of(' ');
        bool fence = first != std::string::npos && line.compare(first, 3, "```") == 0;
        if (fence || fenced) {
            end_paragraph();
            if (fence) fenced = !fenced;
            continue;
        }
        if (first == std::string::npos) { // a blank line ends the paragraph
            end_paragraph();
            continue;
        }
        if (paragraph.empty()) paragraph_start = line_no;
        paragraph += line + "\n";
    }
    end_paragraph();
    if (fenced) problems.push_back({line_no, "a fenced block is never closed"});
    return spans;
}

// A span's words, each with whether it begins a command (first word, or after
// ; && || | or an opening parenthesis) and stripped of what surrounds a word in
// prose and usage lines: [--demo NAME], (--timeout-ms), "quoted", a, b; x|y.
struct Word {
    std::string text;
    bool starts_command;
};

std::vector<Word> words(const std::string& span) {
    std::vector<std::string> raw;
    std::istringstream in(span);
    for (std::string w; in >> w;) raw.push_back(w);
    std::vector<Word> out;
    bool next_starts = true;
    for (const auto& r : raw) {
        bool starts = next_starts || r.front() == '(' || r.rfind("$(", 0) == 0;
        next_starts = r == "&&" || r == "||" || r == "|" || r.back() == ';';
        std::string w = r;
        auto strip = [](char c) { return std::string("[]()\"',;|$").find(c) != std::string::npos; };
        while (!w.empty() && strip(w.front())) w.erase(w.begin());
        while (!w.empty() && (strip(w.back()) || w.back() == ':')) w.pop_back();
        if (!w.empty()) out.push_back({w, starts});
    }
    return out;
}

// Programs that are not ours, when they begin a command: their flags are theirs.
bool foreign_program(const std::string& word) {
    static const std::set<std::string> foreign = {
        "gdb",  "prlimit", "strace", "time", "meson",   "ninja", "curl", "python3",
        "clang++", "g++",  "pgrep",  "ls",   "kill",    "top",   "ulimit", "valgrind",
        "perf", "env",     "sudo",   "apt-get", "ps",   "taskset", "nice", "git", "cd"};
    if (word.find('=') != std::string::npos) return true; // CXX=clang++ meson ...
    return foreign.count(word.substr(word.rfind('/') + 1)) > 0;
}

// A GoogleTest binary (build/tests/unit/test_coroutines): its flags are --gtest_*.
bool test_binary(const std::string& word) {
    return word.substr(word.rfind('/') + 1).rfind("test_", 0) == 0 && word.find('.') == std::string::npos;
}

// A word that names a pattern rather than a file: notes/NN_name.md, /proc/PID/status.
bool has_placeholder(const std::string& word) {
    static const std::set<std::string> placeholders = {"NN", "PID", "FILE", "P", "N",
                                                       "NAME", "PORT", "MODE", "DIR"};
    std::string part;
    for (char c : word + "/") {
        if (std::string("/_.-").find(c) != std::string::npos) {
            if (placeholders.count(part)) return true;
            part.clear();
        } else {
            part += c;
        }
    }
    return false;
}

bool source_extension(const std::string& word) {
    static const std::regex ext(R"(\.(cpp|hpp|h|md|py|build|dict)$)");
    return std::regex_search(word, ext);
}

// In build/ only programs are checked: build/timeline.html is what the tour writes.
bool starts_with_project_folder(const std::string& word) {
    if (word.rfind("build/", 0) == 0)
        return word.find('.', word.rfind('/')) == std::string::npos;
    for (const char* dir : {"common/", "stages/", "tests/", "notes/", "tools/"})
        if (word.rfind(dir, 0) == 0) return true;
    return false;
}

// A note's own stage: notes/05_callbacks.md and notes/solutions/05.md -> 05_callbacks;
// "" for the overview.
std::string own_stage(const fs::path& note) {
    std::string file = note.filename().string();
    if (file.size() < 2 || !std::isdigit(static_cast<unsigned char>(file[0])) ||
        !std::isdigit(static_cast<unsigned char>(file[1])))
        return "";
    std::string stage = programs().stage_numbered(file.substr(0, 2));
    if (note.parent_path().filename() == "notes" && note.stem() != stage) return "";
    return stage;
}

bool path_exists(const std::string& word, const std::string& stage) {
    const std::string src = source_root() + "/";
    if (word.rfind("build/", 0) == 0) return fs::exists(build_root() + "/" + word.substr(6));
    std::vector<std::string> bases = {src, src + "stages/", src + "common/", src + "notes/",
                                      src + "tests/integration/", src + "tests/unit/"};
    if (!stage.empty()) bases.push_back(src + "stages/" + stage + "/");
    for (const auto& base : bases)
        if (fs::exists(base + word)) return true;
    return false;
}

// `a.hpp/.cpp` -> a.hpp and a.cpp
std::vector<std::string> expand_pair(const std::string& word) {
    static const std::regex pair(R"(^(.*)\.([a-z]+)/\.([a-z]+)$)");
    std::smatch m;
    if (std::regex_match(word, m, pair))
        return {m[1].str() + "." + m[2].str(), m[1].str() + "." + m[3].str()};
    return {word};
}

// Everything wrong in one note: `note` is its path relative to the project (it
// decides the note's own stage), `text` its contents.
std::vector<Problem> check_note(const fs::path& note, const std::string& text) {
    std::vector<Problem> problems;
    const Programs& p = programs();
    const std::string stage = own_stage(note);
    const bool any_stage = note.filename() == "00_overview.md";
    static const std::regex stage_word(R"(^(?:.*/)?(\d\d_[a-z_]+)$)");

    for (const Span& span : code_spans(text, problems)) {
        // Whose flags follow: nobody named yet, a stage, ./ladder, c10k_client, or a foreign program.
        enum class Owner { none, stage, ladder, ladder_stage, c10k, foreign } owner = Owner::none;
        std::string owner_stage, ladder_command;
        auto ws = words(span.text);
        for (std::size_t i = 0; i < ws.size(); ++i) {
            const std::string& w = ws[i].text;
            if (w.rfind("--", 0) == 0 && w.size() > 2 && std::islower(static_cast<unsigned char>(w[2]))) {
                std::string flag = w.substr(0, w.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_", 2));
                bool known = false;
                std::string where;
                switch (owner) {
                case Owner::foreign: known = true; break;
                case Owner::stage:
                    known = p.stage_flags.at(owner_stage).count(flag) > 0;
                    where = owner_stage + " --help";
                    break;
                case Owner::ladder:
                    known = p.ladder_flags.count(flag) > 0;
                    where = "./ladder help";
                    break;
                case Owner::ladder_stage: // ./ladder loop 08 --demo ..., bench "07 --flag"
                    known = p.ladder_flags.count(flag) > 0 ||
                            p.stage_flags.at(owner_stage).count(flag) > 0;
                    where = owner_stage + " --help or ./ladder help";
                    break;
                case Owner::c10k:
                    known = p.c10k_flags.count(flag) > 0;
                    where = "c10k_client --help";
                    break;
                case Owner::none:
                    known = p.ladder_flags.count(flag) > 0 || p.client_flags.count(flag) > 0 ||
                            p.stage_flags.at("00_server").count(flag) > 0 ||
                            (!stage.empty() && p.stage_flags.at(stage).count(flag) > 0);
                    for (const auto& [name, flags] : p.stage_flags)
                        known = known || (any_stage && flags.count(flag) > 0);
                    where = any_stage ? "any stage's --help or ./ladder help"
                                      : "the --help of " + (stage.empty() ? "" : stage + ", ") +
                                            "00_server or every client stage, or ./ladder help";
                    break;
                }
                if (!known)
                    problems.push_back({span.line, "`" + flag + "` is not in " + where +
                                                       " (in `" + span.text + "`)"});
                continue;
            }
            // A program's name decides whose the flags after it are.
            std::smatch m;
            if ((owner == Owner::ladder || owner == Owner::ladder_stage) &&
                (ladder_command == "loop" || ladder_command == "bench") &&
                !p.stage_numbered(w).empty()) {
                owner = Owner::ladder_stage; // the flags after it go to that stage
                owner_stage = p.stage_numbered(w);
                continue;
            }
            if (owner == Owner::ladder && ladder_command.empty()) ladder_command = w;
            if (w == "./ladder") {
                owner = Owner::ladder;
                ladder_command.clear();
                if (i + 2 < ws.size() && ws[i + 1].text == "run" && !p.stage_numbered(ws[i + 2].text).empty()) {
                    owner = Owner::stage;
                    owner_stage = p.stage_numbered(ws[i + 2].text);
                    i += 2;
                }
                continue;
            }
            if (w == "c10k_client" || w.ends_with("/c10k_client")) {
                owner = Owner::c10k;
            } else if (std::regex_match(w, m, stage_word) && p.stage_flags.count(m[1].str()) &&
                       (w == m[1].str() || w.ends_with("/" + m[1].str() + "/" + m[1].str()))) {
                owner = Owner::stage; // 05_callbacks, or build/stages/05_callbacks/05_callbacks
                owner_stage = m[1].str();
            } else if (test_binary(w) || (ws[i].starts_command && foreign_program(w))) {
                owner = Owner::foreign;
            }
            // Is it a path, and does it exist?
            if (w.front() == '/' || has_placeholder(w) || w.find("...") != std::string::npos) continue;
            for (const auto& file : expand_pair(w))
                if ((source_extension(file) || starts_with_project_folder(file)) &&
                    !path_exists(file, stage))
                    problems.push_back({span.line, "`" + file + "` does not exist" +
                                                       (stage.empty() ? "" : " (looked in stages/" + stage + "/ too)")});
        }
    }
    return problems;
}

std::vector<std::string> all_notes() {
    std::vector<std::string> notes;
    for (const auto& entry : fs::recursive_directory_iterator(source_root() + "/notes"))
        if (entry.is_regular_file() && entry.path().extension() == ".md")
            notes.push_back(fs::relative(entry.path(), source_root()).string());
    std::sort(notes.begin(), notes.end());
    return notes;
}

std::string describe(const std::vector<Problem>& problems, const std::string& note) {
    std::string out;
    for (const auto& problem : problems) out += note + ":" + std::to_string(problem.line) + ": " + problem.what + "\n";
    return out;
}

class EveryNote : public ::testing::TestWithParam<std::string> {};

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param.substr(std::string("notes/").size());
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

} // namespace

TEST_P(EveryNote, NamesOnlyFilesAndFlagsThatExist) {
    const std::string note = GetParam();
    std::string text = slurp(source_root() + "/" + note);
    ASSERT_FALSE(text.empty()) << note;
    auto problems = check_note(note, text);
    EXPECT_TRUE(problems.empty()) << describe(problems, note);
}

INSTANTIATE_TEST_SUITE_P(Notes, EveryNote, ::testing::ValuesIn(all_notes()), test_name);

// The rule itself, on made-up notes: a test that never fails proves nothing.
TEST(NotesRule, CatchesAMadeUpPathAndAMadeUpFlag) {
    std::string text = "Read `crawler.hpp`, `stages/05_callbacks/no_such_file.cpp` and\n"
                       "`common/selector.hpp`; run with `--selector poll` or `--no-such-flag`.\n";
    auto problems = check_note("notes/05_callbacks.md", text);
    ASSERT_EQ(problems.size(), 2u) << describe(problems, "made-up note");
    EXPECT_NE(problems[0].what.find("no_such_file.cpp"), std::string::npos) << problems[0].what;
    EXPECT_EQ(problems[0].line, 1);
    EXPECT_NE(problems[1].what.find("--no-such-flag"), std::string::npos) << problems[1].what;
    EXPECT_EQ(problems[1].line, 2);
}

TEST(NotesRule, AFlagBelongsToTheProgramBeforeIt) {
    // 05 has --selector; 01 does not, and a command line says whose flag it is.
    EXPECT_TRUE(check_note("notes/05_callbacks.md",
                           "`build/stages/05_callbacks/05_callbacks --selector poll --count 5`")
                    .empty());
    auto problems = check_note("notes/05_callbacks.md", "`./ladder run 01 --selector poll`");
    ASSERT_EQ(problems.size(), 1u) << describe(problems, "made-up note");
    EXPECT_NE(problems[0].what.find("01_blocking --help"), std::string::npos) << problems[0].what;
    // A bare flag of another stage is not this note's to name ...
    EXPECT_EQ(check_note("notes/01_blocking.md", "`--workers`").size(), 1u);
    // ... but the server's and ./ladder's are everyone's, and the overview may name any stage's.
    EXPECT_TRUE(check_note("notes/01_blocking.md", "`--delay-ms` and `--preset c10k`").empty());
    EXPECT_TRUE(check_note("notes/00_server.md", "every stage's `--timeout-ms`").empty());
    EXPECT_TRUE(check_note("notes/00_overview.md", "`--workers`").empty());
    // Foreign programs' flags are theirs; ours resume after our program's name.
    EXPECT_TRUE(check_note("notes/00_server.md",
                           "`prlimit --nofile=32:32 build/stages/00_server/00_server --port 8080`")
                    .empty());
    EXPECT_EQ(check_note("notes/00_server.md",
                         "`prlimit --nofile=32:32 build/stages/00_server/00_server --prot 8080`")
                  .size(),
              1u);
}

TEST(NotesRule, TheLoopAndBenchPassAStagesFlagsOn) {
    // ./ladder loop 08 --demo ...: 08's flag or ./ladder's; never another stage's.
    EXPECT_TRUE(check_note("notes/01_blocking.md",
                           "`./ladder loop 08 --demo semaphore --count 3 --html s.html`")
                    .empty());
    EXPECT_TRUE(check_note("notes/01_blocking.md",
                           "`./ladder bench 05 \"07 --trace-loop /dev/null\" --repeat 5`")
                    .empty());
    auto problems = check_note("notes/01_blocking.md", "`./ladder loop 07 --demo semaphore`");
    ASSERT_EQ(problems.size(), 1u) << describe(problems, "made-up note");
    EXPECT_NE(problems[0].what.find("07_coroutines --help"), std::string::npos) << problems[0].what;
}

TEST(NotesRule, ASolutionsFileBelongsToItsStage) {
    // notes/solutions/05.md is stage 05's: its bare flags are 05's, not 01's.
    EXPECT_TRUE(check_note("notes/solutions/05.md", "`--edge-triggered`").empty());
    EXPECT_EQ(check_note("notes/solutions/01.md", "`--edge-triggered`").size(), 1u);
    // and its bare file names are looked up in 05's folder.
    EXPECT_TRUE(check_note("notes/solutions/05.md", "`crawler.cpp`").empty());
}

TEST(NotesRule, ABrokenSpanIsReportedNotSkipped) {
    auto problems = check_note("notes/01_blocking.md", "one `span and\nanother `two` here\n\nnext");
    ASSERT_EQ(problems.size(), 1u) << describe(problems, "made-up note");
    EXPECT_NE(problems[0].what.find("odd number of backquotes"), std::string::npos);
}

TEST(NotesRule, PairedFilesAndStageFoldersResolve) {
    EXPECT_TRUE(check_note("notes/09_executors.md", "`doorbell.hpp/.cpp` `02_process_pool/stepped_pool.hpp`").empty());
    EXPECT_EQ(check_note("notes/09_executors.md", "`doorbell.hpp/.h`").size(), 1u);
    // A placeholder names a pattern, not a file; absolute paths are the system's.
    EXPECT_TRUE(check_note("notes/00_overview.md", "`notes/NN_name.md` `/proc/PID/status`").empty());
    // In build/, programs are checked, and what a command writes is not.
    EXPECT_TRUE(check_note("notes/00_overview.md", "`build/stages/07_coroutines/07_coroutines` `build/timeline.html`").empty());
    EXPECT_EQ(check_note("notes/00_overview.md", "`build/stages/07_coroutines/07_coroutine`").size(), 1u);
}

// The stepper names a parked coroutine after its function and the line of its
// co_await ("fetch:29"), and the notes' exercises tell a student which box to
// look for by that name. Each cited line must still be the co_await it names.
TEST(NotesCiteLines, TheLinesTheStepperShowsAreStillTheirCoAwaits) {
    struct Cited {
        const char* file;
        int line;
        const char* code;
        std::vector<const char*> notes; // each says "<function>:<line>"
        const char* as;
    };
    const std::vector<Cited> cited = {
        {"stages/07_coroutines/crawl.cpp", 19, "co_await sock.connect(server)",
         {"notes/07_coroutines.md", "notes/solutions/07.md", "notes/08_toolkit.md"}, "fetch:19"},
        {"stages/07_coroutines/crawl.cpp", 29, "co_await sock.recv(response)",
         {"notes/00_overview.md", "notes/07_coroutines.md", "notes/08_toolkit.md"}, "fetch:29"},
        {"stages/08_toolkit/demos/demos.cpp", 187, "co_await sem.acquire()",
         {"notes/08_toolkit.md", "notes/solutions/08.md"}, "operator():187"},
    };
    for (const Cited& c : cited) {
        std::istringstream source(slurp(source_root() + "/" + c.file));
        std::string line;
        for (int n = 0; n < c.line && std::getline(source, line); ++n) {
        }
        EXPECT_NE(line.find(c.code), std::string::npos)
            << c.file << ":" << c.line << " is no longer `" << c.code << "` but: " << line
            << "\n(update " << c.as << " in the notes that cite it, and this test)";
        for (const char* note : c.notes)
            EXPECT_NE(slurp(source_root() + "/" + note).find(c.as), std::string::npos)
                << note << " no longer cites " << c.as << ": drop it from this test";
    }
}
