// The CLI's progress line: "  rows 1536/6000 (25%), 12 s, about 36 s left", rewritten in place
// on stderr. Shown only where asked (a terminal, or --progress), and on a terminal only once a
// run has taken a couple of seconds, so short runs print nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lucent::cli {

class ProgressLine {
  public:
    // enabled: draw at all; immediate: from the first update and on any stderr (--progress),
    // rather than on a terminal after the first two seconds. `label` starts the line.
    ProgressLine(bool enabled, bool immediate, std::string label, int64_t total_rows);
    ~ProgressLine() { clear(); }
    void update(int64_t rows_done);
    // Erases the line (on a terminal) or ends it (otherwise), if anything was drawn.
    void clear();

  private:
    using Clock = std::chrono::steady_clock;
    bool enabled_, immediate_, tty_, drawn_ = false;
    std::string label_;
    int64_t total_;
    Clock::time_point start_, last_;
};

}  // namespace lucent::cli
