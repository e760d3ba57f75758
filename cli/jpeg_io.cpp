#include "jpeg_io.h"

#include <memory>
#include <string>

#include "row_encoder.h"

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
// jerror.h after jpeglib.h: it needs its types.
#include <jerror.h>

namespace lucent::cli {
namespace {

struct ErrorManager {
    jpeg_error_mgr pub;  // first: libjpeg casts the pointer
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = "";
};

void on_error(j_common_ptr cinfo) {
    auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

// Level -1 messages are warnings about damaged data. A truncated file (JWRN_JPEG_EOF) would
// decode with grey filler, so it is an error; the rest (e.g. extraneous bytes before a marker,
// common in camera files) are tolerated as every viewer does. Trace messages are ignored.
void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

void install(jpeg_decompress_struct* cinfo, ErrorManager* err) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error;
    err->pub.emit_message = on_message;
}

Status bad_jpeg(const std::string& what, const ErrorManager& err) {
    return make_status(StatusCode::kInvalidArgument, "%s is not a readable JPEG image (%s)",
                       what.c_str(), err.message[0] ? err.message : "libjpeg error");
}

// Reads the header (and the pixels when `pixels` is non-null). False after a library error.
bool run_read(const uint8_t* data, size_t size, ErrorManager* err, JpegHeader* header,
              std::vector<uint8_t>* pixels, bool* unsupported) {
    jpeg_decompress_struct cinfo;
    install(&cinfo, err);
    jpeg_create_decompress(&cinfo);
    if (setjmp(err->jump)) {
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK ||
        cinfo.num_components == 4) {
        std::snprintf(err->message, sizeof err->message,
                      "CMYK JPEG files are not supported; convert it to RGB");
        *unsupported = true;
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_calc_output_dimensions(&cinfo);
    header->w = cinfo.output_width;
    header->h = cinfo.output_height;
    header->c = cinfo.out_color_components;
    if (pixels != nullptr) {
        // The caller sized `pixels` from a first header pass; the vector is not resized here,
        // so no allocation happens between setjmp and a possible longjmp.
        const size_t row = static_cast<size_t>(header->w) * static_cast<size_t>(header->c);
        if (pixels->size() != row * static_cast<size_t>(header->h)) {
            std::snprintf(err->message, sizeof err->message, "size changed between passes");
            jpeg_destroy_decompress(&cinfo);
            return false;
        }
        jpeg_start_decompress(&cinfo);
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row_ptr = pixels->data() + static_cast<size_t>(cinfo.output_scanline) * row;
            jpeg_read_scanlines(&cinfo, &row_ptr, 1);
        }
        jpeg_finish_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    return true;
}

}  // namespace

bool is_jpeg(const uint8_t* data, size_t size) {
    return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

Result<JpegHeader> jpeg_header(const uint8_t* data, size_t size, const std::string& what) {
    ErrorManager err;
    JpegHeader h;
    bool unsupported = false;
    if (!run_read(data, size, &err, &h, nullptr, &unsupported)) {
        if (unsupported)
            return make_status(StatusCode::kUnsupported, "%s: %s", what.c_str(), err.message);
        return bad_jpeg(what, err);
    }
    return h;
}

Status jpeg_decode(const uint8_t* data, size_t size, const std::string& what, JpegHeader* header,
                   std::vector<uint8_t>* pixels) {
    LUCENT_ASSIGN_OR_RETURN(*header, jpeg_header(data, size, what));
    pixels->assign(static_cast<size_t>(header->w) * static_cast<size_t>(header->h) *
                       static_cast<size_t>(header->c),
                   0);
    ErrorManager err;
    JpegHeader again;
    bool unsupported = false;
    if (!run_read(data, size, &err, &again, pixels, &unsupported)) return bad_jpeg(what, err);
    return Status();
}

namespace {

// As for PNG: libjpeg's errors longjmp to the landing the current method set.
class JpegRowEncoder final : public RowEncoder {
  public:
    explicit JpegRowEncoder(std::string what) : what_(std::move(what)) {
        cinfo_.err = jpeg_std_error(&err_.pub);
        err_.pub.error_exit = on_error;
    }
    ~JpegRowEncoder() override {
        if (created_) jpeg_destroy_compress(&cinfo_);
    }

    Status start(FILE* out, int64_t w, int64_t h, int32_t c, int quality) {
        if (setjmp(err_.jump)) return failed();
        jpeg_create_compress(&cinfo_);
        created_ = true;
        jpeg_stdio_dest(&cinfo_, out);
        cinfo_.image_width = static_cast<JDIMENSION>(w);
        cinfo_.image_height = static_cast<JDIMENSION>(h);
        cinfo_.input_components = c;
        cinfo_.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
        jpeg_set_defaults(&cinfo_);
        jpeg_set_quality(&cinfo_, quality, TRUE);
        jpeg_start_compress(&cinfo_, TRUE);
        row_bytes_ = static_cast<size_t>(w) * static_cast<size_t>(c);
        return Status();
    }
    Status rows(const uint8_t* pixels, int64_t n) override {
        if (setjmp(err_.jump)) return failed();
        for (int64_t y = 0; y < n; ++y) {
            JSAMPROW row = const_cast<JSAMPROW>(pixels + static_cast<size_t>(y) * row_bytes_);
            jpeg_write_scanlines(&cinfo_, &row, 1);
        }
        return Status();
    }
    Status finish() override {
        if (setjmp(err_.jump)) return failed();
        jpeg_finish_compress(&cinfo_);
        return Status();
    }

  private:
    Status failed() const {
        return make_status(StatusCode::kIo, "cannot write %s: %s", what_.c_str(), err_.message);
    }
    std::string what_;
    jpeg_compress_struct cinfo_{};
    ErrorManager err_;
    bool created_ = false;
    size_t row_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<RowEncoder>> jpeg_row_encoder(FILE* out, const std::string& what, int64_t w,
                                                     int64_t h, int32_t c, int quality) {
    if ((c != 1 && c != 3) || w < 1 || h < 1 || w > 65500 || h > 65500)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: JPEG stores gray or RGB images up to 65500 pixels a side "
                           "(this one is %lldx%lld with %d channels); write PNG",
                           what.c_str(), static_cast<long long>(w), static_cast<long long>(h), c);
    auto enc = std::make_unique<JpegRowEncoder>(what);
    LUCENT_RETURN_IF_ERROR(enc->start(out, w, h, c, quality));
    return std::unique_ptr<RowEncoder>(std::move(enc));
}

}  // namespace lucent::cli
