// libFuzzer target: the HTTP request head parser and the multipart reader of `lucent serve`
// (cli/http_message.h), the code that meets the network first. The input is a head and a body;
// the parser must refuse or accept without reading past its buffer, and an accepted head must
// hold what the parser promises (a path that starts with '/', lower-case header names).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cli/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string buf(reinterpret_cast<const char*>(data), size);
    const size_t end = lucent::cli::find_head_end(buf);
    if (end == 0 || end > buf.size()) return 0;
    lucent::cli::HttpRequest req;
    const lucent::cli::HttpRefusal bad = lucent::cli::parse_head(buf, end, 100, &req);
    if (bad.status != 0) {
        if (bad.status < 400 || bad.status > 599 || bad.message.empty()) std::abort();
        return 0;
    }
    if (req.path.empty() || req.path[0] != '/') std::abort();
    for (const auto& h : req.headers)
        for (char ch : h.first)
            if (ch >= 'A' && ch <= 'Z') std::abort();
    (void)req.param("format");
    req.body = buf.substr(end);
    std::string part, error;
    if (!lucent::cli::multipart_part(req, "image", &part, &error) && error.empty()) std::abort();
    if (part.size() > req.body.size()) std::abort();
    (void)lucent::cli::serialize(lucent::cli::json_error(400, error), req.keep_alive);
    return 0;
}
