#include "dump.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "atomic_file.h"
#include "npy.h"

namespace lucent::cli {
namespace {

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) < 0x20) continue;
        out += ch;
    }
    return out + "\"";
}

// Layer names are module paths ("body.3.rdb2.conv4"); anything else becomes '_' in file names.
std::string file_name(const std::string& name) {
    std::string f;
    for (char ch : name)
        f += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-')
                 ? ch
                 : '_';
    return f + ".npy";
}

}  // namespace

Status LayerDump::prepare() {
    std::string prefix;
    for (size_t pos = 0; pos != std::string::npos;) {
        pos = dir_.find('/', pos + 1);
        prefix = dir_.substr(0, pos);
        if (prefix.empty()) continue;
        if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
            return make_status(StatusCode::kIo, "cannot create the dump folder %s: %s",
                               prefix.c_str(), std::strerror(errno));
    }
    return Status();
}

LayerObserver LayerDump::observer() {
    return
        [this](const std::string& name, const std::string& op, const float* data, const Dims& d) {
            if (!first_error_.ok()) return;
            Entry e{name, file_name(name), op, d};
            for (const Entry& prev : entries_)
                if (prev.file == e.file)
                    e.file = file_name(name + "." + std::to_string(entries_.size()));
            first_error_ = write_npy(dir_ + "/" + e.file, {d.n, d.c, d.h, d.w}, data);
            entries_.push_back(e);
        };
}

Status LayerDump::finish(const Model& model, const std::string& input) {
    LUCENT_RETURN_IF_ERROR(first_error_);
    std::string j =
        "{\n  \"lucent\": " + json_string(version()) +
        ",\n  \"model\": " + json_string(model.name()) + ",\n  \"graph\": " +
        json_string(std::string(model.graph()) == "compact" ? "compact"
                    : model.kind() == ModelKind::kSsr       ? "ssr"
                                                            : "red") +
        ",\n  \"input\": " + json_string(input) + ",\n  \"precision\": \"fp32\",\n  \"tier\": " +
        json_string(model.options().reference ? "reference" : isa_name(model.isa())) +
        ",\n  \"threads\": " + std::to_string(model.num_threads()) + ",\n  \"layers\": [\n";
    for (size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        j += "    {\"name\": " + json_string(e.name) + ", \"file\": " + json_string(e.file) +
             ", \"op\": " + json_string(e.op) + ", \"shape\": [" + std::to_string(e.dims.n) + ", " +
             std::to_string(e.dims.c) + ", " + std::to_string(e.dims.h) + ", " +
             std::to_string(e.dims.w) + "]}" + (i + 1 < entries_.size() ? ",\n" : "\n");
    }
    j += "  ]\n}\n";
    LUCENT_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(dir_ + "/manifest.json"));
    std::fwrite(j.data(), 1, j.size(), f.file());
    return f.commit();
}

}  // namespace lucent::cli
