#include "http_message.h"

#include <cstdio>
#include <cstring>

namespace lucent::cli {
namespace {

bool is_token_char(char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr && ch != '\0';
}

char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }

std::string lowered(std::string s) {
    for (char& ch : s) ch = lower(ch);
    return s;
}

std::string trimmed(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
    return s.substr(a, b - a);
}

// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool has_token(const std::string& value, const char* token) {
    size_t start = 0;
    while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        if (lowered(trimmed(value.substr(start, comma - start))) == token) return true;
        start = comma + 1;
    }
    return false;
}

int hex_value(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

HttpRefusal refuse(int status, std::string message) { return HttpRefusal{status, message}; }

std::string json_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

// A header parameter such as boundary=... from "multipart/form-data; boundary=...".
std::string header_param(const std::string& value, const char* name) {
    const std::string key = std::string(name) + "=";
    size_t pos = 0;
    while ((pos = value.find(';', pos)) != std::string::npos) {
        ++pos;
        while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
        if (lowered(value.substr(pos, key.size())) != key) continue;
        std::string v = value.substr(pos + key.size());
        if (!v.empty() && v[0] == '"') {
            const size_t end = v.find('"', 1);
            return end == std::string::npos ? std::string() : v.substr(1, end - 1);
        }
        const size_t end = v.find(';');
        return trimmed(end == std::string::npos ? v : v.substr(0, end));
    }
    return "";
}

}  // namespace

const std::string* HttpRequest::header(const char* name) const {
    for (const auto& h : headers)
        if (h.first == name) return &h.second;
    return nullptr;
}

std::string HttpRequest::param(const char* name) const {
    size_t start = 0;
    while (start <= query.size()) {
        size_t amp = query.find('&', start);
        if (amp == std::string::npos) amp = query.size();
        const std::string pair = query.substr(start, amp - start);
        const size_t eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == name)
            return eq == std::string::npos ? std::string() : url_decode(pair.substr(eq + 1));
        start = amp + 1;
    }
    return "";
}

size_t find_head_end(const std::string& buf) {
    for (size_t i = 0; i < buf.size(); ++i) {
        if (buf[i] != '\n') continue;
        if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
        if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

HttpRefusal parse_head(const std::string& buf, size_t head_end, size_t max_headers,
                       HttpRequest* req) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < head_end) {
        size_t nl = buf.find('\n', start);
        if (nl == std::string::npos || nl >= head_end) nl = head_end;
        size_t end = nl;
        if (end > start && buf[end - 1] == '\r') --end;
        lines.push_back(buf.substr(start, end - start));
        start = nl + 1;
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    if (lines.empty()) return refuse(400, "an empty request");
    if (lines.size() - 1 > max_headers)
        return refuse(431, "more than " + std::to_string(max_headers) + " header lines");

    // Request line: METHOD SP TARGET SP HTTP/1.x
    const std::string& rl = lines[0];
    const size_t sp1 = rl.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? sp1 : rl.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos || sp1 == 0 || sp2 == sp1 + 1 ||
        rl.find(' ', sp2 + 1) != std::string::npos)
        return refuse(400, "a malformed request line");
    req->method = rl.substr(0, sp1);
    for (char ch : req->method)
        if (!is_token_char(ch)) return refuse(400, "a malformed method");
    req->target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
    for (char ch : req->target)
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f)
            return refuse(400, "a control character in the request target");
    if (req->target[0] != '/') return refuse(400, "the request target is not a path");
    const std::string version = rl.substr(sp2 + 1);
    if (version == "HTTP/1.1") {
        req->minor_version = 1;
    } else if (version == "HTTP/1.0") {
        req->minor_version = 0;
    } else if (version.rfind("HTTP/", 0) == 0) {
        return refuse(505, "only HTTP/1.0 and HTTP/1.1 are served");
    } else {
        return refuse(400, "a malformed HTTP version");
    }
    const size_t q = req->target.find('?');
    req->path = req->target.substr(0, q);
    req->query = q == std::string::npos ? std::string() : req->target.substr(q + 1);

    int lengths = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (line[0] == ' ' || line[0] == '\t') return refuse(400, "a folded header line");
        const size_t colon = line.find(':');
        if (colon == std::string::npos || colon == 0) return refuse(400, "a header without a name");
        std::string name = line.substr(0, colon);
        for (char ch : name)
            if (!is_token_char(ch)) return refuse(400, "a malformed header name");
        std::string value = trimmed(line.substr(colon + 1));
        for (char ch : value)
            if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f)
                return refuse(400, "a control character in a header value");
        req->headers.emplace_back(lowered(std::move(name)), std::move(value));
    }
    bool close = false, keep = false;
    for (const auto& h : req->headers) {
        if (h.first == "content-length") {
            if (++lengths > 1) return refuse(400, "more than one Content-Length header");
            if (h.second.empty() || h.second.size() > 19)
                return refuse(400, "Content-Length is not a byte count");
            uint64_t v = 0;
            for (char ch : h.second) {
                if (ch < '0' || ch > '9') return refuse(400, "Content-Length is not a byte count");
                v = v * 10 + static_cast<uint64_t>(ch - '0');
            }
            req->content_length = v;
        } else if (h.first == "transfer-encoding") {
            return refuse(411,
                          "Transfer-Encoding is not accepted; send the body with a "
                          "Content-Length");
        } else if (h.first == "connection") {
            if (has_token(h.second, "close")) close = true;
            if (has_token(h.second, "keep-alive")) keep = true;
        } else if (h.first == "expect") {
            if (lowered(h.second) != "100-continue")
                return refuse(417, "only 'Expect: 100-continue' is understood");
            req->expect_continue = req->minor_version == 1;
        }
    }
    req->keep_alive = req->minor_version == 1 ? !close : keep && !close;
    if (req->minor_version == 1 && req->header("host") == nullptr)
        return refuse(400, "an HTTP/1.1 request without a Host header");
    return HttpRefusal();
}

