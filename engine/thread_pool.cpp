#include "engine/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace lucent {
namespace {

// Most workers the pool starts (a thread count above it runs with this many).
constexpr int kMaxWorkers = 255;
// Polls of the job word before an idle worker sleeps: tens of microseconds, enough to carry a
// worker from one short region of a streaming run to the next, little to take from a neighbour.
constexpr int kSpinPolls = 20000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// One job at a time. Its fields are written by the caller that holds `busy` before it publishes
// the new epoch (release), and read by a worker only after it has announced itself in `active`
// and seen that epoch still open, so no worker reads a job that has been closed and reused.
class Pool {
  public:
    void run(int64_t count, int threads, int64_t chunk, void (*call)(const void*, int64_t, int),
             const void* ctx) {
        if (threads > kMaxWorkers + 1) threads = kMaxWorkers + 1;
        grow(threads - 1);
        count_ = count;
        chunk_ = chunk;
        threads_ = threads;
        call_ = call;
        ctx_ = ctx;
        next_.store(0, std::memory_order_relaxed);
        const uint64_t e = epoch_.load(std::memory_order_relaxed) + 1;
        epoch_.store(e, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) > 0) {
            { std::lock_guard<std::mutex> lock(mu_); }
            cv_.notify_all();
        }
        work(0);
        closed_.store(e, std::memory_order_seq_cst);
        // Only workers that claimed items are waited for (see work()).
        while (active_.load(std::memory_order_seq_cst) != 0) cpu_relax();
    }

    std::mutex busy;  // held by the caller whose job the pool runs

  private:
    // Starts workers up to `workers`. When the system refuses a thread, the pool stays at what
    // it has: a missing worker only means fewer hands, since no job waits for a worker that
    // did not claim items.
    void grow(int workers) {
        while (!cannot_grow_ && static_cast<int>(workers_started_) < workers) {
            const int id = static_cast<int>(workers_started_) + 1;
            try {
                std::thread([this, id] { worker(id); }).detach();
            } catch (...) {
                cannot_grow_ = true;
                return;
            }
            workers_started_ = static_cast<unsigned>(id);
        }
    }

    // Claims chunks of the current job until none is left.
    void work(int thread) {
        for (;;) {
            const int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
            if (begin >= count_) return;
            const int64_t end = begin + chunk_ < count_ ? begin + chunk_ : count_;
            for (int64_t i = begin; i < end; ++i) call_(ctx_, i, thread);
        }
    }

    void worker(int id) {
        uint64_t seen = epoch_.load(std::memory_order_acquire);
        for (;;) {
            uint64_t e = seen;
            for (int i = 0; i < kSpinPolls && e == seen; ++i) {
                cpu_relax();
                e = epoch_.load(std::memory_order_acquire);
            }
            if (e == seen) {
                std::unique_lock<std::mutex> lock(mu_);
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                cv_.wait(lock, [&] { return epoch_.load(std::memory_order_seq_cst) != seen; });
                sleepers_.fetch_sub(1, std::memory_order_relaxed);
                e = epoch_.load(std::memory_order_acquire);
            }
            seen = e;
            // Announce, then check that the job is still the one seen and still open: a caller
            // that closed it before seeing this worker in active_ has returned, and its job's
            // fields must not be read.
            active_.fetch_add(1, std::memory_order_seq_cst);
            if (epoch_.load(std::memory_order_seq_cst) == e &&
                closed_.load(std::memory_order_seq_cst) != e && id < threads_)
                work(id);
            active_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }

    std::atomic<uint64_t> epoch_{0}, closed_{0};
    std::atomic<int64_t> next_{0};
    std::atomic<int> active_{0}, sleepers_{0};
    int64_t count_ = 0, chunk_ = 1;
    int threads_ = 1;
    void (*call_)(const void*, int64_t, int) = nullptr;
    const void* ctx_ = nullptr;
    unsigned workers_started_ = 0;  // under busy
    bool cannot_grow_ = false;      // under busy
    std::mutex mu_;
    std::condition_variable cv_;
};

// Never destroyed: detached workers may still be polling at exit. A forked child starts a fresh
// pool (the parent's workers do not exist there, and its locks may be mid-use).
Pool* g_pool = nullptr;
std::once_flag g_pool_once;
thread_local bool t_in_parallel = false;

Pool& pool() {
    std::call_once(g_pool_once, [] {
        g_pool = new Pool();
        pthread_atfork(nullptr, nullptr, [] { g_pool = new Pool(); });
    });
    return *g_pool;
}

int env_threads(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr) return 0;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    return end != v && n > 0 && n <= kMaxWorkers + 1 ? static_cast<int>(n) : 0;
}

}  // namespace

void parallel_run(int64_t count, int threads, int64_t chunk,
                  void (*call)(const void*, int64_t, int), const void* ctx) {
    if (chunk < 1) chunk = 1;
    Pool* p = threads > 1 && count > chunk && !t_in_parallel ? &pool() : nullptr;
    if (p == nullptr || !p->busy.try_lock()) {
        for (int64_t i = 0; i < count; ++i) call(ctx, i, 0);
        return;
    }
    t_in_parallel = true;
    p->run(count, threads, chunk, call, ctx);
    t_in_parallel = false;
    p->busy.unlock();
}

int default_threads() {
    static const int n = [] {
        for (const char* name : {"LUCENT_NUM_THREADS", "OMP_NUM_THREADS"})
            if (const int v = env_threads(name); v > 0) return v;
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
            return CPU_COUNT(&set);
        const unsigned hw = std::thread::hardware_concurrency();
        return hw > 0 ? static_cast<int>(hw) : 1;
    }();
    return n;
}

}  // namespace lucent
