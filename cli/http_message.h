// HTTP/1.1 messages for `lucent serve` (RFC 9112, the subset a POST-an-image server needs):
// strict parsing of a request head, query parameters, multipart/form-data bodies, and the
// bytes of an answer. Parsing only: http_server.h owns sockets, deadlines and limits.
//
// Strict on purpose, since the server faces the network directly: a request line of exactly
// METHOD SP TARGET SP HTTP/1.x, header names of token characters, no line folding, at most one
// Content-Length (digits only), and Transfer-Encoding refused (every client of this API can send
// a length). Each refusal carries its HTTP status and a sentence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lucent::cli {

struct HttpRequest {
    std::string method, target, path, query;                   // target = path ['?' query]
    int minor_version = 1;                                     // HTTP/1.0 or HTTP/1.1
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    uint64_t content_length = 0;
    bool keep_alive = true;        // from the version and the Connection header
    bool expect_continue = false;  // "Expect: 100-continue"
    std::string body;
    std::string peer;  // the client's address

    // The first header of that (lower-case) name, or null.
    const std::string* header(const char* name) const;
    // A query parameter, URL-decoded ("" when absent).
    std::string param(const char* name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type, body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra ones
    uint64_t pixels = 0;  // for the server's log and metrics; not sent
};

// Why a head was refused: the status to answer and a sentence.
struct HttpRefusal {
    int status = 0;  // 0: not refused
    std::string message;
};

// Where the head ends in `buf` (the index after its blank line), or 0 when it is not complete
// yet. Accepts CRLF and bare LF line ends.
size_t find_head_end(const std::string& buf);
// Parses the head buf[0, head_end) into *req (method, target, headers, length, keep-alive).
// At most `max_headers` header lines.
HttpRefusal parse_head(const std::string& buf, size_t head_end, size_t max_headers,
                       HttpRequest* req);

// The content of the form part named `name` of a multipart/form-data body (else the first
// part); false with *error set when the body is not such a form.
bool multipart_part(const HttpRequest& req, const char* name, std::string* content,
                    std::string* error);

// "200 OK" and friends.
const char* reason_phrase(int status);
// The bytes of an answer: status line, Content-Type, Content-Length, Connection, extra headers,
// then the body (omitted when head_only, for HEAD requests).
std::string serialize(const HttpResponse& res, bool keep_alive, bool head_only = false);
// A JSON error body {"error": "...", "limit": "..."extra} as an answer of `status`.
HttpResponse json_error(int status, const std::string& message, const std::string& limit = "",
                        const std::string& extra = "");

}  // namespace lucent::cli
