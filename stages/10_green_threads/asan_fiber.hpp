// What AddressSanitizer must be told when this thread moves to another stack.
// ASan keeps a picture of "the" stack of each thread; a jump to a fiber's
// stack would look to it like a wild stack pointer, and the shadow memory of a
// stack we unmap would stay poisoned for whoever maps the address next. In a
// build without ASan every function here is empty.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define LADDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LADDER_ASAN 1
#endif
#endif

#ifdef LADDER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace ladder::green {

// Just before a switch to the stack [bottom, bottom + size). `fake_stack` keeps
// the leaving side's ASan state; nullptr when the leaving fiber has ended.
inline void asan_before_switch([[maybe_unused]] void** fake_stack,
                               [[maybe_unused]] const void* bottom,
                               [[maybe_unused]] std::size_t size) {
#ifdef LADDER_ASAN
    __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
}

// Just after arriving: hands back the state saved on leaving, and says which
// stack we came from (nullptr: don't care).
inline void asan_after_switch([[maybe_unused]] void* fake_stack,
                              [[maybe_unused]] const void** from_bottom,
                              [[maybe_unused]] std::size_t* from_size) {
#ifdef LADDER_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, from_bottom, from_size);
#endif
}

// Before a fiber's stack is unmapped: clear the poison its frames left behind.
inline void asan_forget_stack([[maybe_unused]] void* bottom, [[maybe_unused]] std::size_t size) {
#ifdef LADDER_ASAN
    __asan_unpoison_memory_region(bottom, size);
#endif
}

} // namespace ladder::green
