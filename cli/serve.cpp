// `lucent serve`: an HTTP server (http_server.h) over the same decode -> model -> encode path
// as the CLI, so an answer has the bytes `lucent upscale` writes for that image.
//
// Threads: the HTTP loop reads requests and writes answers, with deadlines and connection caps
// (http_server.h); before a body is read, the route, method, length and type are checked
// (head_check: 404 / 405 / 413 / 415 at once). Complete requests go to a pool of handler
// threads; inference runs on K workers of a bounded WorkQueue, each with N model threads.
// Image header checks (size, pixels, memory) happen before a request takes a queue slot; a
// full queue is a 503 at once. SIGTERM / SIGINT: stop accepting, finish what was accepted,
// exit 0.
#include "serve.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "args.h"
#include "http_server.h"
#include "image_io.h"
#include "metrics.h"
#include "process.h"
#include "work_queue.h"

namespace lucent::cli {
namespace {

using Clock = std::chrono::steady_clock;

const char kServeUsage[] =
    "usage: lucent serve [options]\n"
    "\n"
    "HTTP inference server. POST /v1/upscale and /v1/enhance with an image (PNG, JPEG, BMP,\n"
    "TGA, PNM) as the body or as the 'image' part of a multipart form; the answer is PNG, or\n"
    "JPEG with ?format=jpeg or 'Accept: image/jpeg'. GET /healthz, /readyz, /metrics.\n"
    "\n"
    "options:\n"
    "  --host ADDR        address to listen on (default 127.0.0.1)\n"
    "  --port N           port (default 8080; 0 picks a free one, printed at start)\n"
    "  --model FILE       SSR model for /v1/upscale, or 'default' (the embedded x4)\n"
    "  --red-model FILE   RED model for /v1/enhance, or 'default' (the embedded model)\n"
    "  --workers K        requests computed at once (default 1)\n"
    "  --threads N        threads per request (default: cores / workers)\n"
    "  --max-queue Q      requests waiting for a worker before 503 (default 8)\n"
    "  --max-pixels P     largest input in pixels (default 16777216)\n"
    "  --max-body MIB     largest request body (default 64)\n"
    "  --max-memory MIB   memory per request (default: usable memory / workers)\n"
    "  --timeout S        seconds a request may wait and run (default 60)\n"
    "  --header-timeout S seconds a request's line and headers may take to arrive (default 5)\n"
    "  --min-rate KIB     slowest body upload (and answer download) accepted, KiB/s, after\n"
    "                     the grace below (default 64)\n"
    "  --body-grace S     seconds a body may take before --min-rate applies (default 10)\n"
    "  --max-connections N            open connections at once (default 1024)\n"
    "  --max-connections-per-client N from one address (default 64; 0: no limit, for a\n"
    "                     server behind a proxy, where every connection has its address)\n"
    "  --isa NAME         highest kernel tier: scalar, avx2 or avx512\n"
    "  --precision P      fp32 (default) or bf16, as for lucent upscale\n"
    "  --quiet            no per-request log lines\n";

struct ServeArgs {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string ssr_model = "default", red_model = "default";
    int workers = 1, threads = 0, max_queue = 8, timeout_s = 60, header_timeout_s = 5;
    int min_rate_kib = 64, body_grace_s = 10, max_connections = 1024, max_per_client = 64;
    bool bf16 = false;
    int64_t max_pixels = int64_t{1} << 24;
    uint64_t max_body = uint64_t{64} << 20, max_memory = 0;
    Isa isa = Isa::kAvx512;
    bool quiet = false;
};

std::string parse_serve_args(int argc, const char* const* argv, ServeArgs* a) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        long long v = 0;
        auto number = [&](const char* name, long long lo, long long hi) -> std::string {
            if (!parse_int(next, lo, hi, &v))
                return std::string(name) + " needs an integer from " + std::to_string(lo) + " to " +
                       std::to_string(hi);
            ++i;
            return "";
        };
        std::string err;
        if (arg == "--host") {
            if (!next || !*next) return "--host needs an address";
            a->host = argv[++i];
        } else if (arg == "--port") {
            if (!(err = number("--port", 0, 65535)).empty()) return err;
            a->port = static_cast<int>(v);
        } else if (arg == "--model" || arg == "--red-model") {
            if (!next || !*next) return arg + " needs a file or 'default'";
            (arg == "--model" ? a->ssr_model : a->red_model) = argv[++i];
        } else if (arg == "--workers") {
            if (!(err = number("--workers", 1, 4LL * cores)).empty()) return err;
            a->workers = static_cast<int>(v);
        } else if (arg == "--threads") {
            if (!(err = number("--threads", 0, 4LL * cores)).empty()) return err;
            a->threads = static_cast<int>(v);
        } else if (arg == "--max-queue") {
            if (!(err = number("--max-queue", 0, 4096)).empty()) return err;
            a->max_queue = static_cast<int>(v);
        } else if (arg == "--max-pixels") {
            if (!(err = number("--max-pixels", 1, 1LL << 40)).empty()) return err;
            a->max_pixels = v;
        } else if (arg == "--max-body") {
            if (!(err = number("--max-body", 1, 1LL << 20)).empty()) return err;
            a->max_body = static_cast<uint64_t>(v) << 20;
        } else if (arg == "--max-memory") {
            if (!(err = number("--max-memory", 1, 1LL << 40)).empty()) return err;
            a->max_memory = static_cast<uint64_t>(v) << 20;
        } else if (arg == "--timeout") {
            if (!(err = number("--timeout", 1, 86400)).empty()) return err;
            a->timeout_s = static_cast<int>(v);
        } else if (arg == "--header-timeout") {
            if (!(err = number("--header-timeout", 1, 3600)).empty()) return err;
            a->header_timeout_s = static_cast<int>(v);
        } else if (arg == "--min-rate") {
            if (!(err = number("--min-rate", 1, 1 << 20)).empty()) return err;
            a->min_rate_kib = static_cast<int>(v);
        } else if (arg == "--body-grace") {
            if (!(err = number("--body-grace", 1, 3600)).empty()) return err;
            a->body_grace_s = static_cast<int>(v);
        } else if (arg == "--max-connections") {
            if (!(err = number("--max-connections", 1, 65536)).empty()) return err;
            a->max_connections = static_cast<int>(v);
        } else if (arg == "--max-connections-per-client") {
            if (!(err = number("--max-connections-per-client", 0, 65536)).empty()) return err;
            a->max_per_client = static_cast<int>(v);
        } else if (arg == "--isa") {
            if (!next || !parse_isa(next, &a->isa)) return "--isa needs scalar, avx2 or avx512";
            ++i;
        } else if (arg == "--precision") {
            if (!next || (std::strcmp(next, "fp32") != 0 && std::strcmp(next, "bf16") != 0))
                return "--precision needs fp32 or bf16";
            a->bf16 = std::strcmp(argv[++i], "bf16") == 0;
        } else if (arg == "--quiet" || arg == "-q") {
            a->quiet = true;
        } else {
            return "unknown option '" + arg + "'";
        }
    }
    if (a->threads == 0) a->threads = std::max(1, static_cast<int>(cores) / a->workers);
    return "";
}

