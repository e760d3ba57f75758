// Replays every input that a fuzz target once failed on (fuzz/regressions/<target>/) and every
// seed (fuzz/corpus/<target>/) through the same calls as the target: each must end in a status,
// under ASan + UBSan in CI, never a crash or undefined behaviour.
#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/http_message.h"
#include "cli/image_io.h"
#include "cli/npy.h"
#include "lucent/lucent.hpp"

namespace lucent {
namespace {

std::vector<std::vector<uint8_t>> files_in(const std::string& dir) {
    std::vector<std::vector<uint8_t>> out;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return out;
    while (const dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(dir + "/" + e->d_name, std::ios::binary);
        out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    closedir(d);
    return out;
}

std::vector<std::vector<uint8_t>> inputs(const char* target) {
    std::vector<std::vector<uint8_t>> all =
        files_in(std::string(LUCENT_FUZZ_DIR) + "/regressions/" + target);
    for (auto& f : files_in(std::string(LUCENT_FUZZ_DIR) + "/corpus/" + target)) all.push_back(f);
    return all;
}

TEST(FuzzRegressions, Images) {
    const auto files = inputs("image");
    ASSERT_GE(files.size(), 10u);
    for (const auto& f : files) {
        Result<cli::ImageInfo> info = cli::image_info(f.data(), f.size(), "input");
        if (!info.ok()) continue;
        Result<cli::Image> img = cli::decode_image(f.data(), f.size(), "input");
        if (img.ok()) {
            EXPECT_EQ(img.value().w, info.value().w);
            EXPECT_EQ(img.value().h, info.value().h);
            // The same bytes every time (a cut TGA once decoded from memory it never wrote).
            Result<cli::Image> again = cli::decode_image(f.data(), f.size(), "input");
            ASSERT_TRUE(again.ok());
            EXPECT_EQ(again.value().bytes, img.value().bytes);
        }
    }
}

TEST(FuzzRegressions, HttpHeads) {
    for (const auto& f : inputs("http")) {
        const std::string buf(f.begin(), f.end());
        const size_t end = cli::find_head_end(buf);
        if (end == 0) continue;
        cli::HttpRequest req;
        (void)cli::parse_head(buf, end, 100, &req);
    }
}

TEST(FuzzRegressions, TruncatedImagesAreRefused) {
    for (const char* name : {"truncated-tga-33-bytes.bin", "truncated-bmp.bin"}) {
        std::ifstream in(std::string(LUCENT_FUZZ_DIR) + "/regressions/image/" + name,
                         std::ios::binary);
        const std::vector<uint8_t> f{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
        ASSERT_FALSE(f.empty()) << name;
        EXPECT_FALSE(cli::decode_image(f.data(), f.size(), "input").ok()) << name;
    }
}

TEST(FuzzRegressions, Npy) {
    for (const auto& f : inputs("npy")) (void)parse_npy(f.data(), f.size(), "input");
}

TEST(FuzzRegressions, WeightFiles) {
    for (const auto& f : inputs("lcw")) {
        if (f.empty()) continue;
        Result<Model> m = Model::load_memory(f.data() + 1, f.size() - 1, "input");
        (void)m;
    }
}

}  // namespace
}  // namespace lucent
