// Model::run_rows: one image through the model with input rows pulled from a source and output
// rows pushed to a sink. Streaming graphs run their plan directly on the caller's callbacks;
// the others gather the whole input, run the whole-image path and hand over all rows at once.
#include <cmath>
#include <vector>

#include "api/model_impl.h"
#include "api/no_throw.h"
#include "engine/format_bytes.h"
#include "lucent/model.hpp"
#include "ops/dispatch.h"

namespace lucent {
namespace {

Model::RowBlock block_of(const Rows& r) {
    Model::RowBlock b;
    b.y0 = r.row0;
    b.y1 = r.end();
    b.width = r.w;
    b.channels = r.c;
    b.channel_stride = r.cs;
    b.data = r.data;
    return b;
}

// The first non-finite value of rows the source filled, as a status naming its position.
Status check_rows(const Rows& r) {
    for (int64_t c = 0; c < r.c; ++c)
        for (int64_t y = r.row0; y < r.end(); ++y)
            for (int64_t x = 0; x < r.w; ++x)
                if (!std::isfinite(r.row(c, y)[x]))
                    return make_status(StatusCode::kInvalidArgument,
                                       "the source gave %s at channel %lld, row %lld, column "
                                       "%lld; inputs must be finite",
                                       std::isnan(r.row(c, y)[x]) ? "NaN" : "infinity",
                                       static_cast<long long>(c), static_cast<long long>(y),
                                       static_cast<long long>(x));
    return Status();
}

}  // namespace

Status Model::run_rows(const Dims& in_dims, const RowSource& source, const RowSink& sink) const {
    return no_throw("run_rows", [&]() -> Status {
        if (!source || !sink)
            return make_status(StatusCode::kInvalidArgument, "run_rows: source or sink is empty");
        if (in_dims.n != 1)
            return make_status(StatusCode::kInvalidArgument,
                               "run_rows takes one image (n = 1), not n = %lld",
                               static_cast<long long>(in_dims.n));
        Dims od;
        LUCENT_RETURN_IF_ERROR(output_dims(in_dims, &od));
        const Shape one{1, in_dims.c, in_dims.h, in_dims.w};
        LUCENT_ASSIGN_OR_RETURN(PlanLease plan, impl_->lease_plan(one, memory_limit()));
        ops::Context ctx;
        ctx.k = &ops::kernels_for(impl_->isa);
        ctx.num_threads = impl_->options.num_threads;
        const models::RowSource pull = [&](Rows d) -> Status {
            LUCENT_RETURN_IF_ERROR(source(block_of(d)));
            return check_rows(d);
        };
        const models::RowSink push = [&](ConstRows r) -> Status {
            return sink(
                block_of(Rows{const_cast<float*>(r.data), r.c, r.h, r.w, r.row0, r.rows, r.cs}));
        };
        return plan->run(ctx, pull, push);
    });
}

}  // namespace lucent
