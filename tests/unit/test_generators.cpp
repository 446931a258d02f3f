// Stage 06's Future, Generator, Task and yield_from, without sockets: the test
// plays the event loop and completes the futures itself. In the seed's order:
// step 1 (§4.4) is a Task stepping a generator that yields Futures; step 2
// (§4.5) runs generators that yield generators through yield_from().
#include "06_generators/future.hpp"
#include "06_generators/generator.hpp"
#include "06_generators/task.hpp"
#include "06_generators/yield_from.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace ladder::gen;

namespace {

using Log = std::vector<std::string>;

// Counts live generator frames: every generator below keeps one Probe as a
// local, so Probe::alive is the number of frames whose body has not ended.
// (yield_from's own frame has none.)
struct Probe {
    static inline int alive = 0;
    Probe() { ++alive; }
    ~Probe() { --alive; }
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
};

std::string what(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    }
}

class GeneratorTest : public ::testing::Test {
  protected:
    void SetUp() override { Probe::alive = 0; }
    void TearDown() override { EXPECT_EQ(Probe::alive, 0) << "a generator frame leaked"; }
};
class YieldFromTest : public GeneratorTest {};

// --- Future ---------------------------------------------------------------------------

TEST(Future, CallbacksRunInOrderOnceDone) {
    Future f;
    Log log;
    f.add_done_callback([&](Future& done) { log.push_back("first " + done.result()); });
    f.add_done_callback([&](Future& done) { log.push_back("second " + done.result()); });
    EXPECT_FALSE(f.done());
    EXPECT_TRUE(log.empty());
    f.set_result("x");
    EXPECT_TRUE(f.done());
    EXPECT_EQ(log, (Log{"first x", "second x"}));
    // Added after the fact: runs at once.
    f.add_done_callback([&](Future&) { log.push_back("late"); });
    EXPECT_EQ(log.back(), "late");
}

TEST(Future, ResultRethrowsTheErrorAndMisuseIsALogicError) {
    Future f;
    EXPECT_THROW(f.result(), std::logic_error); // not done yet
    f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    EXPECT_THROW(f.result(), std::runtime_error);
    EXPECT_EQ(what(f.exception()), "boom");
    EXPECT_THROW(f.set_result("again"), std::logic_error);
    EXPECT_THROW(f.set_exception(nullptr), std::logic_error);
}

// --- Step 1: a generator that yields Futures, and the Task that steps it --------------

Generator two_waits(Log& log, Future& a, Future& b) {
    Probe probe;
    log.push_back("start");
    Value x = co_yield a;
    log.push_back("got " + x);
    Value y = co_yield b;
    log.push_back("got " + y);
    co_return x + y;
}

TEST_F(GeneratorTest, CallingAGeneratorFunctionRunsNothing) {
    Log log;
    Future a, b;
    {
        Generator g = two_waits(log, a, b);
        EXPECT_TRUE(log.empty()); // like Python: the body waits for the first resume
        EXPECT_EQ(Probe::alive, 0);
        EXPECT_FALSE(g.done());
    }
    EXPECT_TRUE(log.empty()); // destroyed unstarted
}

// What Task::step does with it, by hand: resume it, complete what it yields.
TEST_F(GeneratorTest, ResumeRunsTheBodyToItsNextYieldAndHandsOutTheFuture) {
    Log log;
    Future a, b;
    Generator g = two_waits(log, a, b);
    EXPECT_EQ(g.resume(), &a); // the first resume starts it
    EXPECT_EQ(log, (Log{"start"}));
    EXPECT_THROW(g.result(), std::logic_error); // not ended yet
    a.set_result("A");
    EXPECT_EQ(g.resume(), &b); // `co_yield a` took a's result
    EXPECT_EQ(log, (Log{"start", "got A"}));
    b.set_result("B");
    EXPECT_EQ(g.resume(), nullptr); // ended
    EXPECT_TRUE(g.done());
    EXPECT_EQ(g.result(), "AB");
    EXPECT_EQ(log, (Log{"start", "got A", "got B"}));
    EXPECT_THROW(g.resume(), std::logic_error); // nothing left to run
}

