// Allocation failure anywhere in loading and running becomes a status, never an exception out
// of the API, a crash or std::terminate. Every operator new and aligned_alloc (the tensor
// allocator, wrapped at link time with -Wl,--wrap=aligned_alloc) of this binary goes through a
// countdown: the test counts the allocations of a clean load + run, then fails the 1st, 2nd,
// ... of them in turn (a sample of them when there are many) and checks each run ends in OK
// or kOutOfMemory. Also: an AtomicFile whose process dies by SIGTERM leaves no temporary file.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "cli/atomic_file.h"
#include "engine/memory_info.h"
#include "lucent/lucent.h"
#include "lucent/lucent.hpp"

// The replaced operator new and delete below pair malloc with free; GCC's inlining check cannot
// see that and reports a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<long> g_countdown{-1};  // < 0: disarmed
std::atomic<long> g_seen{0};

bool should_fail() {
    if (g_countdown.load(std::memory_order_relaxed) < 0) return false;
    g_seen.fetch_add(1, std::memory_order_relaxed);
    return g_countdown.fetch_sub(1, std::memory_order_relaxed) == 0;
}

void* checked_malloc(size_t n) {
    if (should_fail()) return nullptr;
    return std::malloc(n ? n : 1);
}

}  // namespace

void* operator new(size_t n) {
    void* p = checked_malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return checked_malloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return checked_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

extern "C" void* __real_aligned_alloc(size_t alignment, size_t size);
extern "C" void* __wrap_aligned_alloc(size_t alignment, size_t size) {
    if (should_fail()) return nullptr;
    return __real_aligned_alloc(alignment, size);
}

namespace lucent {
namespace {

// The test's own buffers, allocated before the countdown is armed.
struct Buffers {
    std::vector<uint8_t> in = std::vector<uint8_t>(9 * 7 * 4, 100);
    std::vector<uint8_t> out = std::vector<uint8_t>(36 * 28 * 4);
};

// One load + run of an embedded model on a small RGBA image, with `countdown` allocations
// allowed (-1: all); returns the first failing status.
Status load_and_run(ModelKind kind, Buffers* b, long countdown) {
    Options opt;
    opt.num_threads = 2;
    g_countdown = countdown;
    Status st;
    {
        Result<Model> m = Model::load_default(kind, opt);
        if (!m.ok()) {
            st = m.status();
        } else {
            const int64_t s = m.value().scale();
            st = m.value().run_image(
                ConstImageView{b->in.data(), b->in.size(), 9, 7, 4, PixelType::kU8},
                ImageView{b->out.data(), static_cast<size_t>(9 * s * 7 * s * 4), 9 * s, 7 * s, 4,
                          PixelType::kU8});
        }
    }
    g_countdown = -1;
    return st;
}

void sweep(ModelKind kind) {
    Buffers b;
    g_seen = 0;
    ASSERT_TRUE(load_and_run(kind, &b, 1L << 40).ok());
    const long total = g_seen.load();
    ASSERT_GT(total, 10);
    const long stride = total > 400 ? total / 400 : 1;
    int failures = 0;
    for (long i = 0; i < total; i += stride) {
        const Status st = load_and_run(kind, &b, i);
        if (!st.ok()) {
            ++failures;
            EXPECT_EQ(st.code(), StatusCode::kOutOfMemory)
                << "allocation " << i << ": " << st.message();
        }
    }
    EXPECT_GT(failures, 0);
    std::printf("%s: %ld allocations, every %ld-th failed in turn, %d runs ended in kOutOfMemory\n",
                kind == ModelKind::kSsr ? "SSR" : "RED", total, stride, failures);
}

TEST(Faults, AllocationFailureIsAStatusSsr) { sweep(ModelKind::kSsr); }
TEST(Faults, AllocationFailureIsAStatusRed) { sweep(ModelKind::kRed); }

TEST(Faults, AllocationFailureThroughTheCApi) {
    for (long i = 0; i < 200; i += 3) {
        lucent_model* m = nullptr;
        g_countdown = i;
        const lucent_status st = lucent_model_load_default(LUCENT_MODEL_RED, nullptr, &m);
        g_countdown = -1;
        EXPECT_TRUE(st == LUCENT_STATUS_OK || st == LUCENT_STATUS_OUT_OF_MEMORY) << i;
        EXPECT_EQ(st == LUCENT_STATUS_OK, m != nullptr);
        lucent_model_free(m);
    }
}

std::vector<std::string> temporaries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir.c_str())) {
        while (const dirent* e = readdir(d))
            if (std::strncmp(e->d_name, ".lucent-", 8) == 0) out.push_back(e->d_name);
        closedir(d);
    }
    return out;
}

