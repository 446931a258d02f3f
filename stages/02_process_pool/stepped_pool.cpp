#include "stepped_pool.hpp"

#include <signal.h>

namespace ladder {

int SteppedProcessPool::idle_worker() const noexcept {
    for (std::size_t i = 0; i < workers_.size(); ++i)
        if (workers_[i].idle()) return static_cast<int>(i);
    return -1;
}

int SteppedProcessPool::socket_of(int worker) const noexcept {
    return workers_[static_cast<std::size_t>(worker)].socket.get();
}

void SteppedProcessPool::kill_worker(int worker) {
    Worker& w = at(worker);
    if (w.pid <= 0) return;
    ::kill(w.pid, SIGKILL);
    reap(w);
    w.request = -1;
}

} // namespace ladder
