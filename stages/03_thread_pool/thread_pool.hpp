// A fixed set of threads that run submitted tasks — the seed's
// ThreadPoolExecutor, by hand.
//
// submit(f) puts f on a queue and returns a std::future for its result. Each
// worker thread loops: wait for a task, take it, run it. The queue is the only
// state the threads share, and one mutex guards it. Destruction lets the
// threads finish every queued task, then joins them — like leaving a
// `with ThreadPoolExecutor(...)` block.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

namespace ladder {

class ThreadPool {
  public:
    // Starts `threads` threads now. If one cannot be started, the ones that
    // were are joined and the std::system_error goes to the caller.
    explicit ThreadPool(int threads) {
        if (threads < 1) throw std::invalid_argument("a thread pool needs at least one thread");
        threads_.reserve(static_cast<std::size_t>(threads));
        try {
            for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { work(i); });
        } catch (...) {
            finish_and_join();
            throw;
        }
    }

    // Runs what is still queued, then joins every thread.
    ~ThreadPool() { finish_and_join(); }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // Queues f. The future holds f's result once a thread has run it — or the
    // exception f threw, which future.get() throws again in the caller.
    template <typename F>
    auto submit(F f) -> std::future<std::invoke_result_t<F&>> {
        using R = std::invoke_result_t<F&>;
        // packaged_task is move-only, std::function must be copyable: share it.
        auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
        std::future<R> result = task->get_future();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) throw std::logic_error("submit() on a ThreadPool that is stopping");
            queue_.push_back([task] { (*task)(); });
        }
        wake_.notify_one(); // one sleeping thread is enough for one task
        return result;
    }

    int size() const noexcept { return static_cast<int>(threads_.size()); }

    // Inside a task: which of the pool's threads runs it (0 .. size-1). -1 on
    // any other thread. (For --trace: which worker handled which page.)
    static int current_worker() noexcept { return current_worker_; }

  private:
    // Each thread's whole life.
    void work(int index) {
        current_worker_ = index;
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock lock(mutex_);
                // Sleep (no CPU) until there is a task or the pool is stopping.
                wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return; // stopping, and nothing left to run
                task = std::move(queue_.front());
                queue_.pop_front();
            }
            task(); // outside the lock, so the other threads can take tasks meanwhile
        }
    }

    void finish_and_join() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;            // guarded by mutex_
    bool stopping_ = false;                              // guarded by mutex_
    std::vector<std::thread> threads_;                   // touched only by the owner's thread
    static inline thread_local int current_worker_ = -1; // each thread has its own
};

} // namespace ladder
