#include "metrics.h"

#include <cstdio>

namespace lucent::cli {
namespace {

// Upper bounds of the latency buckets, seconds (+Inf is implied).
const double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string label(const std::string& endpoint) {
    static const char* const kKnown[] = {"/v1/upscale", "/v1/enhance", "/healthz", "/readyz",
                                         "/metrics"};
    for (const char* k : kKnown)
        if (endpoint == k) return endpoint;
    return "other";
}

}  // namespace

void Metrics::record(const std::string& endpoint, int status, double seconds, uint64_t pixels) {
    const std::string e = label(endpoint);
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{e, status}];
    Histogram& h = latency_[e];
    if (h.buckets.empty()) h.buckets.assign(kBucketCount, 0);
    for (size_t i = 0; i < kBucketCount; ++i)
        if (seconds <= kBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    h.sum += seconds;
    ++h.count;
    pixels_ += pixels;
}

void Metrics::refusal(const char* cause) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++refusals_[cause];
}

std::string Metrics::render(size_t queue_depth, size_t in_flight) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    char line[256];
    out +=
        "# HELP lucent_http_refusals_total Connections and requests the HTTP layer cut off, by "
        "cause.\n"
        "# TYPE lucent_http_refusals_total counter\n";
    for (const auto& r : refusals_) {
        std::snprintf(line, sizeof line, "lucent_http_refusals_total{cause=\"%s\"} %llu\n",
                      r.first.c_str(), static_cast<unsigned long long>(r.second));
        out += line;
    }
    out +=
        "# HELP lucent_requests_total Requests answered, by endpoint and HTTP status.\n"
        "# TYPE lucent_requests_total counter\n";
    for (const auto& r : requests_) {
        std::snprintf(
            line, sizeof line, "lucent_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n",
            r.first.first.c_str(), r.first.second, static_cast<unsigned long long>(r.second));
        out += line;
    }
    out +=
        "# HELP lucent_request_duration_seconds Time from request to answer.\n"
        "# TYPE lucent_request_duration_seconds histogram\n";
    for (const auto& l : latency_) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBucketCount; ++i) {
            cumulative += l.second.buckets[i];
            std::snprintf(
                line, sizeof line,
                "lucent_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                l.first.c_str(), kBuckets[i], static_cast<unsigned long long>(cumulative));
            out += line;
        }
        std::snprintf(line, sizeof line,
                      "lucent_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
                      "lucent_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
                      "lucent_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                      l.first.c_str(), static_cast<unsigned long long>(l.second.count),
                      l.first.c_str(), l.second.sum, l.first.c_str(),
                      static_cast<unsigned long long>(l.second.count));
        out += line;
    }
    char tail[1024];
    std::snprintf(tail, sizeof tail,
                  "# HELP lucent_pixels_processed_total Input pixels of answered images.\n"
                  "# TYPE lucent_pixels_processed_total counter\n"
                  "lucent_pixels_processed_total %llu\n"
                  "# HELP lucent_queue_depth Requests waiting for a worker.\n"
                  "# TYPE lucent_queue_depth gauge\n"
                  "lucent_queue_depth %zu\n"
                  "# HELP lucent_in_flight Requests being computed by a worker.\n"
                  "# TYPE lucent_in_flight gauge\n"
                  "lucent_in_flight %zu\n",
                  static_cast<unsigned long long>(pixels_), queue_depth, in_flight);
    out += tail;
    return out;
}

}  // namespace lucent::cli
