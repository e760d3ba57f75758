// The server's counters in Prometheus text format (version 0.0.4): requests by endpoint and
// status code, a latency histogram per endpoint, pixels processed; queue depth and in-flight
// requests are read live when rendered; refusals of the HTTP layer by cause.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lucent::cli {

class Metrics {
  public:
    // `endpoint` is one of the server's paths (others are counted as "other").
    void record(const std::string& endpoint, int status, double seconds, uint64_t pixels);
    // A connection or request the HTTP layer cut off, by cause (http_server.h lists them).
    void refusal(const char* cause);
    std::string render(size_t queue_depth, size_t in_flight) const;

  private:
    struct Histogram {
        std::vector<uint64_t> buckets;  // cumulative counts are computed when rendering
        double sum = 0;
        uint64_t count = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram> latency_;
    std::map<std::string, uint64_t> refusals_;
    uint64_t pixels_ = 0;
};

}  // namespace lucent::cli
