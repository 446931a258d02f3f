#include "cancellation.hpp"
#include "job.hpp"

#include <algorithm>
#include <stdexcept>

namespace ladder::coro {

namespace {
thread_local Cancellation* current_cancellation = nullptr;
}

Cancellation::Cancellation(Loop& loop) : loop_(loop), outer_(current_cancellation) {
    loop_.attach(*this);
    current_cancellation = this;
}

Cancellation::~Cancellation() {
    current_cancellation = outer_;
    loop_.detach(*this);
}

Cancellation& Cancellation::current() {
    if (!current_cancellation)
        throw std::logic_error("no Cancellation attached to this thread's loop (make one "
                               "beside the loop, as 08's main() does)");
    return *current_cancellation;
}

void Cancellation::parking(Waiter& w) {
    if (!running_) return; // not a job's: nothing can cancel it
    if (std::exchange(running_->cancel_pending_, false)) throw CancelledError{};
    owner_[&w] = running_;
    running_->parked_.push_back(&w);
}

JobBase* Cancellation::disown(Waiter& w) noexcept {
    auto it = owner_.find(&w);
    if (it == owner_.end()) return nullptr;
    JobBase* job = it->second;
    owner_.erase(it);
    std::erase(job->parked_, &w);
    return job;
}

void Cancellation::started(JobBase& job) {
    jobs_.push_back(job);
}

std::vector<JobBase*> Cancellation::live_jobs() const {
    std::vector<JobBase*> live;
    jobs_.for_each([&](JobBase& job) { live.push_back(&job); });
    return live;
}

void Cancellation::cancel(JobBase& job) {
    if (job.done()) return;
    job.cancel_pending_ = true;
    for (Waiter* w : job.parked_)
        if (w->parked) { // (one already woken, on the ready list, runs on: the next park fails)
            loop_.wake(*w, std::make_exception_ptr(CancelledError{}));
            job.cancel_pending_ = false; // delivered, at a co_await
        }
}

} // namespace ladder::coro
