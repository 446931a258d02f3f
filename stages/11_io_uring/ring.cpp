#include "ring.hpp"
#include "error.hpp"
#include "syscall_count.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace ladder::uring {

namespace {

int sysctl_io_uring_disabled() { // -1: this kernel has no such switch
    int value = -1;
    if (std::FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r")) {
        if (std::fscanf(f, "%d", &value) != 1) value = -1;
        std::fclose(f);
    }
    return value;
}

std::string why_refused(int err) {
    switch (err) {
    case ENOSYS:
        return "this kernel has no io_uring (io_uring_setup: ENOSYS; this stage needs Linux 5.6+)";
    case EPERM:
    case EACCES:
        switch (sysctl_io_uring_disabled()) {
        case 2:
            return "io_uring is switched off here (sysctl kernel.io_uring_disabled = 2)";
        case 1:
            return "io_uring is for root and kernel.io_uring_group only here (sysctl "
                   "kernel.io_uring_disabled = 1)";
        default:
            return "io_uring is not allowed here (io_uring_setup: EPERM): a seccomp filter, "
                   "as in many containers, blocks it";
        }
    case ENOMEM:
        return "io_uring_setup: ENOMEM: the locked-memory limit is too small for the rings "
               "(ulimit -l, kernels before 5.12)";
    default:
        return std::string("io_uring_setup: ") + std::strerror(err);
    }
}

// The operations a page needs, each named with the kernel that brought it.
void require_operations(io_uring& ring) {
    std::unique_ptr<io_uring_probe, void (*)(io_uring_probe*)> probe(io_uring_get_probe_ring(&ring),
                                                                     io_uring_free_probe);
    if (!probe) throw RingUnavailable("this kernel cannot list its io_uring operations (5.6+)");
    struct Needed {
        int op;
        const char* name;
    };
    for (Needed n :
         {Needed{IORING_OP_CONNECT, "IORING_OP_CONNECT"}, Needed{IORING_OP_SEND, "IORING_OP_SEND"},
          Needed{IORING_OP_RECV, "IORING_OP_RECV"}, Needed{IORING_OP_CLOSE, "IORING_OP_CLOSE"},
          Needed{IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT"},
          Needed{IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"}})
        if (!io_uring_opcode_supported(probe.get(), n.op))
            throw RingUnavailable(std::string("this kernel's io_uring lacks ") + n.name +
                                  " (it needs Linux 5.6 or later)");
}

} // namespace

Ring::Ring(unsigned entries) {
    if (const char* fake = std::getenv("LADDER_NO_IO_URING"); fake && *fake) {
        int err = std::strcmp(fake, "ENOSYS") == 0 ? ENOSYS : EPERM;
        throw RingUnavailable(why_refused(err) + " [simulated: LADDER_NO_IO_URING=" + fake + "]");
    }
    io_uring_params params{};
    // Room for a completion per request in flight (a page has two: its
    // operation and that operation's timeout), so the CQ never overflows.
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = 65536;
    if (int err = io_uring_queue_init_params(entries, &ring_, &params); err < 0)
        throw RingUnavailable(why_refused(-err));
    try {
        require_operations(ring_);
    } catch (...) {
        io_uring_queue_exit(&ring_);
        throw;
    }
}

io_uring_sqe& Ring::next_sqe(unsigned then) {
    if (io_uring_sq_space_left(&ring_) <= then) enter(false);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) throw SysError("io_uring_get_sqe", "", EBUSY); // the kernel took none of the SQ
    return *sqe;
}

void Ring::enter(bool wait) {
    bool queued = io_uring_sq_ready(&ring_) > 0;
    wait = wait && io_uring_cq_ready(&ring_) == 0;
    if (!queued && !wait) return; // then liburing would not enter either
    count_syscall(Syscall::io_uring_enter);
    int n = io_uring_submit_and_wait(&ring_, wait ? 1 : 0);
    if (n < 0 && n != -EINTR) throw SysError("io_uring_enter", "", -n); // a signal: look around
}

} // namespace ladder::uring