bool is_image_endpoint(const std::string& path) {
    return path == "/v1/upscale" || path == "/v1/enhance";
}
bool is_info_endpoint(const std::string& path) {
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

HttpResponse text(const std::string& body, int status = 200, const char* type = "text/plain") {
    HttpResponse res;
    res.status = status;
    res.content_type = type;
    res.body = body;
    return res;
}

class Server {
  public:
    Server(const ServeArgs& a, Model ssr, Model red)
        : args_(a), queue_(static_cast<size_t>(a.workers), static_cast<size_t>(a.max_queue)) {
        ssr_ = std::make_unique<Model>(std::move(ssr));
        red_ = std::make_unique<Model>(std::move(red));
    }

    int run() {
        HttpLimits limits;
        limits.header_timeout_s = args_.header_timeout_s;
        limits.min_rate = double(args_.min_rate_kib) * 1024.0;
        limits.body_timeout_min_s = args_.body_grace_s;
        limits.max_body = args_.max_body;
        limits.max_connections = static_cast<size_t>(args_.max_connections);
        limits.max_per_client = static_cast<size_t>(args_.max_per_client);
        // As many full bodies as requests can be running or queued, plus the few handler
        // threads beyond them: what the handlers could hold at once anyway.
        limits.max_body_bytes_in_flight =
            args_.max_body * static_cast<uint64_t>(args_.workers + args_.max_queue + 4);
        // Handler threads: one per request a worker runs or the queue holds, a few more so
        // that a request beyond the queue is told 503 and health checks answer at once.
        const size_t handlers = static_cast<size_t>(args_.workers + args_.max_queue + 4);
        HttpServer http(
            limits, handlers, [this](const HttpRequest& req) { return head_check(req); },
            [this](const HttpRequest& req) { return route(req); },
            [this](const HttpRequest& req, const HttpResponse& res, double s) { log(req, res, s); },
            [this](const char* cause) { metrics_.refusal(cause); });
        const int port = http.listen(args_.host, args_.port);
        if (port < 0) return bind_failed();
        std::fprintf(stderr,
                     "lucent serve: listening on http://%s:%d (upscale: %s, enhance: %s; %d "
                     "worker(s) x %d thread(s), queue %d)\n",
                     args_.host.c_str(), port, ssr_->name().c_str(), red_->name().c_str(),
                     args_.workers, args_.threads, args_.max_queue);
        std::fflush(stderr);

        // SIGTERM / SIGINT were blocked before any thread started; one thread waits for them.
        std::thread signals([&] {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGTERM);
            sigaddset(&set, SIGINT);
            int sig = 0;
            sigwait(&set, &sig);
            if (exiting_) return;  // woken by run() itself after a stop without a signal
            std::fprintf(stderr, "lucent serve: %s, finishing requests in flight\n",
                         sig == SIGTERM ? "SIGTERM" : "SIGINT");
            draining_ = true;
            http.stop();
        });
        const bool ok = http.run();
        // run returns once stop() was called and every accepted request was answered.
        const bool by_signal = draining_.exchange(true);
        queue_.shutdown();
        exiting_ = true;
        if (!by_signal) pthread_kill(signals.native_handle(), SIGTERM);
        signals.join();
        std::fprintf(stderr, "lucent serve: stopped\n");
        return ok || by_signal ? 0 : 1;
    }

  private:
    int bind_failed() const {
        std::fprintf(stderr, "lucent: error: cannot listen on %s:%d: %s\n", args_.host.c_str(),
                     args_.port, std::strerror(errno));
        return 1;
    }

    // Before the body is read: the route, the method, the declared length and the type.
    std::optional<HttpResponse> head_check(const HttpRequest& req) const {
        const bool image = is_image_endpoint(req.path);
        if (!image && !is_info_endpoint(req.path))
            return json_error(404, "no such endpoint; POST /v1/upscale or /v1/enhance");
        if (image && req.method != "POST") {
            HttpResponse res = json_error(405, req.path + " takes POST");
            res.headers.emplace_back("Allow", "POST");
            return res;
        }
        if (!image && req.method != "GET" && req.method != "HEAD") {
            HttpResponse res = json_error(405, req.path + " takes GET");
            res.headers.emplace_back("Allow", "GET, HEAD");
            return res;
        }
        if (!image) {
            if (req.content_length != 0) return json_error(400, req.path + " takes no body");
            return std::nullopt;
        }
        if (req.content_length > args_.max_body)
            return json_error(413,
                              "the request body is larger than --max-body (" +
                                  std::to_string(args_.max_body >> 20) + " MiB)",
                              "max_body");
        const std::string* type_header = req.header("content-type");
        const std::string type = type_header ? *type_header : std::string();
        const bool ok_type = type.empty() || type.rfind("image/", 0) == 0 ||
                             type.rfind("application/octet-stream", 0) == 0 ||
                             type.rfind("multipart/form-data", 0) == 0;
        if (!ok_type)
            return json_error(415, "Content-Type '" + type +
                                       "' is not an image; send the image as image/png, "
                                       "image/jpeg, ... or application/octet-stream (curl: -H "
                                       "'Content-Type: image/png'), or as multipart/form-data");
        if (req.content_length == 0) return json_error(400, "the request has no image");
        return std::nullopt;
    }

    HttpResponse route(const HttpRequest& req) {
        if (req.path == "/v1/upscale") return handle(*ssr_, req);
        if (req.path == "/v1/enhance") return handle(*red_, req);
        if (req.path == "/healthz") return text("ok\n");
        if (req.path == "/readyz")
            return draining_ ? text("shutting down\n", 503) : text("ready\n");
        if (req.path == "/metrics")
            return text(metrics_.render(queue_.waiting(), queue_.running()), 200,
                        "text/plain; version=0.0.4");
        return json_error(404, "no such endpoint; POST /v1/upscale or /v1/enhance");
    }

    void log(const HttpRequest& req, const HttpResponse& res, double s) {
        metrics_.record(req.path, res.status, s, res.pixels);
        if (!args_.quiet)
            std::fprintf(stderr, "lucent serve: %s %s %d %zu bytes in, %zu out, %llu px, %.1f ms\n",
                         req.method.empty() ? "-" : req.method.c_str(),
                         req.path.empty() ? "-" : req.path.c_str(), res.status,
                         static_cast<size_t>(req.content_length), res.body.size(),
                         static_cast<unsigned long long>(res.pixels), s * 1e3);
    }

    HttpResponse handle(const Model& model, const HttpRequest& req) {
        // The image: the body, or the 'image' (else the first) part of a multipart form.
        const std::string* body = &req.body;
        std::string part;
        const std::string* type = req.header("content-type");
        if (type != nullptr && type->rfind("multipart/form-data", 0) == 0) {
            std::string why;
            if (!multipart_part(req, "image", &part, &why)) return json_error(400, why);
            body = &part;
        }
        if (body->empty()) return json_error(400, "the request has no image");

        const std::string format = req.param("format");
        ImageFormat fmt = ImageFormat::kPng;
        if (format == "jpeg" || format == "jpg") {
            fmt = ImageFormat::kJpeg;
        } else if (!format.empty() && format != "png") {
            return json_error(400, "format must be png or jpeg");
        } else if (format.empty()) {
            const std::string* accept = req.header("accept");
            if (accept != nullptr && accept->find("image/jpeg") != std::string::npos &&
                accept->find("image/png") == std::string::npos)
                fmt = ImageFormat::kJpeg;
        }

        const uint8_t* bytes = reinterpret_cast<const uint8_t*>(body->data());
        Result<ImageInfo> info = image_info(bytes, body->size(), "the image");
        if (!info.ok()) return json_error(422, info.status().message());
        const ImageInfo& in = info.value();
        const double pixels = double(in.w) * double(in.h);
        if (pixels > double(args_.max_pixels))
            return json_error(
                422,
                std::to_string(in.w) + "x" + std::to_string(in.h) + " is more than --max-pixels (" +
                    std::to_string(args_.max_pixels) + " pixels)",
                "max_pixels",
                ", \"width\": " + std::to_string(in.w) + ", \"height\": " + std::to_string(in.h) +
                    ", \"max_pixels\": " + std::to_string(args_.max_pixels));
        Result<OutSize> size = check_input(model, in, fmt, body->size());
        if (!size.ok())
            return json_error(422, size.status().message(),
                              size.status().code() == StatusCode::kOutOfMemory ? "max_memory" : "");

        // The work itself, on a worker; the result comes back through this shared slot, which
        // outlives the job (a cancelled job never starts; a started one is waited for).
        auto result = std::make_shared<Result<std::vector<uint8_t>>>(
            make_status(StatusCode::kInternal, "not run"));
        // The job keeps its own copy of the image: after a timeout the request may be gone
        // while a started job still runs.
        auto job =
            queue_.submit([&model, fmt, result, keep = std::make_shared<std::string>(*body)] {
                const uint8_t* data = reinterpret_cast<const uint8_t*>(keep->data());
                Result<Image> img = decode_image(data, keep->size(), "the image");
                if (!img.ok()) {
                    *result = img.status();
                    return;
                }
                bool dropped = false;
                Result<Image> out = apply_model(model, img.value(), fmt, &dropped);
                if (!out.ok()) {
                    *result = out.status();
                    return;
                }
                *result = encode_image(fmt, out.value());
            });
        if (job == nullptr) {
            HttpResponse res = json_error(503,
                                          "the server is busy: " + std::to_string(args_.max_queue) +
                                              " requests already wait (--max-queue); retry later",
                                          "max_queue");
            res.headers.emplace_back("Retry-After", "1");
            return res;
        }
        if (!queue_.wait(job, std::chrono::seconds(args_.timeout_s)))
            return json_error(
                504, "not done within --timeout (" + std::to_string(args_.timeout_s) + " s)",
                "timeout");
        if (!result->ok()) {
            const Status& st = result->status();
            return json_error(st.code() == StatusCode::kInternal      ? 500
                              : st.code() == StatusCode::kOutOfMemory ? 503
                                                                      : 422,
                              st.message());
        }
        const std::vector<uint8_t>& out = result->value();
        HttpResponse res;
        res.content_type = fmt == ImageFormat::kJpeg ? "image/jpeg" : "image/png";
        res.body.assign(reinterpret_cast<const char*>(out.data()), out.size());
        res.pixels = static_cast<uint64_t>(pixels);
        return res;
    }

    const ServeArgs args_;
    std::unique_ptr<Model> ssr_, red_;
    WorkQueue queue_;
    Metrics metrics_;
    std::atomic<bool> draining_{false}, exiting_{false};
};