bool multipart_part(const HttpRequest& req, const char* name, std::string* content,
                    std::string* error) {
    const std::string* type = req.header("content-type");
    const std::string boundary = type ? header_param(*type, "boundary") : std::string();
    if (boundary.empty() || boundary.size() > 200) {
        *error = "the multipart form has no usable boundary";
        return false;
    }
    const std::string delim = "--" + boundary;
    const std::string& body = req.body;
    size_t pos = body.find(delim);
    bool found_any = false;
    std::string first;
    while (pos != std::string::npos) {
        pos += delim.size();
        if (body.compare(pos, 2, "--") == 0) break;  // the closing delimiter
        if (body.compare(pos, 2, "\r\n") != 0) break;
        pos += 2;
        const size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string::npos) break;
        const std::string head = lowered(body.substr(pos, head_end - pos));
        const size_t data = head_end + 4;
        const size_t next = body.find("\r\n" + delim, data);
        if (next == std::string::npos) break;
        std::string part_name;
        const size_t cd = head.find("content-disposition:");
        if (cd != std::string::npos) {
            const size_t eol = head.find("\r\n", cd);
            part_name =
                header_param(head.substr(cd, eol == std::string::npos ? eol : eol - cd), "name");
        }
        if (part_name == lowered(name)) {
            *content = body.substr(data, next - data);
            return true;
        }
        if (!found_any) first = body.substr(data, next - data);
        found_any = true;
        pos = next + 2;
    }
    if (found_any) {
        *content = std::move(first);
        return true;
    }
    *error = "the multipart form has no 'image' part";
    return false;
}

const char* reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 417:
            return "Expectation Failed";
        case 422:
            return "Unprocessable Content";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

std::string serialize(const HttpResponse& res, bool keep_alive, bool head_only) {
    std::string out =
        "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
    if (!res.content_type.empty()) out += "Content-Type: " + res.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto& h : res.headers) out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    if (!head_only) out += res.body;
    return out;
}

HttpResponse json_error(int status, const std::string& message, const std::string& limit,
                        const std::string& extra) {
    HttpResponse res;
    res.status = status;
    res.content_type = "application/json";
    res.body = "{\"error\": \"" + json_escape(message) + "\"";
    if (!limit.empty()) res.body += ", \"limit\": \"" + limit + "\"";
    res.body += extra + "}\n";
    return res;
}

}  // namespace lucent::cli
