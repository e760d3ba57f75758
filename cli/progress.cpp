#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace lucent::cli {

ProgressLine::ProgressLine(bool enabled, bool immediate, std::string label, int64_t total_rows)
    : enabled_(enabled),
      immediate_(immediate),
      tty_(isatty(STDERR_FILENO) != 0),
      label_(std::move(label)),
      total_(total_rows > 0 ? total_rows : 1),
      start_(Clock::now()),
      last_(start_) {
    if (!immediate_ && !tty_) enabled_ = false;  // the default shows only on a terminal
}

void ProgressLine::update(int64_t rows_done) {
    if (!enabled_) return;
    const Clock::time_point now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const bool finished = rows_done >= total_;
    if (!immediate_ && elapsed < 2.0) return;
    // A few redraws a second at most (every update when not a terminal would flood a log).
    const double since = std::chrono::duration<double>(now - last_).count();
    if (drawn_ && !finished && since < (tty_ ? 0.25 : 1.0)) return;
    last_ = now;
    const double frac = static_cast<double>(rows_done) / static_cast<double>(total_);
    char left[48] = "";
    if (rows_done > 0 && !finished)
        std::snprintf(left, sizeof left, ", about %.0f s left", elapsed * (1.0 - frac) / frac);
    std::fprintf(stderr, "%s%s: rows %lld/%lld (%.0f%%), %.0f s%s%s", tty_ ? "\r" : "",
                 label_.c_str(), static_cast<long long>(rows_done), static_cast<long long>(total_),
                 100.0 * frac, elapsed, left, tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressLine::clear() {
    if (drawn_ && tty_) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
    }
    drawn_ = false;
}

}  // namespace lucent::cli
