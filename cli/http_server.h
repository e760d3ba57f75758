// The HTTP/1.1 front end of `lucent serve`: one event-loop thread (poll) owns every socket and
// reads requests; complete requests go to a fixed pool of handler threads; answers come back
// to the loop, which writes them. Written here instead of cpp-httplib, whose thread per
// connection let twelve clients sending a header byte a second hold every thread (its read
// timeout restarts with each byte), so even /healthz timed out.
//
// What one client can hold is bounded:
//   - a request's line and headers must arrive within header_timeout of its first byte
//     (408 after), and an idle keep-alive connection is closed after idle_timeout;
//   - a body must arrive within body_timeout_min + length / min_rate (408 after);
//   - a head is at most max_head_bytes in at most max_headers lines (431);
//   - the application's head check answers before any body byte is read (an early 413 when
//     Content-Length is too large, 404 / 405 / 415), the connection then drains what the
//     client still sends for a moment (so it reads the answer instead of a reset) and closes;
//   - connections beyond max_connections, or beyond max_per_client from one address, are
//     answered 503 and closed at accept;
//   - the bodies held at once (read, queued or being handled) stay within
//     max_body_bytes_in_flight: a request that would pass it is answered 503 at its head.
// A slow or idle connection costs the loop a file descriptor and its buffer, never a thread,
// so it cannot delay anyone else's request. Every refusal is counted by cause (on_refusal).
//
// stop() (any thread): the listener closes, idle connections and unfinished heads are closed,
// requests already reading a body or being handled finish and are answered with
// "Connection: close", then run() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_message.h"

namespace lucent::cli {

struct HttpLimits {
    double header_timeout_s = 5;
    double idle_timeout_s = 5;
    double body_timeout_min_s = 10;
    double min_rate = 64 * 1024;  // bytes per second a body or an answer must at least move
    size_t max_head_bytes = 16 * 1024;
    size_t max_headers = 100;
    uint64_t max_body = uint64_t{64} << 20;  // a hard stop; the head check names the option
    size_t max_connections = 1024;
    size_t max_per_client = 64;  // 0: no per-address limit (behind a proxy)
    // Bytes of request bodies held at once (being read, queued or handled); a request whose
    // declared body would pass it is answered 503 at its head. 0: no limit.
    uint64_t max_body_bytes_in_flight = 0;
    double linger_s = 2;  // draining a refused request's unread body before closing
};

class HttpServer {
  public:
    using Clock = std::chrono::steady_clock;
    // On the loop thread, once the head is parsed and before the body is read: an answer
    // refuses the request.
    using HeadCheck = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
    // On a handler thread, with the whole request.
    using Handler = std::function<HttpResponse(const HttpRequest&)>;
    // On the loop thread, once per answered request (refusals included); `seconds` counts from
    // the request's first byte.
    using Logger = std::function<void(const HttpRequest&, const HttpResponse&, double seconds)>;
    // On the loop thread, for each connection or request cut off: "header_timeout",
    // "body_timeout", "write_timeout", "head_too_large", "bad_request", "body_too_large",
    // "bodies_in_flight", "too_many_connections", "too_many_per_client".
    using RefusalCounter = std::function<void(const char* cause)>;

    HttpServer(HttpLimits limits, size_t handler_threads, HeadCheck check, Handler handler,
               Logger logger, RefusalCounter on_refusal);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; returns the port (the chosen one for port 0) or -1 with errno set.
    int listen(const std::string& host, int port);
    // Serves until stop() and the drain are done. False if the loop failed.
    bool run();
    void stop();

  private:
    enum class State { kIdle, kHead, kBody, kHandling, kWriting, kLinger };
    struct Conn {
        int fd = -1;
        uint64_t id = 0;
        std::string peer;
        State state = State::kIdle;
        std::string in;  // bytes read and not yet consumed
        HttpRequest req;
        Clock::time_point started, deadline;
        std::string out;
        size_t out_pos = 0;
        bool close_after = false, head_only = false;
        uint64_t reserved = 0;     // body bytes counted in bodies_in_flight_
        bool fresh = true;         // no byte received yet on this connection
        bool peer_closed = false;  // the client shut its side down
    };
    struct Done {
        uint64_t id;
        HttpResponse res;
    };

    void accept_all();
    void refuse_at_accept(int fd, const char* cause);
    void on_readable(Conn& c);
    void on_writable(Conn& c);
    void advance(Conn& c);  // parses what is buffered, as far as the state allows
    void answer(Conn& c, HttpResponse res, bool close_after);
    void refuse(Conn& c, int status, const std::string& message, const char* cause);
    void finish_answer(Conn& c);
    void close_conn(uint64_t id);
    void release_body(Conn& c);
    void take_done();
    void on_deadlines(Clock::time_point now);
    void handler_loop();
    void wake();

    const HttpLimits limits_;
    HeadCheck check_;
    Handler handler_;
    Logger logger_;
    RefusalCounter on_refusal_;
    int listen_fd_ = -1, wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    bool closed_listener_ = false;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::unique_ptr<Conn>> conns_;
    std::map<std::string, size_t> per_client_;
    uint64_t bodies_in_flight_ = 0;

    // Requests for the handler threads, answers back to the loop.
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::deque<std::pair<uint64_t, HttpRequest>> work_;
    std::vector<Done> done_;
    bool handlers_stop_ = false;
    std::vector<std::thread> handlers_;
};

}  // namespace lucent::cli
