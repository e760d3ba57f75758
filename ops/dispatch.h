// Run-time kernel selection. The tables hold addresses only; no ISA code runs until a kernel
// is called through a table whose tier the CPU was checked to support.
#pragma once

#include <functional>
#include <string>

#include "engine/tensor.h"
#include "lucent/isa.hpp"
#include "ops/kernels.h"

namespace lucent::ops {

// Table for min(isa, hardware_isa()). Tests and benchmarks use it to reach every tier the
// machine has; it ignores LUCENT_MAX_ISA.
const KernelTable& kernels_for(Isa isa);

// Table for effective_isa(cap): the hardware tier lowered by LUCENT_MAX_ISA and cap.
const KernelTable& kernels(Isa cap = Isa::kAvx512);

// A graph's report of one layer's output (name as in the checkpoint, operation, tensor).
using LayerTrace =
    std::function<void(const std::string& name, const char* op, ConstTensorView out)>;

// Execution context passed to every op driver.
struct Context {
    const KernelTable* k = nullptr;
    int32_t num_threads = 0;  // 0 = default_threads() (engine/thread_pool.h)
    // When set, graphs report every layer's output here (the numerics audit, lucent --dump).
    // Ops ignore it.
    const LayerTrace* trace = nullptr;
};

// Context with kernels(cap) and the given thread count.
Context make_context(int32_t num_threads = 0, Isa cap = Isa::kAvx512);

}  // namespace lucent::ops
