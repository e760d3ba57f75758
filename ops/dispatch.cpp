#include "ops/dispatch.h"

namespace lucent::ops {
namespace {

#define LUCENT_FILL_ENTRY(name, type) t.name = &ns::name;
#define LUCENT_MAKE_TABLE(ns_, isa_)             \
    [] {                                         \
        namespace ns = ns_;                      \
        KernelTable t{};                         \
        t.isa = isa_;                            \
        t.conv2d_oc_block = ns::conv2d_oc_block; \
        LUCENT_KERNELS(LUCENT_FILL_ENTRY)        \
        return t;                                \
    }()

const KernelTable& table(Isa isa) {
    static const KernelTable scalar_table = LUCENT_MAKE_TABLE(scalar, Isa::kScalar);
    static const KernelTable avx2_table = LUCENT_MAKE_TABLE(avx2, Isa::kAvx2);
    static const KernelTable avx512_table = LUCENT_MAKE_TABLE(avx512, Isa::kAvx512);
    switch (isa) {
        case Isa::kAvx512:
            return avx512_table;
        case Isa::kAvx2:
            return avx2_table;
        case Isa::kScalar:
            break;
    }
    return scalar_table;
}

}  // namespace

const KernelTable& kernels_for(Isa isa) {
    const Isa hw = hardware_isa();
    return table(static_cast<int>(isa) < static_cast<int>(hw) ? isa : hw);
}

const KernelTable& kernels(Isa cap) { return table(effective_isa(cap)); }

Context make_context(int32_t num_threads, Isa cap) {
    Context c;
    c.k = &kernels(cap);
    c.num_threads = num_threads;
    return c;
}

}  // namespace lucent::ops