Result<Model> load_model(const std::string& spec, ModelKind kind, const Options& opt) {
    LUCENT_ASSIGN_OR_RETURN(
        Model m, spec == "default" ? Model::load_default(kind, opt) : Model::load(spec, opt));
    if (m.kind() != kind)
        return make_status(StatusCode::kInvalidArgument, "%s is not a%s model", spec.c_str(),
                           kind == ModelKind::kSsr ? "n SSR (upscaling)" : " RED (enhancement)");
    return m;
}

}  // namespace

int serve_main(int argc, const char* const* argv) {
    for (int i = 2; i < argc; ++i)
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::fputs(kServeUsage, stdout);
            return 0;
        }
    ServeArgs a;
    const std::string err = parse_serve_args(argc, argv, &a);
    if (!err.empty()) {
        std::fprintf(stderr, "lucent serve: %s\n\n%s", err.c_str(), kServeUsage);
        return 2;
    }
    // Block the stop signals in every thread; the server's signal thread takes them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

    Options opt;
    opt.num_threads = a.threads;
    opt.precision = a.bf16 ? Precision::kBf16 : Precision::kFp32;
    opt.max_isa = a.isa;
    opt.max_memory_bytes = a.max_memory;
    if (opt.max_memory_bytes == 0) {
        // Each worker gets its share of the machine (or the container).
        Result<Model> probe = Model::load_default(ModelKind::kRed, opt);
        if (probe.ok() && probe.value().memory_limit() != 0)
            opt.max_memory_bytes = probe.value().memory_limit() / static_cast<uint64_t>(a.workers);
    }
    // Plans kept between requests: each of the two models keeps, running plans included, half of
    // what the workers may use together, so kept and running memory stay within that.
    if (opt.max_memory_bytes != 0)
        opt.keep_memory_limit = opt.max_memory_bytes / 2 * static_cast<uint64_t>(a.workers);
    Result<Model> ssr = load_model(a.ssr_model, ModelKind::kSsr, opt);
    if (!ssr.ok()) {
        std::fprintf(stderr, "lucent: error: %s\n", ssr.status().message().c_str());
        return 1;
    }
    Result<Model> red = load_model(a.red_model, ModelKind::kRed, opt);
    if (!red.ok()) {
        std::fprintf(stderr, "lucent: error: %s\n", red.status().message().c_str());
        return 1;
    }
    Server server(a, std::move(ssr).value(), std::move(red).value());
    return server.run();
}

}  // namespace lucent::cli
