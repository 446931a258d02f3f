// The containers the coroutine loop is made of (common/): an intrusive FIFO
// list and a deadline heap whose elements know their own place.
#include "deadline_heap.hpp"
#include "intrusive_list.hpp"
#include "net.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

using namespace ladder;

namespace {
struct Item : Link {
    Clock::time_point deadline;
    std::uint32_t heap_index = DeadlineHeap<Item>::none;
};
} // namespace

TEST(List, IsFirstInFirstOutAndElementsLeaveWhenDestroyed) {
    List<Item> list;
    Item a, b;
    auto c = std::make_unique<Item>();
    list.push_back(a);
    list.push_back(*c);
    list.push_back(b);
    list.push_back(a); // pushed again: moves to the back, never there twice
    c.reset();         // destroyed while on the list: takes itself off
    std::vector<Item*> order;
    list.for_each([&](Item& i) { order.push_back(&i); });
    EXPECT_EQ(order, (std::vector<Item*>{&b, &a}));
    EXPECT_EQ(list.size(), 2u); // c left, and a counts once
    EXPECT_EQ(list.pop_front(), &b);
    EXPECT_EQ(list.pop_front(), &a);
    EXPECT_EQ(list.pop_front(), nullptr);

    List<Item> other;
    other.push_back(a);
    other.push_back(b);
    list.take_all(other);
    EXPECT_TRUE(other.empty());
    EXPECT_EQ(other.size(), 0u);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list.pop_front(), &a);
    EXPECT_EQ(list.pop_front(), &b);
    EXPECT_TRUE(list.empty());
}

TEST(DeadlineHeap, GivesEarliestFirstAfterRandomPushesAndErases) {
    std::mt19937 rng(7);
    std::vector<std::unique_ptr<Item>> items;
    DeadlineHeap<Item> heap;
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < 500; ++i) {
        items.push_back(std::make_unique<Item>());
        items.back()->deadline = t0 + std::chrono::milliseconds(rng() % 1000);
        heap.push(*items.back());
    }
    // Take out every third one, as if its fd had become ready first.
    for (std::size_t i = 0; i < items.size(); i += 3) {
        heap.erase(*items[i]);
        EXPECT_EQ(items[i]->heap_index, DeadlineHeap<Item>::none);
    }
    std::vector<Clock::time_point> popped;
    while (!heap.empty()) {
        popped.push_back(heap.top().deadline);
        heap.erase(heap.top());
    }
    EXPECT_EQ(popped.size(), 500u - 167u);
    EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
}