TEST_F(GeneratorTest, AFailedFutureThrowsAtTheYieldAndEndsTheBody) {
    Log log;
    Future a, b;
    Generator g = two_waits(log, a, b);
    g.resume();
    EXPECT_EQ(Probe::alive, 1);
    a.set_exception(std::make_exception_ptr(std::runtime_error("refused")));
    EXPECT_EQ(g.resume(), nullptr);
    EXPECT_TRUE(g.done());
    EXPECT_EQ(Probe::alive, 0); // its locals unwound
    EXPECT_EQ(log, (Log{"start"}));
    EXPECT_THROW(g.result(), std::runtime_error);
}

TEST_F(GeneratorTest, TaskRunsToTheFirstYieldThenResumesWithEachResult) {
    Log log;
    Future a, b;
    Task task(two_waits(log, a, b));
    EXPECT_EQ(log, (Log{"start"})); // the constructor ran it up to `co_yield a`
    EXPECT_FALSE(task.done());
    a.set_result("A"); // the "event loop": the Task's step runs inside set_result
    EXPECT_EQ(log, (Log{"start", "got A"}));
    EXPECT_FALSE(task.done());
    b.set_result("B");
    EXPECT_EQ(log, (Log{"start", "got A", "got B"}));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "AB");
}

TEST_F(GeneratorTest, AFutureDoneBeforeItIsYieldedNeedsNoWait) {
    Log log;
    Future a, b;
    b.set_result("B"); // ready before anyone waits for it
    Task task(two_waits(log, a, b));
    a.set_result("A"); // resumes, yields b, which is done: goes straight on
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "AB");
    EXPECT_EQ(log, (Log{"start", "got A", "got B"}));
}

TEST_F(GeneratorTest, TaskIsAFutureWhoseCallbacksRunWhenTheGeneratorReturns) {
    Log log;
    Future a, b;
    Task task(two_waits(log, a, b));
    std::string seen;
    task.add_done_callback([&](Future& done) { seen = done.result(); });
    a.set_result("1");
    EXPECT_EQ(seen, "");
    b.set_result("2");
    EXPECT_EQ(seen, "12");
}

