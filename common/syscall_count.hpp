// How often a stage calls into the kernel for its sockets and its waits, by
// call: stages 07 and 11 report it per page (syscalls_per_page), counted the
// same way in both.
//
// Nothing in their code counts. They link syscall_count_dep, whose
// -Wl,--wrap options make the linker route every call our own code makes to
// socket(), connect(), send(), ... through a counter (syscall_count.cpp) and
// then on to the C library. Calls the C library makes inside itself (stdio's
// write, malloc's mmap) are not ours to count; liburing enters the kernel
// without the C library, so 11 counts its io_uring_enter calls where it makes
// them (count_syscall).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>

namespace ladder {

enum class Syscall {
    // a page's own calls
    socket,
    connect,
    getsockopt,
    send,
    recv,
    close,
    // 07's waits (selector.hpp)
    epoll_ctl,
    epoll_wait,
    poll,
    // 11's submissions and waits
    io_uring_enter,
};
inline constexpr int syscall_kinds = 10;

// Calls made by this thread so far, per kind.
struct SyscallCount {
    std::array<std::uint64_t, syscall_kinds> calls{};
    std::uint64_t total() const noexcept;
    SyscallCount operator-(const SyscallCount& earlier) const noexcept;
    double total_per_page(int pages) const noexcept; // to two decimals
    // {"epoll_ctl": 4.0, ...} per page, kinds never called left out.
    nlohmann::json per_page(int pages) const;
};

SyscallCount syscalls_so_far() noexcept;
void count_syscall(Syscall s) noexcept;

} // namespace ladder
