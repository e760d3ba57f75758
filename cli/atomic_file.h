// Output files that appear whole or not at all. The data goes to a temporary file created
// with mkstemp (O_EXCL: never follows or reuses a planted name) in the destination folder,
// under a short name (".lucent-XXXXXX", so long output names still fit NAME_MAX), gets the
// permissions a plain creat() would (0666 less the umask), and is renamed over the target
// only by commit(). Destroying an uncommitted AtomicFile removes the temporary file, and so
// does SIGINT / SIGTERM / SIGHUP while one is open (install_cleanup_handlers()).
#pragma once

#include <cstdio>
#include <string>

#include "lucent/status.hpp"

namespace lucent::cli {

// Installs the signal handlers that remove open temporary files, then re-raise the signal,
// and ignores SIGXFSZ (a file-size limit then fails the write with EFBIG, which the usual
// cleanup handles). Call once at startup, before any AtomicFile exists.
void install_cleanup_handlers();

class AtomicFile {
  public:
    static Result<AtomicFile> create(const std::string& path);
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&&) = delete;
    ~AtomicFile();

    FILE* file() const { return file_; }
    const std::string& path() const { return path_; }
    // Flushes, syncs and closes the data, then renames it to the target. Any write error seen
    // by the FILE* (disk full, ...) fails here, and the temporary file is removed.
    Status commit();

  private:
    AtomicFile() = default;
    void discard();

    std::string path_, tmp_;
    FILE* file_ = nullptr;
    int slot_ = -1;  // index in the signal handler's table
};

}  // namespace lucent::cli
