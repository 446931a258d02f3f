// Stage 06's Future, Task and yield-from trampoline, without sockets: the test
// plays the event loop and completes the futures itself.
#include "06_generators/future.hpp"
#include "06_generators/generator.hpp"
#include "06_generators/task.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace ladder::gen;

namespace {

using Log = std::vector<std::string>;

// Counts live generator frames: every generator below keeps one Probe as a
// local, so Probe::alive is the number of frames whose body has not ended.
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

// --- Task driving one generator -----------------------------------------------------

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
    }
    EXPECT_TRUE(log.empty()); // destroyed unstarted
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

// --- yield from: sub-generators on the Task's stack -------------------------------------

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

TEST_F(GeneratorTest, ReturnValuesTravelUpNestedSubGenerators) {
    Log log;
    Future f1, f2;
    Task task(outer(log, f1, f2));
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

// A chain `depth` generators deep: each yields the next, the last waits on f.
Generator chain(int depth, Future& f) {
    Probe probe;
    if (depth == 0) {
        Value v = co_yield f;
        co_return v;
    }
    Value below = co_yield chain(depth - 1, f);
    co_return below + ".";
}

TEST_F(GeneratorTest, TheTrampolineRunsDeepChainsWithoutDeepRecursion) {
    Future f;
    Task task(chain(2000, f));
    EXPECT_EQ(Probe::alive, 2001);
    f.set_result("x");
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "x" + std::string(2000, '.'));
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

// --- errors thrown into generators ------------------------------------------------------

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

TEST_F(GeneratorTest, AnErrorThrownIntoASubGeneratorIsCaughtByItsParent) {
    Log log;
    Future f;
    Task task(catching_parent(log, f));
    EXPECT_EQ(Probe::alive, 2);
    f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.exception(), nullptr);
    EXPECT_EQ(task.result(), "recovered");
    // leaf saw the error at its co_yield (its next line never ran), and the
    // parent caught it at its own co_yield.
    EXPECT_EQ(log, (Log{"leaf waits", "parent caught boom with 1 frame(s) alive"}));
}

TEST_F(GeneratorTest, AnUncaughtErrorEndsEveryFrameAndFailsTheTask) {
    Log log;
    Future f1, f2;
    Task task(outer(log, f1, f2));
    f1.set_exception(std::make_exception_ptr(std::runtime_error("refused")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(what(task.exception()), "refused");
    EXPECT_THROW(task.result(), std::runtime_error);
    EXPECT_EQ(log, (Log{"leaf1 waits"})); // no line after any co_yield ran
    EXPECT_EQ(Probe::alive, 0);
}

TEST_F(GeneratorTest, CancelThrowsIntoTheGeneratorWhereItWaits) {
    Log log;
    Future f;
    Task task(catching_parent(log, f));
    task.cancel(std::make_exception_ptr(std::runtime_error("timed out")));
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "recovered");
    EXPECT_TRUE(f.done()); // the future it waited on carries the error
    EXPECT_EQ(what(f.exception()), "timed out");
    EXPECT_EQ(log.back(), "parent caught timed out with 1 frame(s) alive");
    task.cancel(std::make_exception_ptr(std::runtime_error("again"))); // done: no effect
    EXPECT_EQ(task.result(), "recovered");
}

// --- the I/O pattern: a future that is a local of the generator waiting on it -----------

struct FakeLoop {
    std::vector<Future*> pending; // what a selector's keys would point at
};

Generator read_like(FakeLoop& loop) {
    Probe probe;
    Future f; // dies when this frame moves on — inside f.set_result's callback
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

TEST_F(GeneratorTest, AFutureOwnedByItsGeneratorMayDieInsideItsOwnCallback) {
    FakeLoop loop;
    Task task(read_all_like(loop));
    for (std::string chunk : {"ab", "cd", ""}) {
        ASSERT_EQ(loop.pending.size(), 1u);
        Future* f = loop.pending.back();
        loop.pending.clear();
        f->set_result(chunk); // resumes the generator, which destroys *f (ASan would see)
    }
    ASSERT_TRUE(task.done());
    EXPECT_EQ(task.result(), "abcd");
}

// --- no leaked frames -------------------------------------------------------------------

TEST_F(GeneratorTest, DestroyingATaskMidWaitDestroysEveryFrameOnItsStack) {
    Log log;
    Future f1, f2;
    {
        Task task(outer(log, f1, f2));
        EXPECT_EQ(Probe::alive, 3);
    }
    EXPECT_EQ(Probe::alive, 0);
    Future f3; // not f1: that one still holds the dead task's step (it must never complete)
    {
        Task task(chain(50, f3));
        EXPECT_EQ(Probe::alive, 51);
    }
    EXPECT_EQ(Probe::alive, 0); // and TearDown checks once more after each test
}

} // namespace
