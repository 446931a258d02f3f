// The io_uring: two queues in memory the kernel shares with us.
//
//   the submission queue (SQ)  we write requests into it: "recv up to 1024
//                              bytes from fd 7 into this buffer"
//   the completion queue (CQ)  the kernel writes results into it: "that
//                              recv is done: 129 bytes"
//
// Writing a request and reading a result are plain memory accesses. The only
// syscall is io_uring_enter (enter()): it hands the kernel every request
// written since the last one and, when asked, sleeps until a result is there.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <stdexcept>

namespace ladder::uring {

// This machine gives us no ring; what() says why, in one line.
class RingUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Ring {
  public:
    // Throws RingUnavailable: an old kernel (ENOSYS), a container's seccomp
    // filter or kernel.io_uring_disabled (EPERM), a kernel without the
    // operations we use. LADDER_NO_IO_URING=ENOSYS or =EPERM pretends the
    // kernel refused, to test that path on a machine where it does not.
    explicit Ring(unsigned entries);
    ~Ring() { io_uring_queue_exit(&ring_); }
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;

    // A blank request in the SQ, with room for `then` more right behind it
    // (a linked timeout must follow its request in the same enter). A full SQ
    // is handed to the kernel first.
    io_uring_sqe& next_sqe(unsigned then = 0);
    // One io_uring_enter, if there is anything for it to do: submit what is
    // queued and, with `wait`, sleep until a completion arrives (no sleep if
    // one is there already).
    void enter(bool wait);
    // Each completion that has arrived, oldest first: f(user_data, res).
    template <class F>
    void for_each_completion(F f) {
        unsigned head, seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            f(io_uring_cqe_get_data64(cqe), cqe->res);
            ++seen;
        }
        io_uring_cq_advance(&ring_, seen); // the kernel may reuse those slots now
    }

  private:
    io_uring ring_{};
};

} // namespace ladder::uring
