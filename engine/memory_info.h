// How much memory this process may use: physical memory, lowered by the cgroup (container)
// limit when one is set, since that is what a Kubernetes pod or a `docker run -m` gets and
// exceeding it means the OOM killer, not a failed allocation.
#pragma once

#include <cstdint>
#include <string>

namespace lucent {

// min(physical memory, cgroup v2 memory.max of this process's cgroup and its parents,
// cgroup v1 memory.limit_in_bytes); 0 if nothing is known. Read once and cached.
uint64_t usable_memory();

// The same rule on explicit inputs (for tests): `cgroup_root` is where the cgroup file system
// is mounted (normally /sys/fs/cgroup), `self_cgroup` the text of /proc/self/cgroup.
uint64_t usable_memory_from(uint64_t physical, const std::string& cgroup_root,
                            const std::string& self_cgroup);

}  // namespace lucent