TEST(Faults, SignalRemovesTheTemporaryFile) {
    char tmpl[] = "/tmp/lucent-signal-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            cli::install_cleanup_handlers();
            Result<cli::AtomicFile> f = cli::AtomicFile::create(dir + "/out.png");
            if (!f.ok()) _exit(3);
            std::fputs("partial", f.value().file());
            std::fflush(f.value().file());
            if (temporaries(dir).size() != 1) _exit(4);
            raise(sig);
            _exit(5);  // not reached: the handler re-raises with the default action
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
        EXPECT_EQ(WTERMSIG(status), sig);
        EXPECT_EQ(temporaries(dir), std::vector<std::string>{}) << "signal " << sig;
        EXPECT_NE(access((dir + "/out.png").c_str(), F_OK), 0);
    }
    rmdir(dir.c_str());
}

TEST(Faults, VanishedFolderLeavesNothing) {
    char tmpl[] = "/tmp/lucent-vanish-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    Result<cli::AtomicFile> f = cli::AtomicFile::create(dir + "/out.png");
    ASSERT_TRUE(f.ok());
    std::fputs("data", f.value().file());
    // The folder disappears while the file is being written (its temporary file with it).
    for (const std::string& t : temporaries(dir)) unlink((dir + "/" + t).c_str());
    ASSERT_EQ(rmdir(dir.c_str()), 0);
    const Status st = f.value().commit();
    EXPECT_EQ(st.code(), StatusCode::kIo) << st.message();
}

TEST(MemoryInfo, CgroupLimitsLowerPhysicalMemory) {
    char tmpl[] = "/tmp/lucent-cgroup-XXXXXX";
    const std::string root = mkdtemp(tmpl);
    auto write = [](const std::string& path, const char* text) {
        FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr) << path;
        std::fputs(text, f);
        std::fclose(f);
    };
    const uint64_t gib = 1ULL << 30;
    // No cgroup information: physical memory.
    EXPECT_EQ(usable_memory_from(24 * gib, root, ""), 24 * gib);
    // v2: the pod's own limit, and a tighter parent.
    ASSERT_EQ(system(("mkdir -p " + root + "/kubepods/pod1").c_str()), 0);
    write(root + "/kubepods/pod1/memory.max", "2147483648\n");
    write(root + "/kubepods/memory.max", "max\n");
    EXPECT_EQ(usable_memory_from(24 * gib, root, "0::/kubepods/pod1\n"), 2 * gib);
    write(root + "/kubepods/memory.max", "1073741824\n");
    EXPECT_EQ(usable_memory_from(24 * gib, root, "0::/kubepods/pod1\n"), 1 * gib);
    // v1: memory.limit_in_bytes; the "unlimited" value is ignored.
    ASSERT_EQ(system(("mkdir -p " + root + "/memory/docker/abc").c_str()), 0);
    write(root + "/memory/docker/abc/memory.limit_in_bytes", "3221225472\n");
    EXPECT_EQ(usable_memory_from(24 * gib, root, "5:cpu:/x\n4:memory:/docker/abc\n"), 3 * gib);
    write(root + "/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
    EXPECT_EQ(usable_memory_from(24 * gib, root, "4:memory:/docker/abc\n"), 24 * gib);
    ASSERT_EQ(system(("rm -rf " + root).c_str()), 0);
}

}  // namespace
}  // namespace lucent
