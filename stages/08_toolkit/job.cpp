#include "job.hpp"

namespace ladder::coro {

namespace {
thread_local std::uint64_t last_finished_seq = 0;
}

void JobBase::finish(std::exception_ptr error) {
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

} // namespace ladder::coro