TEST_F(GeneratorTest, AnErrorOnTheFutureFailsTheTaskAtTheLineThatWaited) {
    Log log;
    Future a, b;
    Task task(two_waits(log, a, b));
    a.set_exception(std::make_exception_ptr(std::runtime_error("refused")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(what(task.exception()), "refused");
    EXPECT_EQ(log, (Log{"start"})); // no line after the co_yield ran
    EXPECT_EQ(Probe::alive, 0);
}

Generator many_done_futures(int n) {
    Probe probe;
    Value sum;
    for (int i = 0; i < n; ++i) {
        Future f;
        f.set_result(i % 1000 == 0 ? "k" : "");
        sum += co_yield f; // already done: the Task loops instead of calling itself
    }
    co_return sum;
}

TEST_F(GeneratorTest, ManyAlreadyDoneFuturesDoNotGrowTheStack) {
    Task task(many_done_futures(200'000));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), std::string(200, 'k'));
}

// Step 1's I/O pattern (fetch_plain_yield): a new future each time round the
// loop, a local of the generator — so it dies inside its own set_result().
struct FakeLoop {
    std::vector<Future*> pending; // what a selector's keys would point at
};

Generator read_loop_like(FakeLoop& loop) {
    Probe probe;
    Value all;
    for (;;) {
        Future f;
        loop.pending.push_back(&f);
        Value chunk = co_yield f;
        if (chunk.empty()) break;
        all += chunk;
    }
    co_return all;
}

// Plays the event loop: completes whatever the generator now waits on with
// each chunk in turn.
void feed(FakeLoop& loop, std::vector<std::string> chunks) {
    for (const std::string& chunk : chunks) {
        ASSERT_EQ(loop.pending.size(), 1u);
        Future* f = loop.pending.back();
        loop.pending.clear();
        f->set_result(chunk); // resumes the generator, which destroys *f (ASan would see)
    }
}

TEST_F(GeneratorTest, AFutureOwnedByItsGeneratorMayDieInsideItsOwnCallback) {
    FakeLoop loop;
    Task task(read_loop_like(loop));
    feed(loop, {"ab", "cd", ""});
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "abcd");
}

Generator catching(Log& log, Future& f) {
    Probe probe;
    try {
        co_yield f;
        log.push_back("not reached");
    } catch (const std::runtime_error& e) {
        log.push_back(std::string("caught ") + e.what());
    }
    co_return "recovered";
}

TEST_F(GeneratorTest, CancelThrowsIntoTheGeneratorAtItsYield) {
    Log log;
    Future f;
    Task task(catching(log, f));
    task.cancel(std::make_exception_ptr(std::runtime_error("timed out")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "recovered");
    EXPECT_EQ(what(f.exception()), "timed out"); // the future it waited on carries the error
    EXPECT_EQ(log, (Log{"caught timed out"}));
    task.cancel(std::make_exception_ptr(std::runtime_error("again"))); // done: no effect
    EXPECT_EQ(task.result(), "recovered");
}

// --- Step 2: yield from — sub-generators, run by yield_from() ---------------------------

Generator leaf(Log& log, Future& f, std::string name) {
    Probe probe;
    log.push_back(name + " waits");
    Value v = co_yield f;
    log.push_back(name + " got " + v);
    co_return name + "(" + v + ")";
}

Generator middle(Log& log, Future& f1, Future& f2) {
    Probe probe;
    Value one = co_yield leaf(log, f1, "leaf1");
    log.push_back("middle has " + one);
    Value two = co_yield leaf(log, f2, "leaf2");
    co_return one + "+" + two;
}

Generator outer(Log& log, Future& f1, Future& f2) {
    Probe probe;
    Value both = co_yield middle(log, f1, f2);
    log.push_back("outer has " + both);
    co_return "[" + both + "]";
}

// Step 1's Task cannot run it alone: it is handed a generator, not a Future.
TEST_F(YieldFromTest, WithoutYieldFromAYieldedGeneratorFailsTheTaskClearly) {
    Log log;
    Future f1, f2;
    {
        Task task(outer(log, f1, f2));
        ASSERT_TRUE(task.done());
        EXPECT_THROW(task.result(), std::logic_error);
        EXPECT_NE(what(task.exception()).find("yield_from"), std::string::npos)
            << what(task.exception());
        EXPECT_TRUE(log.empty()); // the sub-generator never ran
    }
    EXPECT_EQ(Probe::alive, 0); // and the suspended frame went with the task
}

TEST_F(YieldFromTest, ReturnValuesTravelUpNestedSubGenerators) {
    Log log;
    Future f1, f2;
    Task task(yield_from(outer(log, f1, f2)));
    EXPECT_EQ(log, (Log{"leaf1 waits"})); // three frames deep, waiting on f1
    EXPECT_EQ(Probe::alive, 3);
    f1.set_result("a");
    EXPECT_EQ(Probe::alive, 3); // leaf1 finished, leaf2 started
    f2.set_result("b");
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "[leaf1(a)+leaf2(b)]");
    EXPECT_EQ(log, (Log{"leaf1 waits", "leaf1 got a", "middle has leaf1(a)", "leaf2 waits",
                        "leaf2 got b", "outer has leaf1(a)+leaf2(b)"}));
}

TEST_F(YieldFromTest, AGeneratorWithoutSubGeneratorsRunsAsInStep1) {
    Log log;
    Future a, b;
    Task task(yield_from(two_waits(log, a, b)));
    a.set_result("A");
    b.set_result("B");
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "AB");
    EXPECT_EQ(log, (Log{"start", "got A", "got B"}));
}

// A chain `depth` generators deep: each yields the next, the last waits on f.
// Each level adds one to what the level below returned.
Generator chain(int depth, Future& f) {
    Probe probe;
    if (depth == 0) {
        Value v = co_yield f;
        co_return v;
    }
    Value below = co_yield chain(depth - 1, f);
    co_return std::to_string(std::stoi(below) + 1);
}

TEST_F(YieldFromTest, TheTrampolineRunsDeepChainsWithoutDeepRecursion) {
    // One C++ call per level, going down or coming back up, would need
    // megabytes of stack at this depth.
    constexpr int depth = 100'000;
    Future f;
    Task task(yield_from(chain(depth, f)));
    EXPECT_EQ(Probe::alive, depth + 1);
    f.set_result("0");
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), std::to_string(depth)); // every level returned to its parent
    EXPECT_EQ(Probe::alive, 0);
}

Generator done_futures_below(int n) {
    Probe probe;
    Value all = co_yield many_done_futures(n);
    co_return all;
}

