// Thread scaling measured in pairs: one process holds the model at two thread counts and runs
// them alternately on the same random image, so each pair's two runs lie a second or two
// apart. On a shared VM the host's load changes over tens of seconds (the 23-block SSR's
// 2-thread runs drift between 1.2 and 2.1 s within one process), and two figures taken half a
// minute apart then measure the host as much as the engine; a pair does not.
//
//   bench_scaling MODEL.lcw WIDTH HEIGHT PAIRS [THREADS_A THREADS_B]    (default 1 2)
//   bench_scaling --rtt     (only the cores' round trip, below: "rtt <ns> ns")
//
// Prints each pair (A ms, B ms, A / B; the order inside a pair alternates) and a summary line
// "scaling <median of A / B> (quartiles ...) a_ms <median> b_ms <median>", after one warm-up run
// of each (plans and working memory are kept from it, as in a stream of same-sized images).
// After each pair, "rtt" is the round trip of a cache line between the first two cores this
// process may use (0.1 s of ping-pong): a VM's host moves its vCPUs, and on the Zen 4 guests
// here the round trip flips between about 125 ns and 340 ns for tens of seconds at a time,
// the far placement making Lucent's 2-thread SSR runs 30-50 % slower while 1-thread runs,
// and the cores' FMA, L2 and L3 rates, stay put. Uses only the public API (and pthreads).
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lucent/model.hpp"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double quartile(std::vector<double> v, int q) {
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) * static_cast<size_t>(q) / 4];
}

bool positive(const char* s, long max, long* v) {
    char* end = nullptr;
    *v = std::strtol(s, &end, 10);
    return end != s && *end == '\0' && *v > 0 && *v <= max;
}

bool pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// Round trip of one cache line between the first two cores of this process's affinity mask,
// in ns: this thread writes an even value, a helper pinned to the other core answers with the
// next odd one. -1 where the process has fewer than two cores. The caller's affinity is
// restored afterwards.
double core_round_trip_ns() {
    cpu_set_t mine;
    if (sched_getaffinity(0, sizeof(mine), &mine) != 0) return -1;
    int cpus[2] = {-1, -1}, found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
        if (CPU_ISSET(c, &mine)) cpus[found++] = c;
    if (found < 2) return -1;
    alignas(64) std::atomic<long> line{0};
    std::atomic<bool> stop{false};
    std::thread echo([&] {
        pin_to(cpus[1]);
        while (!stop.load(std::memory_order_relaxed)) {
            const long v = line.load(std::memory_order_acquire);
            if (v % 2 == 1) line.store(v + 1, std::memory_order_release);
        }
    });
    pthread_t self = pthread_self();
    cpu_set_t before;
    pthread_getaffinity_np(self, sizeof(before), &before);
    pin_to(cpus[0]);
    const auto t0 = std::chrono::steady_clock::now();
    long trips = 0;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(100)) {
        const long v = line.load(std::memory_order_acquire);
        line.store(v + 1, std::memory_order_release);
        while (line.load(std::memory_order_acquire) == v + 1) {
        }
        ++trips;
    }
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    stop.store(true);
    echo.join();
    pthread_setaffinity_np(self, sizeof(before), &before);
    return trips > 0 ? ns / static_cast<double>(trips) : -1;
}

int usage() {
    std::fprintf(stderr,
                 "usage: bench_scaling MODEL.lcw WIDTH HEIGHT PAIRS [THREADS_A THREADS_B]\n"
                 "       bench_scaling --rtt\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--rtt") {
        std::printf("rtt %.0f ns\n", core_round_trip_ns());
        return 0;
    }
    if (argc != 5 && argc != 7) return usage();
    long w = 0, h = 0, pairs = 0, ta = 1, tb = 2;
    if (!positive(argv[2], 1 << 16, &w) || !positive(argv[3], 1 << 16, &h) ||
        !positive(argv[4], 10000, &pairs) ||
        (argc == 7 && (!positive(argv[5], 1024, &ta) || !positive(argv[6], 1024, &tb))))
        return usage();

    lucent::Options oa, ob;
    oa.num_threads = static_cast<int32_t>(ta);
    ob.num_threads = static_cast<int32_t>(tb);
    lucent::Result<lucent::Model> a = lucent::Model::load(argv[1], oa);
    lucent::Result<lucent::Model> b = lucent::Model::load(argv[1], ob);
    if (!a.ok() || !b.ok()) {
        std::fprintf(stderr, "bench_scaling: %s\n",
                     (a.ok() ? b.status() : a.status()).message().c_str());
        return 1;
    }
    const lucent::Dims in{1, 3, h, w};
    lucent::Dims od;
    if (const lucent::Status st = a.value().output_dims(in, &od); !st.ok()) {
        std::fprintf(stderr, "bench_scaling: %s\n", st.message().c_str());
        return 1;
    }
    std::vector<float> x(static_cast<size_t>(in.count())), y(static_cast<size_t>(od.count()));
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (float& v : x) v = u(rng);

    // One timed run; a failed run ends the program (the figures would mean nothing).
    auto timed = [&](const lucent::Model& m) {
        const auto t0 = std::chrono::steady_clock::now();
        const lucent::Status st = m.run(x.data(), in, y.data());
        const auto t1 = std::chrono::steady_clock::now();
        if (!st.ok()) {
            std::fprintf(stderr, "bench_scaling: %s\n", st.message().c_str());
            std::exit(1);
        }
        return std::chrono::duration<double, std::milli>(t1 - t0).count();
    };
    timed(a.value());
    timed(b.value());
    std::vector<double> ta_ms, tb_ms, ratio;
    for (long i = 0; i < pairs; ++i) {
        double ra = 0, rb = 0;
        if (i % 2 == 0) {
            ra = timed(a.value());
            rb = timed(b.value());
        } else {
            rb = timed(b.value());
            ra = timed(a.value());
        }
        ta_ms.push_back(ra);
        tb_ms.push_back(rb);
        ratio.push_back(ra / rb);
        std::printf("pair %ld: %ld threads %.1f ms, %ld threads %.1f ms, %.3fx, rtt %.0f ns\n", i,
                    ta, ra, tb, rb, ra / rb, core_round_trip_ns());
        std::fflush(stdout);
    }
    std::printf("scaling %.3f (quartiles %.3f %.3f) a_ms %.1f b_ms %.1f\n", median(ratio),
                quartile(ratio, 1), quartile(ratio, 3), median(ta_ms), median(tb_ms));
    return 0;
}
