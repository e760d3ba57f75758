#include "http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lucent::cli {
namespace {

using Clock = HttpServer::Clock;

Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string peer_name(const sockaddr_storage& addr) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf, sizeof buf);
    } else if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf,
                  sizeof buf);
    }
    return buf;
}

// Best effort on a socket that may not take it all (non-blocking, no SIGPIPE).
void send_some(int fd, const std::string& bytes) {
    (void)send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

HttpServer::HttpServer(HttpLimits limits, size_t handler_threads, HeadCheck check, Handler handler,
                       Logger logger, RefusalCounter on_refusal)
    : limits_(limits),
      check_(std::move(check)),
      handler_(std::move(handler)),
      logger_(std::move(logger)),
      on_refusal_(std::move(on_refusal)) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    for (size_t i = 0; i < std::max<size_t>(1, handler_threads); ++i)
        handlers_.emplace_back([this] { handler_loop(); });
}

HttpServer::~HttpServer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        handlers_stop_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : handlers_) t.join();
    for (auto& c : conns_) close(c.second->fd);
    if (listen_fd_ >= 0 && !closed_listener_) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
}

int HttpServer::listen(const std::string& host, int port) {
    addrinfo hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
            const int err = errno;
            close(fd);
            fd = -1;
            errno = err;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    sockaddr_storage addr;
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    listen_fd_ = fd;
    return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(addr).sin6_port
                                            : reinterpret_cast<sockaddr_in&>(addr).sin_port);
}

void HttpServer::stop() {
    stopping_ = true;
    wake();
}

void HttpServer::wake() {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
}

bool HttpServer::run() {
    if (listen_fd_ < 0 || wake_fd_ < 0) return false;
    std::vector<pollfd> fds;
    std::vector<uint64_t> ids;
    for (;;) {
        if (stopping_ && !closed_listener_) {
            close(listen_fd_);
            closed_listener_ = true;
        }
        if (stopping_) {
            // Unstarted requests go; started ones are finished.
            std::vector<uint64_t> idle;
            for (auto& c : conns_)
                if (c.second->state == State::kIdle || c.second->state == State::kHead ||
                    c.second->state == State::kLinger)
                    idle.push_back(c.first);
            for (uint64_t id : idle) close_conn(id);
            if (conns_.empty()) return true;
        }
        fds.clear();
        ids.clear();
        fds.push_back({wake_fd_, POLLIN, 0});
        ids.push_back(0);
        if (!closed_listener_) {
            fds.push_back({listen_fd_, POLLIN, 0});
            ids.push_back(0);
        }
        Clock::time_point next = Clock::now() + std::chrono::seconds(1);
        for (auto& entry : conns_) {
            Conn& c = *entry.second;
            // A request being handled is not polled: a client that hung up would make poll
            // report it again and again; its answer finds out.
            if (c.state == State::kHandling) continue;
            fds.push_back(
                {c.fd, static_cast<short>(c.state == State::kWriting ? POLLOUT : POLLIN), 0});
            ids.push_back(c.id);
            next = std::min(next, c.deadline);
        }
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
        const int timeout = static_cast<int>(std::max<long long>(0, wait.count() + 1));
        const int n = poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno != EINTR) return false;
        const Clock::time_point now = Clock::now();
        if (n > 0) {
            for (size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                if (fds[i].fd == wake_fd_) {
                    uint64_t v;
                    (void)!read(wake_fd_, &v, sizeof v);
                    continue;
                }
                if (!closed_listener_ && fds[i].fd == listen_fd_) {
                    accept_all();
                    continue;
                }
                auto it = conns_.find(ids[i]);
                if (it == conns_.end()) continue;
                Conn& c = *it->second;
                if (c.state == State::kWriting && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP)))
                    on_writable(c);
                else if (c.state != State::kHandling && c.state != State::kWriting &&
                         (fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
                    on_readable(c);
            }
        }
        take_done();
        on_deadlines(now);
    }
}

