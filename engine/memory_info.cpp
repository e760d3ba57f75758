#include "engine/memory_info.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lucent {
namespace {

// A limit file's value: a byte count, or 0 for "max" / unreadable / absurd (no limit).
uint64_t read_limit(const std::string& path) {
    std::ifstream f(path);
    std::string text;
    if (!(f >> text) || text == "max") return 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0') return 0;
    // cgroup v1 reports "no limit" as a page-rounded LONG_MAX.
    if (v >= (1ULL << 62)) return 0;
    return v;
}

uint64_t lower(uint64_t a, uint64_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    return a < b ? a : b;
}

}  // namespace

uint64_t usable_memory_from(uint64_t physical, const std::string& cgroup_root,
                            const std::string& self_cgroup) {
    uint64_t limit = physical;
    std::istringstream lines(self_cgroup);
    for (std::string line; std::getline(lines, line);) {
        // v2: "0::/path"; v1: "N:memory:/path" (or "N:...,memory,...:/path").
        const size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        std::string path = line.substr(b + 1);
        if (path.empty() || path[0] != '/') continue;
        if (controllers.empty()) {  // v2: this cgroup and every parent may set memory.max
            for (;;) {
                limit = lower(limit, read_limit(cgroup_root + path + "/memory.max"));
                if (path == "/") break;
                const size_t slash = path.rfind('/');
                path = slash == 0 ? "/" : path.substr(0, slash);
            }
            limit = lower(limit, read_limit(cgroup_root + "/memory.max"));
        } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
            limit =
                lower(limit, read_limit(cgroup_root + "/memory" + path + "/memory.limit_in_bytes"));
            limit = lower(limit, read_limit(cgroup_root + "/memory/memory.limit_in_bytes"));
        }
    }
    return limit;
}

uint64_t usable_memory() {
    static const uint64_t cached = [] {
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        const uint64_t physical =
            pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
        std::ifstream f("/proc/self/cgroup");
        std::stringstream text;
        text << f.rdbuf();
        return usable_memory_from(physical, "/sys/fs/cgroup", text.str());
    }();
    return cached;
}

}  // namespace lucent
