// What AddressSanitizer must be told when this thread moves to another stack.
// ASan keeps a picture of each thread's stack: a jump to a fiber's stack would
// look to it like a wild stack pointer, and the shadow memory of a stack would
// stay poisoned for the next fiber on it, or whoever maps that address next. In a build
// without ASan, swap_context() is swapcontext() and the others are empty.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__) // g++
#define LADDER_ASAN 1
#elif defined(__has_feature) // clang++
#if __has_feature(address_sanitizer)
#define LADDER_ASAN 1
#endif
#endif

#include <ucontext.h>

#ifdef LADDER_ASAN
#include <dlfcn.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

#include <bit>
#endif

namespace ladder::green {

#ifdef LADDER_ASAN
// Just before switching to the stack [bottom, bottom + size). `fake_stack` keeps
// the leaving side's ASan state; nullptr when the leaving fiber has ended.
inline void asan_before_switch(void** fake_stack, const void* bottom, std::size_t size) {
    __sanitizer_start_switch_fiber(fake_stack, bottom, size);
}
// Just after arriving: hands back what was kept on leaving, and tells which stack we came from.
inline void asan_after_switch(void* fake_stack, const void** from_bottom, std::size_t* from_size) {
    __sanitizer_finish_switch_fiber(fake_stack, from_bottom, from_size);
}
// When a fiber's stack goes back to the pool, and before it is unmapped: clear the
// poison its frames left behind.
inline void asan_forget_stack(void* bottom, std::size_t size) {
    __asan_unpoison_memory_region(bottom, size);
}
// glibc's swapcontext() itself. ASan's wrapper of it warns on stderr that its
// support is partial and wipes the target stack's shadow at every switch; the
// two calls above tell ASan about each switch properly instead.
inline int swap_context(ucontext_t* from, const ucontext_t* to) {
    static const auto glibc = std::bit_cast<int (*)(ucontext_t*, const ucontext_t*)>(
        ::dlsym(::dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD), "swapcontext"));
    return glibc(from, to);
}
#else
inline int swap_context(ucontext_t* from, const ucontext_t* to) {
    return ::swapcontext(from, to);
}
inline void asan_before_switch(void**, const void*, std::size_t) {}
inline void asan_after_switch(void*, const void**, std::size_t*) {}
inline void asan_forget_stack(void*, std::size_t) {}
#endif

} // namespace ladder::green