void HttpServer::accept_all() {
    for (;;) {
        sockaddr_storage addr;
        socklen_t len = sizeof addr;
        const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or a connection that went away (ECONNABORTED, ...)
        const std::string peer = peer_name(addr);
        if (conns_.size() >= limits_.max_connections) {
            refuse_at_accept(fd, "too_many_connections");
            continue;
        }
        if (limits_.max_per_client != 0 && per_client_[peer] >= limits_.max_per_client) {
            refuse_at_accept(fd, "too_many_per_client");
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        c->id = next_id_++;
        c->peer = peer;
        c->deadline = Clock::now() + seconds(limits_.header_timeout_s);
        ++per_client_[peer];
        conns_[c->id] = std::move(c);
    }
}

void HttpServer::refuse_at_accept(int fd, const char* cause) {
    on_refusal_(cause);
    HttpResponse res = json_error(
        503,
        std::string("too many connections") +
            (std::strcmp(cause, "too_many_per_client") == 0 ? " from this address" : "") +
            "; retry later",
        "connections");
    res.headers.emplace_back("Retry-After", "1");
    send_some(fd, serialize(res, false));
    shutdown(fd, SHUT_WR);
    close(fd);
}

void HttpServer::on_readable(Conn& c) {
    char buf[64 * 1024];
    for (;;) {
        const ssize_t got = recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
            if (c.state == State::kLinger) continue;  // drained, not kept
            c.in.append(buf, static_cast<size_t>(got));
            // Never buffer more than one head or body needs; the rest waits in the kernel.
            if (c.in.size() > limits_.max_head_bytes + c.req.content_length + sizeof buf) break;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 || c.state == State::kLinger) {  // a failed socket, or the drain is done
            close_conn(c.id);
            return;
        }
        // The client is done sending: a request it completed is still answered, then closed.
        c.peer_closed = true;
        advance(c);
        if (c.state != State::kHandling && c.state != State::kWriting) close_conn(c.id);
        return;
    }
    advance(c);
}

void HttpServer::advance(Conn& c) {
    const Clock::time_point now = Clock::now();
    if (c.state == State::kIdle && !c.in.empty()) {
        c.fresh = false;
        c.state = State::kHead;
        c.started = now;
        c.deadline = now + seconds(limits_.header_timeout_s);
        c.req = HttpRequest();
        c.req.peer = c.peer;
    }
    if (c.state == State::kHead) {
        const size_t end = find_head_end(c.in);
        if (end == 0 && c.in.size() <= limits_.max_head_bytes) return;
        if (end == 0 || end > limits_.max_head_bytes)
            return refuse(c, 431,
                          "the request head is larger than " +
                              std::to_string(limits_.max_head_bytes) + " bytes",
                          "head_too_large");
        const HttpRefusal bad = parse_head(c.in, end, limits_.max_headers, &c.req);
        c.in.erase(0, end);
        if (bad.status != 0)
            return refuse(c, bad.status, bad.message,
                          bad.status == 431 ? "head_too_large" : "bad_request");
        c.head_only = c.req.method == "HEAD";
        if (std::optional<HttpResponse> early = check_(c.req)) {
            if (early->status == 413) on_refusal_("body_too_large");
            return answer(c, std::move(*early), c.req.content_length != 0);
        }
        if (c.req.content_length > limits_.max_body) {
            on_refusal_("body_too_large");
            return answer(c, json_error(413, "the request body is too large"), true);
        }
        if (limits_.max_body_bytes_in_flight != 0 &&
            bodies_in_flight_ + c.req.content_length > limits_.max_body_bytes_in_flight) {
            on_refusal_("bodies_in_flight");
            HttpResponse busy = json_error(503,
                                           "the server holds as many request bodies as it may; "
                                           "retry later",
                                           "bodies_in_flight");
            busy.headers.emplace_back("Retry-After", "1");
            return answer(c, std::move(busy), c.req.content_length != 0);
        }
        c.reserved = c.req.content_length;
        bodies_in_flight_ += c.reserved;
        if (c.req.expect_continue && c.req.content_length > 0)
            send_some(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
        c.state = State::kBody;
        c.deadline = now + seconds(limits_.body_timeout_min_s +
                                   double(c.req.content_length) / limits_.min_rate);
        c.req.body.reserve(static_cast<size_t>(c.req.content_length));
    }
    if (c.state == State::kBody) {
        const size_t want = static_cast<size_t>(c.req.content_length) - c.req.body.size();
        const size_t take = std::min(want, c.in.size());
        c.req.body.append(c.in, 0, take);
        c.in.erase(0, take);
        if (c.req.body.size() < c.req.content_length) return;
        c.state = State::kHandling;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            work_.emplace_back(c.id, c.req);
        }
        c.req.body = std::string();  // the handler has its copy
        work_ready_.notify_one();
    }
}

