// For stage 09, not part of 02's lesson: the steps ProcessPool::map() is made
// of, one worker at a time, for a caller that waits on the workers' sockets in
// its own event loop instead of in map()'s poll():
//
//   int worker = pool.idle_worker();           // -1 if none is idle
//   pool.hand_out(worker, id, message);
//   ... wait until pool.socket_of(worker) is readable (its reply, or its death)
//   Outcome outcome = pool.take_reply(worker); // reaps the worker if it died
#pragma once

#include "process_pool.hpp"

namespace ladder {

class SteppedProcessPool : public ProcessPool {
  public:
    using ProcessPool::ProcessPool;

    int idle_worker() const noexcept; // an idle worker's number (0..size-1), or -1
    using ProcessPool::hand_out;
    int socket_of(int worker) const noexcept;
    using ProcessPool::take_reply;
    // SIGKILL one worker and reap it: for a reply nobody will take any more.
    void kill_worker(int worker);
};

} // namespace ladder
