#include "job.hpp"

#include <exception>
#include <string>

namespace ladder::coro {

namespace {
thread_local std::uint64_t last_finished_seq = 0;
}

void JobBase::finish(std::exception_ptr error) {
    unlink(); // off its Cancellation's list of live jobs
    done_ = true;
    error_ = std::move(error);
    if (error_) {
        try {
            std::rethrow_exception(error_);
        } catch (const CancelledError&) {
            cancelled_ = true;
        } catch (...) {
        }
    }
    finished_seq_ = ++last_finished_seq;
    finished_.wake_all();
    for (auto& f : std::exchange(callbacks_, {})) f();
}

std::string JobBase::state() const {
    if (done_ && cancelled_) return "cancelled";
    if (done_ && error_) {
        try {
            std::rethrow_exception(error_);
        } catch (const std::exception& e) {
            return std::string("failed: ") + e.what();
        } catch (...) {
            return "failed";
        }
    }
    if (done_) return "done";
    if (Cancellation::current().running() == this) return "running";
    if (parked_.empty()) return "ready"; // woken, about to run
    const Waiter& w = *parked_.front();
    std::string state = "waiting at " + w.where();
    if (w.fd >= 0) state += " (fd " + std::to_string(w.fd) + (w.events & EVENT_READ ? " to read)" : " to write)");
    else if (w.deadline != never) state += " (a timer)";
    return state;
}

} // namespace ladder::coro