void HttpServer::refuse(Conn& c, int status, const std::string& message, const char* cause) {
    on_refusal_(cause);
    answer(c, json_error(status, message), true);
}

void HttpServer::release_body(Conn& c) {
    bodies_in_flight_ -= c.reserved;
    c.reserved = 0;
}

void HttpServer::answer(Conn& c, HttpResponse res, bool close_after) {
    release_body(c);  // the body has been handled (or refused): its bytes are free
    if (c.state == State::kIdle) c.started = Clock::now();
    c.close_after = close_after || c.peer_closed || !c.req.keep_alive || stopping_;
    logger_(c.req, res, std::chrono::duration<double>(Clock::now() - c.started).count());
    c.out = serialize(res, !c.close_after, c.head_only);
    c.out_pos = 0;
    c.state = State::kWriting;
    c.deadline = Clock::now() +
                 seconds(limits_.body_timeout_min_s + double(c.out.size()) / limits_.min_rate);
    on_writable(c);
}

void HttpServer::on_writable(Conn& c) {
    while (c.out_pos < c.out.size()) {
        const ssize_t sent = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                                  MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent > 0) {
            c.out_pos += static_cast<size_t>(sent);
            continue;
        }
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (sent < 0 && errno == EINTR) continue;
        close_conn(c.id);
        return;
    }
    finish_answer(c);
}

void HttpServer::finish_answer(Conn& c) {
    c.out = std::string();
    c.out_pos = 0;
    if (c.close_after) {
        // Let the client read the answer: stop writing, then discard what it still sends
        // for a moment, instead of a close that would reset the connection under it.
        shutdown(c.fd, SHUT_WR);
        c.state = State::kLinger;
        c.in.clear();
        c.deadline = Clock::now() + seconds(limits_.linger_s);
        return;
    }
    c.state = State::kIdle;
    c.req = HttpRequest();
    c.deadline = Clock::now() + seconds(limits_.idle_timeout_s);
    if (!c.in.empty()) advance(c);  // a pipelined request
}

void HttpServer::close_conn(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    close(it->second->fd);
    release_body(*it->second);
    auto pc = per_client_.find(it->second->peer);
    if (pc != per_client_.end() && --pc->second == 0) per_client_.erase(pc);
    conns_.erase(it);
}

void HttpServer::take_done() {
    std::vector<Done> done;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        done.swap(done_);
    }
    for (Done& d : done) {
        auto it = conns_.find(d.id);
        if (it == conns_.end()) continue;  // the client went away meanwhile
        answer(*it->second, std::move(d.res), false);
    }
}

void HttpServer::on_deadlines(Clock::time_point now) {
    std::vector<uint64_t> due;
    for (auto& entry : conns_)
        if (entry.second->state != State::kHandling && entry.second->deadline <= now)
            due.push_back(entry.first);
    for (uint64_t id : due) {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        switch (c.state) {
            case State::kHead:
                refuse(c, 408,
                       "the request head did not arrive within " +
                           std::to_string(static_cast<int>(limits_.header_timeout_s)) + " s",
                       "header_timeout");
                break;
            case State::kBody:
                refuse(c, 408, "the request body arrived slower than the server accepts",
                       "body_timeout");
                break;
            case State::kWriting:
                on_refusal_("write_timeout");
                close_conn(id);
                break;
            case State::kIdle:
                if (c.fresh) on_refusal_("header_timeout");  // connected, never sent a byte
                close_conn(id);
                break;
            case State::kLinger:
            case State::kHandling:
                close_conn(id);
                break;
        }
    }
}

void HttpServer::handler_loop() {
    for (;;) {
        std::pair<uint64_t, HttpRequest> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [&] { return handlers_stop_ || !work_.empty(); });
            if (work_.empty()) return;
            job = std::move(work_.front());
            work_.pop_front();
        }
        HttpResponse res;
        try {
            res = handler_(job.second);
        } catch (const std::bad_alloc&) {
            res = json_error(500, "out of memory");
        } catch (const std::exception& e) {
            res = json_error(500, e.what());
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.push_back(Done{job.first, std::move(res)});
        }
        wake();
    }
}

}  // namespace lucent::cli
