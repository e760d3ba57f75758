// Model::run_image against Model::run on the same pixels: every sample type in and out,
// gray / gray+alpha / RGB / RGBA, padded strides, both graphs (the golden fixtures' models and
// the embedded defaults); and every bad argument refused with a status that names it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "lucent/lucent.hpp"
#include "tests/util/rng.h"

namespace lucent {
namespace {

Model load(const std::string& name) {
    Result<Model> m = Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name + ".lcw");
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(m).value();
}

// An interleaved test image with a padded stride (stride_pad bytes per row).
struct TestImage {
    std::vector<uint8_t> bytes;
    ImageView view;
};

TestImage make_image(int64_t w, int64_t h, int32_t c, PixelType t, size_t stride_pad,
                     uint64_t seed) {
    TestImage im;
    const size_t row = static_cast<size_t>(w * c) * pixel_type_size(t);
    const size_t stride = row + stride_pad;
    im.bytes.assign(stride * static_cast<size_t>(h), 0xAB);
    test::Rng rng(seed);
    for (int64_t y = 0; y < h; ++y)
        for (int64_t i = 0; i < w * c; ++i) {
            uint8_t* p = im.bytes.data() + static_cast<size_t>(y) * stride;
            const float v = rng.uniform(0.0f, 1.0f);
            if (t == PixelType::kU8) {
                p[i] = static_cast<uint8_t>(v * 255.0f);
            } else if (t == PixelType::kU16) {
                const uint16_t q = static_cast<uint16_t>(v * 65535.0f);
                std::memcpy(p + i * 2, &q, 2);
            } else {
                std::memcpy(p + i * 4, &v, 4);
            }
        }
    im.view = ImageView{im.bytes.data(), im.bytes.size(), w, h, c, t, stride};
    return im;
}

float sample(const ConstImageView& v, int64_t x, int64_t y, int32_t ch) {
    const size_t stride = v.stride_bytes
                              ? v.stride_bytes
                              : static_cast<size_t>(v.width * v.channels) * pixel_type_size(v.type);
    const uint8_t* row = static_cast<const uint8_t*>(v.data) + static_cast<size_t>(y) * stride;
    const int64_t i = x * v.channels + ch;
    if (v.type == PixelType::kU8) return row[i] / 255.0f;
    if (v.type == PixelType::kU16) {
        uint16_t q;
        std::memcpy(&q, row + i * 2, 2);
        return q / 65535.0f;
    }
    float f;
    std::memcpy(&f, row + i * 4, 4);
    return f;
}

float quantize(float v, PixelType t) {
    if (t == PixelType::kF32) return v;
    const float max = t == PixelType::kU8 ? 255.0f : 65535.0f;
    if (!(v > 0.0f)) return 0.0f;
    if (v >= 1.0f) return 1.0f;
    return std::nearbyint(v * max) / max;
}

// The image path must equal: unpack -> Model::run -> pack, as written here independently.
void check_against_tensor_run(const Model& m, const TestImage& in, PixelType out_type,
                              size_t out_pad) {
    const ConstImageView& iv = in.view;
    ImageSize os;
    ASSERT_TRUE(m.output_image_size(iv.width, iv.height, iv.channels, &os).ok());
    const bool alpha = iv.channels == 2 || iv.channels == 4;
    const bool gray = iv.channels <= 2;
    ASSERT_EQ(os.channels, iv.channels);
    TestImage out = make_image(os.width, os.height, os.channels, out_type, out_pad, 1);
    const Status st = m.run_image(iv, out.view);
    ASSERT_TRUE(st.ok()) << st.message();

    const int64_t plane = iv.width * iv.height;
    std::vector<float> src(static_cast<size_t>(3 * plane));
    for (int ch = 0; ch < 3; ++ch)
        for (int64_t y = 0; y < iv.height; ++y)
            for (int64_t x = 0; x < iv.width; ++x)
                src[ch * plane + y * iv.width + x] = sample(iv, x, y, gray ? 0 : ch);
    Dims od;
    ASSERT_TRUE(m.output_dims(Dims{1, 3, iv.height, iv.width}, &od).ok());
    std::vector<float> dst(static_cast<size_t>(od.count()));
    ASSERT_TRUE(m.run(src.data(), Dims{1, 3, iv.height, iv.width}, dst.data()).ok());
    const int64_t oplane = od.h * od.w;
    for (int64_t y = 0; y < od.h; ++y)
        for (int64_t x = 0; x < od.w; ++x) {
            const int64_t i = y * od.w + x;
            if (gray) {
                const float want =
                    quantize((dst[i] + dst[oplane + i] + dst[2 * oplane + i]) / 3.0f, out_type);
                ASSERT_EQ(sample(out.view, x, y, 0), want) << x << "," << y;
            } else {
                for (int ch = 0; ch < 3; ++ch)
                    ASSERT_EQ(sample(out.view, x, y, ch), quantize(dst[ch * oplane + i], out_type))
                        << x << "," << y << " ch " << ch;
            }
        }
    if (alpha && m.scale() == 1) {  // RED keeps alpha as it is
        for (int64_t y = 0; y < od.h; ++y)
            for (int64_t x = 0; x < od.w; ++x)
                ASSERT_EQ(sample(out.view, x, y, os.channels - 1),
                          quantize(sample(iv, x, y, iv.channels - 1), out_type));
    }
    // Padding bytes between rows are never written.
    const size_t row = static_cast<size_t>(os.width * os.channels) * pixel_type_size(out_type);
    for (int64_t y = 0; y < os.height; ++y)
        for (size_t b = row; b < row + out_pad; ++b)
            ASSERT_EQ(out.bytes[static_cast<size_t>(y) * (row + out_pad) + b], 0xAB);
}

TEST(ImageApi, EveryLayoutAndTypeMatchesTheTensorPath) {
    for (const char* name : {"ssr_nearest_x4", "red_bins1236"}) {
        const Model m = load(name);
        for (int32_t c = 1; c <= 4; ++c)
            for (PixelType in_t : {PixelType::kU8, PixelType::kU16, PixelType::kF32})
                for (PixelType out_t : {PixelType::kU8, PixelType::kU16, PixelType::kF32}) {
                    SCOPED_TRACE(std::string(name) + " c=" + std::to_string(c) + " " +
                                 pixel_type_name(in_t) + "->" + pixel_type_name(out_t));
                    const TestImage in = make_image(7, 5, c, in_t, c == 3 ? 5 : 0, 17 + c);
                    check_against_tensor_run(m, in, out_t, c == 2 ? 3 : 0);
                }
    }
}

TEST(ImageApi, SsrAlphaIsResizedBilinearly) {
    const Model m = load("ssr_nearest_x4");
    // A constant alpha stays constant after bilinear resizing.
    TestImage in = make_image(6, 4, 4, PixelType::kU8, 0, 3);
    for (size_t i = 3; i < in.bytes.size(); i += 4) in.bytes[i] = 200;
    ImageSize os;
    ASSERT_TRUE(m.output_image_size(6, 4, 4, &os).ok());
    EXPECT_EQ(os.width, 24);
    EXPECT_EQ(os.height, 16);
    TestImage out = make_image(os.width, os.height, 4, PixelType::kU8, 0, 4);
    ASSERT_TRUE(m.run_image(in.view, out.view).ok());
    for (size_t i = 3; i < out.bytes.size(); i += 4) ASSERT_EQ(out.bytes[i], 200);
}

TEST(ImageApi, DefaultModelsRun) {
    for (ModelKind kind : {ModelKind::kSsr, ModelKind::kRed}) {
        Result<Model> m = Model::load_default(kind);
        ASSERT_TRUE(m.ok()) << m.status().message();
        const TestImage in = make_image(9, 6, 3, PixelType::kU8, 0, 8);
        check_against_tensor_run(m.value(), in, PixelType::kU8, 0);
    }
}

void expect_refused(const Model& m, const ConstImageView& in, const ImageView& out,
                    const char* needle) {
    const Status st = m.run_image(in, out);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << needle;
    EXPECT_NE(st.message().find(needle), std::string::npos)
        << "'" << st.message() << "' should name '" << needle << "'";
}

TEST(ImageApi, BadArgumentsNameTheArgument) {
    const Model m = load("ssr_nearest_x4");
    TestImage in = make_image(5, 4, 3, PixelType::kU8, 0, 1);
    TestImage out = make_image(20, 16, 3, PixelType::kU8, 0, 2);
    ASSERT_TRUE(m.run_image(in.view, out.view).ok());

    ImageView v = in.view;
    v.data = nullptr;
    expect_refused(m, v, out.view, "in.data is null");
    v = out.view;
    v.data = nullptr;
    expect_refused(m, in.view, v, "out.data is null");
    v = in.view;
    v.channels = 5;
    expect_refused(m, v, out.view, "in.channels is 5");
    v = in.view;
    v.channels = 0;
    expect_refused(m, v, out.view, "in.channels is 0");
    v = in.view;
    v.stride_bytes = 14;
    expect_refused(m, v, out.view, "in.stride_bytes is 14");
    v = in.view;
    v.size_bytes -= 1;
    expect_refused(m, v, out.view, "in.size_bytes");
    v = out.view;
    v.size_bytes = 100;
    expect_refused(m, in.view, v, "out.size_bytes is 100");
    v = out.view;
    v.stride_bytes = 3;
    expect_refused(m, in.view, v, "out.stride_bytes is 3");
    v = out.view;
    v.width = 19;
    expect_refused(m, in.view, v, "out is 19x16");
    TestImage out4 = make_image(20, 16, 4, PixelType::kU8, 0, 2);
    expect_refused(m, in.view, out4.view, "with 4 channels");
    v = in.view;
    v.type = static_cast<PixelType>(9);
    expect_refused(m, v, out.view, "in.type is 9");
    v = in.view;
    v.width = 0;
    expect_refused(m, v, out.view, "in is 0x4");
    ImageSize os;
    EXPECT_FALSE(m.output_image_size(5, 4, 7, &os).ok());
    EXPECT_EQ(m.output_image_size(5, 4, 3, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(ImageApi, ChannelCountThatFitsNoRuleIsRefused) {
    // A 1-channel model (no gray expansion) takes 1 or 2 (alpha) channels only.
    const Model m = load("ssr_nearest_x4");
    ASSERT_EQ(m.in_channels(), 3);
    ImageSize os;
    for (int32_t c : {1, 2, 3, 4}) EXPECT_TRUE(m.output_image_size(3, 3, c, &os).ok()) << c;
}

TEST(ImageApi, MemoryLimitStreamsInNarrowerStripesWithTheSameBits) {
    const std::string path = std::string(LUCENT_GOLDEN_MODELS_DIR) + "/ssr_nearest_x4.lcw";
    Result<Model> free_run = Model::load(path);
    Options opt;
    opt.max_memory_bytes = 9 << 20;  // the default stripe needs ~28 MiB here
    Result<Model> tight = Model::load(path, opt);
    ASSERT_TRUE(free_run.ok() && tight.ok());
    Result<uint64_t> need = tight.value().image_working_bytes(300, 200, 4);
    ASSERT_TRUE(need.ok()) << need.status().message();
    EXPECT_LE(need.value(), uint64_t{9} << 20);
    EXPECT_LT(need.value(), free_run.value().image_working_bytes(300, 200, 4).value());
    TestImage in = make_image(300, 200, 4, PixelType::kU8, 0, 1);
    TestImage a = make_image(1200, 800, 4, PixelType::kU8, 0, 2);
    TestImage b = make_image(1200, 800, 4, PixelType::kU8, 0, 3);
    ASSERT_TRUE(free_run.value().run_image(in.view, a.view).ok());
    const Status st = tight.value().run_image(in.view, b.view);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(a.bytes, b.bytes);
}

// Models whose streaming costs extra passes (channel-attention SSR, RED without kept
// statistics) take them only when memory asks for it, with the same bits.
TEST(ImageApi, TightMemoryStreamsPassesWithTheSameBits) {
    for (const char* name : {"ssr_unshuffle2_ca", "red_bins1236"}) {
        SCOPED_TRACE(name);
        const std::string path = std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name + ".lcw";
        Result<Model> free_run = Model::load(path);
        ASSERT_TRUE(free_run.ok());
        const uint64_t roomy = free_run.value().image_working_bytes(90, 70, 3).value();
        Options opt;
        opt.max_memory_bytes = roomy / 2;
        Result<Model> tight = Model::load(path, opt);
        ASSERT_TRUE(tight.ok());
        Result<uint64_t> need = tight.value().image_working_bytes(90, 70, 3);
        ASSERT_TRUE(need.ok()) << need.status().message();
        EXPECT_LE(need.value(), opt.max_memory_bytes);
        ImageSize os;
        ASSERT_TRUE(free_run.value().output_image_size(90, 70, 3, &os).ok());
        TestImage in = make_image(90, 70, 3, PixelType::kU8, 0, 1);
        TestImage a = make_image(os.width, os.height, 3, PixelType::kU8, 0, 2);
        TestImage b = make_image(os.width, os.height, 3, PixelType::kU8, 0, 3);
        ASSERT_TRUE(free_run.value().run_image(in.view, a.view).ok());
        const Status st = tight.value().run_image(in.view, b.view);
        ASSERT_TRUE(st.ok()) << st.message();
        EXPECT_EQ(a.bytes, b.bytes);
    }
}

// Model::run_rows against Model::run: the same bits, rows delivered in order, stripes bounded.
void check_run_rows(const std::string& file, const Dims& d, int64_t stripe, int64_t max_block,
                    int64_t max_pulls = 1) {
    SCOPED_TRACE(file);
    Options opt;
    opt.stripe_rows = stripe;
    Result<Model> m = Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + file, opt);
    ASSERT_TRUE(m.ok());
    Dims od;
    ASSERT_TRUE(m.value().output_dims(d, &od).ok());
    test::Rng rng(test::test_seed());
    std::vector<float> in(static_cast<size_t>(d.count()));
    rng.fill(in.data(), d.count(), 0.0f, 1.0f);
    std::vector<float> want(static_cast<size_t>(od.count())), got(want.size(), -1.0f);
    ASSERT_TRUE(m.value().run(in.data(), d, want.data()).ok());
    int64_t next = 0, largest = 0, pulled = 0;
    const Status st = m.value().run_rows(
        d,
        [&](const Model::RowBlock& b) {
            for (int64_t c = 0; c < b.channels; ++c)
                std::copy(in.begin() + (c * d.h + b.y0) * d.w, in.begin() + (c * d.h + b.y1) * d.w,
                          b.data + c * b.channel_stride);
            pulled += b.y1 - b.y0;
            return Status();
        },
        [&](const Model::RowBlock& b) {
            EXPECT_EQ(b.y0, next);
            next = b.y1;
            largest = std::max(largest, b.y1 - b.y0);
            for (int64_t c = 0; c < b.channels; ++c)
                std::copy(b.data + c * b.channel_stride,
                          b.data + c * b.channel_stride + (b.y1 - b.y0) * b.width,
                          got.begin() + (c * od.h + b.y0) * od.w);
            return Status();
        });
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(next, od.h);
    // Every input row pulled once per pass (RED: up to three passes, each from row 0).
    EXPECT_EQ(pulled % d.h, 0);
    EXPECT_GE(pulled, d.h);
    EXPECT_LE(pulled, max_pulls * d.h);
    EXPECT_LE(largest, max_block);
    EXPECT_EQ(got, want);
}

TEST(ModelRunRows, StreamsSsrInStripesWithRunsBits) {
    check_run_rows("ssr_nearest_x4.lcw", Dims{1, 3, 23, 17}, 5, 5);
    check_run_rows("ssr_pixelshuffle_x3.lcw", Dims{1, 3, 9, 14}, 2, 2);
}

TEST(ModelRunRows, RedStreamsInPassesWithRunsBits) {
    check_run_rows("red_bins1236.lcw", Dims{1, 3, 11, 13}, 0, 11, 3);
    check_run_rows("red_bins1236.lcw", Dims{1, 3, 11, 13}, 3, 3, 3);
    check_run_rows("red_nobins.lcw", Dims{1, 3, 20, 7}, 4, 4, 3);
}

TEST(ModelRunRows, ChannelAttentionStreamsInPassesWhenAStripeIsSet) {
    // One pass per gate, each pulling the input from row 0 again.
    check_run_rows("ssr_unshuffle2_ca.lcw", Dims{1, 3, 9, 8}, 3, 3, 16);
    // No stripe set: the whole-image plan (it fits), every row pulled once.
    check_run_rows("ssr_unshuffle2_ca.lcw", Dims{1, 3, 9, 8}, 0, 18, 1);
}

TEST(ModelRunRows, SourceErrorsAndBadArgumentsAreStatuses) {
    Result<Model> m = Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/ssr_nearest_x4.lcw");
    ASSERT_TRUE(m.ok());
    const auto ok_sink = [](const Model::RowBlock&) { return Status(); };
    const Status st = m.value().run_rows(
        Dims{1, 3, 8, 8},
        [](const Model::RowBlock&) { return make_status(StatusCode::kIo, "camera unplugged"); },
        ok_sink);
    EXPECT_EQ(st.code(), StatusCode::kIo);
    EXPECT_EQ(st.message(), "camera unplugged");
    const Status nan = m.value().run_rows(
        Dims{1, 3, 8, 8},
        [](const Model::RowBlock& b) {
            for (int64_t c = 0; c < b.channels; ++c)
                std::fill(b.data + c * b.channel_stride,
                          b.data + c * b.channel_stride + (b.y1 - b.y0) * b.width, NAN);
            return Status();
        },
        ok_sink);
    EXPECT_EQ(nan.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(nan.message().find("NaN"), std::string::npos);
    EXPECT_EQ(m.value().run_rows(Dims{2, 3, 8, 8}, ok_sink, ok_sink).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(m.value().run_rows(Dims{1, 3, 8, 8}, nullptr, ok_sink).code(),
              StatusCode::kInvalidArgument);
}

// Model::run_image_rows against run_image: the same bytes, rows in order and in blocks no
// taller than the stripe (streaming) or the whole-path block.
void check_image_rows(const std::string& file, int64_t w, int64_t h, int32_t c, PixelType out_type,
                      int64_t stripe, int64_t max_block) {
    SCOPED_TRACE(file);
    Options opt;
    opt.stripe_rows = stripe;
    Result<Model> m = Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + file, opt);
    ASSERT_TRUE(m.ok()) << m.status().message();
    TestImage in = make_image(w, h, c, PixelType::kU8, 3, 11);
    ImageSize os;
    ASSERT_TRUE(m.value().output_image_size(w, h, c, &os).ok());
    TestImage want = make_image(os.width, os.height, os.channels, out_type, 0, 12);
    ASSERT_TRUE(m.value().run_image(in.view, want.view).ok());
    std::vector<uint8_t> got;
    int64_t next = 0, blocks = 0;
    const Status st = m.value().run_image_rows(
        in.view, out_type, [&](int64_t y0, const ConstImageView& rows) -> Status {
            EXPECT_EQ(y0, next);
            EXPECT_EQ(rows.width, os.width);
            EXPECT_EQ(rows.channels, os.channels);
            EXPECT_EQ(rows.type, out_type);
            EXPECT_LE(rows.height, max_block);
            const uint8_t* p = static_cast<const uint8_t*>(rows.data);
            got.insert(got.end(), p, p + rows.stride_bytes * static_cast<size_t>(rows.height));
            next = y0 + rows.height;
            ++blocks;
            return Status();
        });
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(next, os.height);
    EXPECT_GE(blocks, (os.height + max_block - 1) / max_block);
    EXPECT_EQ(got, want.bytes);
}

TEST(ImageRows, StreamsSsrStripesWithRunImagesBytes) {
    check_image_rows("ssr_nearest_x4.lcw", 17, 13, 4, PixelType::kU8, 5, 5);
    check_image_rows("ssr_pixelshuffle_x3.lcw", 9, 14, 1, PixelType::kU16, 2, 2);
    check_image_rows("ssr_nearest_x4.lcw", 7, 5, 3, PixelType::kF32, 0, 64);
}

TEST(ImageRows, OtherModelsDeliverBlocksAfterTheRun) {
    check_image_rows("red_bins1236.lcw", 13, 11, 2, PixelType::kU8, 0, 64);
    check_image_rows("ssr_unshuffle2_ca.lcw", 8, 9, 3, PixelType::kU16, 3, 64);
}

TEST(ImageRows, SinkErrorsAndBadArgumentsAreStatuses) {
    Model m = load("ssr_nearest_x4");
    TestImage in = make_image(6, 70, 3, PixelType::kU8, 0, 1);
    int calls = 0;
    const Status st =
        m.run_image_rows(in.view, PixelType::kU8, [&](int64_t, const ConstImageView&) -> Status {
            ++calls;
            return make_status(StatusCode::kIo, "disk full");
        });
    EXPECT_EQ(st.code(), StatusCode::kIo);
    EXPECT_EQ(st.message(), "disk full");
    EXPECT_EQ(calls, 1);  // the run stops at the first failing block
    const auto ok_sink = [](int64_t, const ConstImageView&) { return Status(); };
    EXPECT_EQ(m.run_image_rows(in.view, PixelType::kU8, nullptr).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(m.run_image_rows(in.view, static_cast<PixelType>(9), ok_sink).code(),
              StatusCode::kInvalidArgument);
    ConstImageView bad = in.view;
    bad.data = nullptr;
    const Status null_in = m.run_image_rows(bad, PixelType::kU8, ok_sink);
    EXPECT_EQ(null_in.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(null_in.message().find("in.data"), std::string::npos) << null_in.message();
}

TEST(ImageApi, MemoryLimitRefusesBeforeAllocating) {
    Options opt;
    opt.max_memory_bytes = 64 << 10;
    Result<Model> m =
        Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/ssr_nearest_x4.lcw", opt);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m.value().image_working_bytes(3000, 200, 3).status().code(),
              StatusCode::kOutOfMemory);
    TestImage in = make_image(3000, 200, 3, PixelType::kU8, 0, 1);
    TestImage out = make_image(12000, 800, 3, PixelType::kU8, 0, 2);
    const Status st = m.value().run_image(in.view, out.view);
    EXPECT_EQ(st.code(), StatusCode::kOutOfMemory);
    EXPECT_NE(st.message().find("64.0 KiB"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("one-row stripes"), std::string::npos) << st.message();
}

TEST(ImageApi, BufferBytes) {
    EXPECT_EQ(image_buffer_bytes(ImageSize{4, 3, 3}, PixelType::kU8), 36u);
    EXPECT_EQ(image_buffer_bytes(ImageSize{4, 3, 3}, PixelType::kU16, 30), 30u * 2 + 24);
    EXPECT_EQ(image_buffer_bytes(ImageSize{4, 3, 3}, PixelType::kF32, 10), 0u);  // stride < row
    EXPECT_EQ(image_buffer_bytes(ImageSize{0, 3, 3}, PixelType::kU8), 0u);
    EXPECT_EQ(image_buffer_bytes(ImageSize{INT64_MAX, INT64_MAX, 4}, PixelType::kF32), 0u);
}

TEST(ModelOptions, BadOptionsAreStatuses) {
    Options opt;
    opt.precision = Precision::kBf16;
    opt.max_isa = Isa::kAvx2;  // bf16 runs on AMX only: refused on any machine
    Result<Model> m = Model::load_default(ModelKind::kSsr, opt);
    EXPECT_EQ(m.status().code(), StatusCode::kUnsupported);
    opt = Options();
    opt.num_threads = -1;
    EXPECT_EQ(Model::load_default(ModelKind::kSsr, opt).status().code(),
              StatusCode::kInvalidArgument);
    opt = Options();
    opt.max_isa = static_cast<Isa>(7);
    EXPECT_EQ(Model::load_default(ModelKind::kSsr, opt).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(Model::load_default(static_cast<ModelKind>(3)).status().code(),
              StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lucent
