// What a thread costs in memory, as the kernel counts it. Every thread gets its
// own stack, reserved up front as virtual address space (8 MiB by default: the
// `ulimit -s` value) but backed by resident memory only for the pages it touches.
#pragma once

#include <pthread.h>

#include <fstream>
#include <limits>
#include <string>

namespace ladder {

// The stack a new std::thread reserves (glibc takes it from RLIMIT_STACK).
inline long default_thread_stack_kb() {
    pthread_attr_t attr;
    if (::pthread_getattr_default_np(&attr) != 0) return -1;
    std::size_t size = 0;
    ::pthread_attr_getstacksize(&attr, &size);
    ::pthread_attr_destroy(&attr);
    return static_cast<long>(size / 1024);
}

// The peak virtual size of this process (VmPeak in /proc/self/status): all the
// address space it reserved, every thread's whole stack included.
inline long virtual_memory_peak_kb() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmPeak:") {
            long kb = -1;
            status >> kb;
            return kb;
        }
        status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return -1;
}

} // namespace ladder
