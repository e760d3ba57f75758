#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace lucent::cli {
namespace {

// Temporary names the signal handler may remove. Fixed storage: the handler may only touch
// async-signal-safe state (plain char arrays and lock-free atomics).
constexpr int kSlots = 16;
constexpr size_t kMaxPath = 4096;
char g_tmp_names[kSlots][kMaxPath];
std::atomic<bool> g_used[kSlots];

int claim_slot(const std::string& tmp) {
    if (tmp.size() >= kMaxPath) return -1;
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (g_used[i].compare_exchange_strong(expected, true)) {
            std::memcpy(g_tmp_names[i], tmp.c_str(), tmp.size() + 1);
            return i;
        }
    }
    return -1;  // more files open than slots: still correct, just not removed on a signal
}

void release_slot(int slot) {
    if (slot >= 0) g_used[slot].store(false);
}

extern "C" void remove_temporaries_and_reraise(int sig) {
    for (int i = 0; i < kSlots; ++i)
        if (g_used[i].load()) unlink(g_tmp_names[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

mode_t creation_mode() {
    static const mode_t mode = [] {
        const mode_t mask = umask(0);
        umask(mask);
        return static_cast<mode_t>(0666 & ~mask);
    }();
    return mode;
}

std::string folder_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

void install_cleanup_handlers() {
    (void)creation_mode();  // read the umask now, while single-threaded
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = remove_temporaries_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
    // A file-size limit (ulimit -f) would kill the process mid-write with SIGXFSZ; ignored, the
    // write fails with EFBIG instead and the ordinary error path removes the temporary file.
    signal(SIGXFSZ, SIG_IGN);
}

Result<AtomicFile> AtomicFile::create(const std::string& path) {
    AtomicFile f;
    f.path_ = path;
    f.tmp_ = folder_of(path) + "/.lucent-XXXXXX";
    const int fd = mkostemp(&f.tmp_[0], O_CLOEXEC);
    if (fd < 0)
        return make_status(StatusCode::kIo, "cannot create a temporary file in %s for %s: %s",
                           folder_of(path).c_str(), path.c_str(), std::strerror(errno));
    f.slot_ = claim_slot(f.tmp_);
    if (fchmod(fd, creation_mode()) != 0 || (f.file_ = fdopen(fd, "wb")) == nullptr) {
        const int err = errno;
        close(fd);
        f.discard();
        return make_status(StatusCode::kIo, "cannot write a temporary file for %s: %s",
                           path.c_str(), std::strerror(err));
    }
    return Result<AtomicFile>(std::move(f));
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), file_(o.file_), slot_(o.slot_) {
    o.file_ = nullptr;
    o.slot_ = -1;
    o.tmp_.clear();
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    if (!tmp_.empty()) unlink(tmp_.c_str());
    tmp_.clear();
    release_slot(slot_);
    slot_ = -1;
}

Status AtomicFile::commit() {
    if (file_ == nullptr) return make_status(StatusCode::kInternal, "commit of a closed file");
    bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    int err = errno;
    if (ok && fsync(fileno(file_)) != 0 && errno != EINVAL) {
        ok = false;
        err = errno;
    }
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok || !closed) {
        if (ok) err = errno;
        discard();
        return make_status(StatusCode::kIo, "cannot write %s: %s", path_.c_str(),
                           std::strerror(err != 0 ? err : EIO));
    }
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        err = errno;
        discard();
        return make_status(StatusCode::kIo, "cannot rename the finished file to %s: %s",
                           path_.c_str(), std::strerror(err));
    }
    tmp_.clear();
    release_slot(slot_);
    slot_ = -1;
    return Status();
}

}  // namespace lucent::cli
