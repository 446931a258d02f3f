// An intrusive list: the node (Link) lives inside the element — for the
// coroutine stages, a Waiter in a parked coroutine's frame — so putting an
// element on a list allocates nothing, and an element destroyed while on a
// list leaves it on the way out (~Link).
#pragma once

#include <cstddef>

namespace ladder {

// A node of a doubly-linked list. Not copyable: a list points at it.
struct Link {
    Link() noexcept = default;
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() { unlink(); }

    bool linked() const noexcept { return next != this; }
    void unlink() noexcept {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }

    Link* prev = this;
    Link* next = this;
};

// First in, first out. T derives from Link; an element is on one list at most.
template <class T>
class List {
  public:
    List() = default;
    List(const List&) = delete;
    List& operator=(const List&) = delete;
    ~List() {
        while (!empty()) head_.next->unlink();
    }

    bool empty() const noexcept { return !head_.linked(); }
    // Walks the list: the list keeps no count, so that linking stays two stores.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const Link* l = head_.next; l != &head_; l = l->next) ++n;
        return n;
    }
    void push_back(T& x) noexcept {
        x.unlink(); // on a list already: it moves
        x.prev = head_.prev;
        x.next = &head_;
        head_.prev->next = &x;
        head_.prev = &x;
    }
    T* pop_front() noexcept {
        if (empty()) return nullptr;
        T* x = static_cast<T*>(head_.next);
        x->unlink();
        return x;
    }
    // Move every element of `other` to the back of this list, in order, in O(1).
    void take_all(List& other) noexcept {
        if (other.empty()) return;
        Link *first = other.head_.next, *last = other.head_.prev;
        other.head_.prev = other.head_.next = &other.head_;
        first->prev = head_.prev;
        last->next = &head_;
        head_.prev->next = first;
        head_.prev = last;
    }
    template <class F>
    void for_each(F f) const {
        for (Link* l = head_.next; l != &head_; l = l->next) f(*static_cast<T*>(l));
    }

  private:
    Link head_; // head_.next is the first element, head_.prev the last
};

} // namespace ladder
