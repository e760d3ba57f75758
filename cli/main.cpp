// lucent: the command-line tool, a user of the public API only (lucent/lucent.hpp).
//
//   lucent upscale [options] IN OUT  |  -o OUTDIR IN...    super-resolution (SSR)
//   lucent enhance [options] IN OUT  |  -o OUTDIR IN...    low-light enhancement (RED)
//
// Exit status: 0 success, 1 some input failed (the others are still done), 2 bad command line.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "args.h"
#include "atomic_file.h"
#include "jobs.h"
#include "lucent/lucent.hpp"
#include "process.h"
#include "serve.h"

namespace {

using lucent::Status;

int fail(const Status& st) {
    std::fprintf(stderr, "lucent: error: %s\n", st.message().c_str());
    return 1;
}

int run(const lucent::cli::Args& a) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    lucent::Options opt;
    opt.num_threads = a.threads;
    opt.max_isa = a.isa;
    opt.reference = a.reference;
    opt.max_memory_bytes = a.max_memory;
    opt.stripe_rows = a.stripe_rows;
    opt.precision = a.bf16 ? lucent::Precision::kBf16 : lucent::Precision::kFp32;
    const lucent::ModelKind kind =
        a.command == "upscale" ? lucent::ModelKind::kSsr : lucent::ModelKind::kRed;
    lucent::Result<lucent::Model> model = a.model.empty() ? lucent::Model::load_default(kind, opt)
                                                          : lucent::Model::load(a.model, opt);
    if (!model.ok()) return fail(model.status());
    const lucent::Model& m = model.value();
    if (m.kind() != kind)
        return fail(lucent::make_status(
            lucent::StatusCode::kInvalidArgument, "%s holds a%s model; use `lucent %s`",
            m.name().c_str(),
            m.kind() == lucent::ModelKind::kSsr ? "n SSR (upscaling)" : " RED (enhancement)",
            m.kind() == lucent::ModelKind::kSsr ? "upscale" : "enhance"));
    const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();

    const std::string suffix = kind == lucent::ModelKind::kSsr
                                   ? "_x" + std::to_string(static_cast<long long>(m.scale()))
                                   : std::string("_enhanced");
    lucent::Result<std::vector<lucent::cli::Job>> jobs = lucent::cli::plan_jobs(a, suffix);
    if (!jobs.ok()) return fail(jobs.status());
    int written = 0, skipped = 0, failed = 0;
    for (const lucent::cli::Job& job : jobs.value()) {
        if (!job.skip.empty()) {
            ++skipped;
            if (!a.quiet)
                std::fprintf(stderr, "lucent: skip %s: %s\n", job.out.c_str(), job.skip.c_str());
            continue;
        }
        if (!job.error.empty()) {
            ++failed;
            std::fprintf(stderr, "lucent: error: %s: %s\n", job.in.c_str(), job.error.c_str());
            continue;
        }
        lucent::cli::FileResult r;
        lucent::cli::ProcessOptions po;
        po.dump_dir = a.dump;
        po.profile = a.profile;
        po.progress = a.quiet      ? lucent::cli::Progress::kOff
                      : a.progress ? lucent::cli::Progress::kAlways
                                   : lucent::cli::Progress::kTerminal;
        po.label = job.in;
        const Status st = lucent::cli::process_file(m, job.in, job.out, &r, po);
        if (!st.ok()) {
            ++failed;
            fail(st);
            continue;
        }
        ++written;
        if (r.alpha_dropped && !a.quiet)
            std::fprintf(stderr,
                         "lucent: warning: %s: the format has no alpha channel; alpha dropped\n",
                         job.out.c_str());
        if (a.verbose)
            std::fprintf(
                stderr,
                "lucent %s: model %s (x%lld), isa %s, threads %d; %s %lldx%lld -> %lldx%lld; "
                "load %.1f ms, decode %.1f ms, run %.1f ms, encode %.1f ms\n",
                lucent::version(), m.name().c_str(), static_cast<long long>(m.scale()),
                lucent::isa_name(m.isa()), m.num_threads(), job.in.c_str(),
                static_cast<long long>(r.in_w), static_cast<long long>(r.in_h),
                static_cast<long long>(r.out_w), static_cast<long long>(r.out_h), load_ms,
                r.decode_ms, r.run_ms, r.encode_ms);
    }
    if (jobs.value().size() > 1 && !a.quiet)
        std::fprintf(stderr, "lucent: %d written, %d skipped, %d failed\n", written, skipped,
                     failed);
    return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        lucent::cli::install_cleanup_handlers();
        if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
            std::printf("lucent %s (kernels: %s)\n", lucent::version(),
                        lucent::isa_name(lucent::effective_isa()));
            return 0;
        }
        if (argc >= 2 && std::strcmp(argv[1], "serve") == 0)
            return lucent::cli::serve_main(argc, argv);
        if (const char* cap = std::getenv("LUCENT_MAX_ISA")) {
            lucent::Isa ignored;
            if (!lucent::parse_isa(cap, &ignored)) {
                std::fprintf(stderr,
                             "lucent: error: LUCENT_MAX_ISA=%s is not scalar, avx2 or avx512\n",
                             cap);
                return 2;
            }
        }
        lucent::cli::Args args;
        const std::string err = lucent::cli::parse_args(argc, argv, &args);
        if (args.help) {
            std::fputs(lucent::cli::kUsage, stdout);
            return 0;
        }
        if (!err.empty()) {
            std::fprintf(stderr, "lucent: %s\n\n%s", err.c_str(), lucent::cli::kUsage);
            return 2;
        }
        return run(args);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "lucent: error: out of memory\n");
        return 1;
    } catch (...) {
        std::fprintf(stderr, "lucent: error: internal error (unexpected exception)\n");
        return 1;
    }
}
