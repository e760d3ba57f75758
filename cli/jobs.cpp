#include "jobs.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "lucent/status.hpp"

namespace lucent::cli {
namespace {

std::string lower(std::string s) {
    for (char& ch : s)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return s;
}

bool is_image_name(const std::string& name) {
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos || name[0] == '.') return false;
    static const char* const kExts[] = {"png", "jpg", "jpeg", "bmp", "tga",
                                        "ppm", "pgm", "pnm",  "npy"};
    const std::string ext = lower(name.substr(dot + 1));
    for (const char* e : kExts)
        if (ext == e) return true;
    return false;
}

bool is_folder(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa, sb;
    return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

Status list_folder(const std::string& folder, std::vector<std::string>* out) {
    DIR* d = opendir(folder.c_str());
    if (d == nullptr)
        return make_status(StatusCode::kIo, "cannot list %s: %s", folder.c_str(),
                           std::strerror(errno));
    std::vector<std::string> names;
    while (const dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (!is_image_name(name)) continue;
        const std::string path = folder + (folder.back() == '/' ? "" : "/") + name;
        if (!is_folder(path)) names.push_back(path);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    out->insert(out->end(), names.begin(), names.end());
    return Status();
}

Status make_folders(const std::string& path) {
    std::string prefix;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        prefix = path.substr(0, pos);
        if (prefix.empty() || is_folder(prefix)) continue;
        if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
            return make_status(StatusCode::kIo, "cannot create the output folder %s: %s",
                               prefix.c_str(), std::strerror(errno));
    }
    if (!is_folder(path))
        return make_status(StatusCode::kIo, "the output %s exists and is not a folder",
                           path.c_str());
    return Status();
}

std::string stem_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const size_t dot = name.rfind('.');
    if (dot != std::string::npos && dot > 0) name.resize(dot);
    return name;
}

}  // namespace

Result<std::vector<Job>> plan_jobs(const Args& a, const std::string& default_suffix) {
    std::vector<Job> jobs;
    if (!a.output_is_folder) {
        Job j{a.inputs[0], a.output, "", ""};
        if (same_file(j.in, j.out))
            j.error = "the output is the input file; refusing to replace it";
        jobs.push_back(j);
        return jobs;
    }
    std::vector<std::string> inputs;
    for (const std::string& in : a.inputs) {
        if (is_folder(in)) {
            LUCENT_RETURN_IF_ERROR(list_folder(in, &inputs));
        } else {
            inputs.push_back(in);  // a missing file fails as its own job, with its own message
        }
    }
    LUCENT_RETURN_IF_ERROR(make_folders(a.output));
    const std::string suffix = a.suffix_set ? a.suffix : default_suffix;
    const std::string ext = "." + (a.ext.empty() ? std::string("png") : a.ext);
    std::map<std::string, std::string> taken;  // output -> the input that claimed it
    for (const std::string& in : inputs) {
        Job j;
        j.in = in;
        j.out = a.output + (a.output.back() == '/' ? "" : "/") + stem_of(in) + suffix + ext;
        auto it = taken.find(j.out);
        if (it != taken.end()) {
            j.error = "its output " + j.out + " is also " + it->second + "'s output";
        } else {
            taken[j.out] = in;
            if (same_file(in, j.out))
                j.error = "the output is the input file; refusing to replace it";
            else if (!a.overwrite && access(j.out.c_str(), F_OK) == 0)
                j.skip = "exists (--overwrite replaces it)";
        }
        jobs.push_back(j);
    }
    if (jobs.empty())
        return make_status(StatusCode::kInvalidArgument, "no image files among the inputs");
    return jobs;
}

}  // namespace lucent::cli