TEST_F(YieldFromTest, ManyAlreadyDoneFuturesDoNotGrowTheStack) {
    Task task(yield_from(done_futures_below(200'000)));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), std::string(200, 'k'));
}

Generator catching_parent(Log& log, Future& f) {
    Probe probe;
    try {
        co_yield leaf(log, f, "leaf");
        log.push_back("not reached");
    } catch (const std::runtime_error& e) {
        // leaf's frame has already unwound: its Probe is gone.
        log.push_back(std::string("parent caught ") + e.what() + " with " +
                      std::to_string(Probe::alive) + " frame(s) alive");
    }
    co_return "recovered";
}

TEST_F(YieldFromTest, AnErrorThrownIntoASubGeneratorIsCaughtByItsParent) {
    Log log;
    Future f;
    Task task(yield_from(catching_parent(log, f)));
    EXPECT_EQ(Probe::alive, 2);
    f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.exception(), nullptr);
    EXPECT_EQ(task.result(), "recovered");
    // leaf saw the error at its co_yield (its next line never ran), and the
    // parent caught it at its own co_yield.
    EXPECT_EQ(log, (Log{"leaf waits", "parent caught boom with 1 frame(s) alive"}));
}

Generator throws_at_once() {
    Probe probe;
    throw std::runtime_error("no socket");
    co_return ""; // (makes this a coroutine; never reached)
}

Generator catches_a_fresh_failure(Log& log) {
    Probe probe;
    try {
        co_yield throws_at_once();
    } catch (const std::runtime_error& e) {
        log.push_back(std::string("caught ") + e.what());
    }
    co_return "after";
}

TEST_F(YieldFromTest, ASubGeneratorThatFailsBeforeItsFirstWaitThrowsIntoItsParent) {
    Log log;
    Task task(yield_from(catches_a_fresh_failure(log)));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "after");
    EXPECT_EQ(log, (Log{"caught no socket"}));
}

TEST_F(YieldFromTest, AnUncaughtErrorEndsEveryFrameAndFailsTheTask) {
    Log log;
    Future f1, f2;
    Task task(yield_from(outer(log, f1, f2)));
    f1.set_exception(std::make_exception_ptr(std::runtime_error("refused")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(what(task.exception()), "refused");
    EXPECT_THROW(task.result(), std::runtime_error);
    EXPECT_EQ(log, (Log{"leaf1 waits"})); // no line after any co_yield ran
    EXPECT_EQ(Probe::alive, 0);
}

TEST_F(YieldFromTest, CancelThrowsIntoTheGeneratorWhereItWaits) {
    Log log;
    Future f;
    Task task(yield_from(catching_parent(log, f)));
    task.cancel(std::make_exception_ptr(std::runtime_error("timed out")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "recovered");
    EXPECT_TRUE(f.done()); // the future it waited on carries the error
    EXPECT_EQ(what(f.exception()), "timed out");
    EXPECT_EQ(log.back(), "parent caught timed out with 1 frame(s) alive");
    task.cancel(std::make_exception_ptr(std::runtime_error("again"))); // done: no effect
    EXPECT_EQ(task.result(), "recovered");
}

// Step 2's I/O pattern (read, read_all): the future is a local of a
// sub-generator, which ends — frame and future — inside that future's set_result().
Generator read_like(FakeLoop& loop) {
    Probe probe;
    Future f;
    loop.pending.push_back(&f);
    Value chunk = co_yield f;
    co_return chunk;
}

Generator read_all_like(FakeLoop& loop) {
    Probe probe;
    Value all;
    Value chunk = co_yield read_like(loop);
    while (!chunk.empty()) {
        all += chunk;
        chunk = co_yield read_like(loop);
    }
    co_return all;
}

TEST_F(YieldFromTest, AFutureOwnedByItsGeneratorMayDieInsideItsOwnCallback) {
    FakeLoop loop;
    Task task(yield_from(read_all_like(loop)));
    feed(loop, {"ab", "cd", ""});
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "abcd");
}

// --- no leaked frames -------------------------------------------------------------------

TEST_F(YieldFromTest, DestroyingATaskMidWaitDestroysEveryFrameOnItsStack) {
    Log log;
    Future f1, f2;
    {
        Task task(yield_from(outer(log, f1, f2)));
        EXPECT_EQ(Probe::alive, 3);
    }
    EXPECT_EQ(Probe::alive, 0);
    Future f3; // not f1: that one still holds the dead task's step (it must never complete)
    {
        Task task(yield_from(chain(50, f3)));
        EXPECT_EQ(Probe::alive, 51);
    }
    EXPECT_EQ(Probe::alive, 0); // and TearDown checks once more after each test
}

} // namespace
