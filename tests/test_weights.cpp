// The weight-file reader against truncated, corrupted and hostile files: every one is a
// kBadWeights (or kIo) status with a message, never a crash (the suite also runs under ASan).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lucent/model.hpp"
#include "tests/util/rng.h"
#include "weights/weight_file.h"

namespace lucent {
namespace {

using weights::WeightFile;

std::vector<uint8_t> golden_file() {
    std::ifstream f(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/ssr_nearest_x4.lcw",
                    std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Re-seals a modified file with a correct CRC, so checks behind the CRC are reached.
void reseal(std::vector<uint8_t>* b) {
    std::memset(b->data() + 56, 0, 4);
    const uint32_t crc = weights::crc32(0, b->data(), b->size());
    std::memcpy(b->data() + 56, &crc, 4);
}

template <typename T>
void put(std::vector<uint8_t>* b, size_t at, T v) {
    std::memcpy(b->data() + at, &v, sizeof v);
}

Status load_status(const std::vector<uint8_t>& b) {
    Result<Model> m = Model::load_memory(b.data(), b.size(), "test file");
    return m.ok() ? Status() : m.status();
}

TEST(WeightFile, GoldenFileLoads) {
    const auto b = golden_file();
    ASSERT_GT(b.size(), 1000u);
    Result<WeightFile> wf = WeightFile::parse(b, "golden");
    ASSERT_TRUE(wf.ok()) << wf.status().message();
    int64_t nf = 0;
    EXPECT_TRUE(wf.value().get_int("nf", 1, 4096, &nf).ok());
    EXPECT_EQ(nf, 16);
    EXPECT_TRUE(load_status(b).ok());
}

TEST(WeightFile, EveryTruncationIsRefused) {
    const auto b = golden_file();
    for (size_t cut = 0; cut < b.size(); cut += (cut < 512 ? 1 : 997)) {
        const std::vector<uint8_t> t(b.begin(), b.begin() + static_cast<long>(cut));
        const Status st = load_status(t);
        ASSERT_EQ(st.code(), StatusCode::kBadWeights) << cut;
        ASSERT_FALSE(st.message().empty());
    }
}

TEST(WeightFile, RandomCorruptionIsRefused) {
    const auto b = golden_file();
    test::Rng rng(testing::UnitTest::GetInstance()->random_seed());
    for (int i = 0; i < 300; ++i) {
        auto c = b;
        const size_t at =
            static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(b.size()) - 1));
        c[at] ^= static_cast<uint8_t>(rng.uniform_int(1, 255));
        EXPECT_EQ(load_status(c).code(), StatusCode::kBadWeights) << "byte " << at;
    }
}

TEST(WeightFile, ResealedCorruptionInTheTablesIsRefused) {
    // With a valid CRC, the structural checks must catch garbage in the header and tables.
    const auto b = golden_file();
    test::Rng rng(testing::UnitTest::GetInstance()->random_seed());
    uint64_t table = 0;
    std::memcpy(&table, b.data() + 24, 8);
    for (int i = 0; i < 2000; ++i) {
        auto c = b;
        const size_t at =
            static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(64 + table) - 1));
        if (at >= 56 && at < 60) continue;  // the CRC itself
        c[at] = static_cast<uint8_t>(rng.uniform_int(0, 255));
        reseal(&c);
        const Status st = load_status(c);  // may be OK when the byte did not matter (provenance)
        if (!st.ok()) {
            EXPECT_FALSE(st.message().empty());
        }
    }
}

TEST(WeightFile, HostileHeadersNameTheProblem) {
    const auto b = golden_file();
    struct Case {
        size_t at;
        uint64_t value;
        int width;
        const char* needle;
    };
    const Case cases[] = {
        {4, 2, 4, "version"},
        {8, 9, 4, "graph kind"},
        {12, 100000, 4, "metadata count"},
        {16, 0, 4, "tensor count"},
        {24, UINT64_MAX - 8, 8, "section sizes"},
        {32, 65, 8, "section sizes"},
        {40, UINT64_MAX, 8, "section sizes"},
        {48, UINT64_MAX, 8, "header says"},
    };
    for (const Case& k : cases) {
        auto c = b;
        if (k.width == 4)
            put<uint32_t>(&c, k.at, static_cast<uint32_t>(k.value));
        else
            put<uint64_t>(&c, k.at, k.value);
        reseal(&c);
        const Status st = load_status(c);
        EXPECT_EQ(st.code(), StatusCode::kBadWeights);
        EXPECT_NE(st.message().find(k.needle), std::string::npos) << st.message();
    }
}

TEST(WeightFile, TensorShapeMismatchNamesTheTensor) {
    // Change metadata nb from 1 to 2: the file then lacks every body.1.* tensor.
    auto c = golden_file();
    const char key[] = "\x02\x00nb\x01\x01\x00\x00\x00";
    auto it = std::search(c.begin(), c.end(), key, key + sizeof key - 1);
    ASSERT_NE(it, c.end());
    const size_t at = static_cast<size_t>(it - c.begin()) + sizeof key - 1;
    put<int64_t>(&c, at, 2);
    reseal(&c);
    Status st = load_status(c);
    EXPECT_EQ(st.code(), StatusCode::kBadWeights);
    EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("body.1.rdb1.conv1.weight"), std::string::npos) << st.message();
    // nf = 17: every tensor is mis-shaped.
    c = golden_file();
    const char nf[] = "\x02\x00nf\x01\x01\x00\x00\x00";
    it = std::search(c.begin(), c.end(), nf, nf + sizeof nf - 1);
    ASSERT_NE(it, c.end());
    put<int64_t>(&c, static_cast<size_t>(it - c.begin()) + sizeof nf - 1, 17);
    reseal(&c);
    st = load_status(c);
    EXPECT_NE(st.message().find("mis-shaped"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("conv_first.weight"), std::string::npos) << st.message();
}

TEST(WeightFile, MissingFileIsIo) {
    Result<Model> m = Model::load("/nonexistent/dir/model.lcw");
    EXPECT_EQ(m.status().code(), StatusCode::kIo);
    EXPECT_NE(m.status().message().find("/nonexistent/dir/model.lcw"), std::string::npos);
}

}  // namespace
}  // namespace lucent
