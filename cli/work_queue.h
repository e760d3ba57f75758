// A fixed set of worker threads and a bounded queue of jobs waiting for them. submit() never
// blocks: when `max_waiting` jobs already wait (beyond those an idle worker is about to take;
// so max_waiting 0 means "no waiting"), it refuses at once, so an overloaded server
// answers 503 instead of piling requests up. A job that its submitter gave up on (timeout)
// before a worker took it is skipped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace lucent::cli {

class WorkQueue {
  public:
    struct Job {
        std::function<void()> work;
        bool done = false, cancelled = false, started = false;
    };

    WorkQueue(size_t workers, size_t max_waiting) : max_waiting_(max_waiting) {
        for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
    }
    ~WorkQueue() { shutdown(); }
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // Queues `work`; null when the queue is full or shutting down.
    std::shared_ptr<Job> submit(std::function<void()> work) {
        auto job = std::make_shared<Job>();
        job->work = std::move(work);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            // Idle workers take queued jobs at once, so only jobs beyond them wait.
            const size_t idle = threads_.size() - running_;
            if (stopping_ || waiting_.size() >= max_waiting_ + idle) return nullptr;
            waiting_.push_back(job);
        }
        wake_.notify_one();
        return job;
    }

    // Waits until the job ran, or `timeout` passed: then a job not yet started is cancelled
    // (a started one finishes in the background; models cannot be interrupted). True if done.
    template <typename Duration>
    bool wait(const std::shared_ptr<Job>& job, Duration timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (done_.wait_for(lock, timeout, [&] { return job->done; })) return true;
        job->cancelled = true;
        return false;
    }

    size_t waiting() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return waiting_.size();
    }
    size_t running() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return running_;
    }

    // Lets the queued jobs finish, then joins the workers.
    void shutdown() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : threads_)
            if (t.joinable()) t.join();
    }

  private:
    void loop() {
        for (;;) {
            std::shared_ptr<Job> job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
                if (waiting_.empty()) return;  // stopping and drained
                job = waiting_.front();
                waiting_.pop_front();
                if (job->cancelled) continue;
                job->started = true;
                ++running_;
            }
            job->work();
            {
                std::lock_guard<std::mutex> lock(mutex_);
                job->done = true;
                --running_;
            }
            done_.notify_all();
        }
    }

    const size_t max_waiting_;
    mutable std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::deque<std::shared_ptr<Job>> waiting_;
    std::vector<std::thread> threads_;
    size_t running_ = 0;
    bool stopping_ = false;
};

}  // namespace lucent::cli
