#include "image_writer.h"

namespace lucent::cli {

Result<std::unique_ptr<ImageFileWriter>> ImageFileWriter::open(const std::string& path,
                                                               ImageFormat fmt, int64_t w,
                                                               int64_t h, int32_t channels,
                                                               PixelType type, int jpeg_quality) {
    const bool drop = !format_has_alpha(fmt) && (channels == 2 || channels == 4);
    LUCENT_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path));
    std::unique_ptr<ImageFileWriter> wr(new ImageFileWriter(std::move(file), path));
    LUCENT_ASSIGN_OR_RETURN(wr->enc_,
                            make_row_encoder(wr->file_.file(), path, fmt, w, h,
                                             drop ? channels - 1 : channels, type, jpeg_quality));
    wr->w_ = w;
    wr->h_ = h;
    wr->channels_ = channels;
    wr->sample_ = pixel_type_size(type);
    wr->drop_alpha_ = drop;
    return wr;
}

Status ImageFileWriter::write(const ConstImageView& rows) {
    if (rows.width != w_ || rows.channels != channels_ || rows.height < 1 ||
        written_ + rows.height > h_)
        return make_status(StatusCode::kInternal,
                           "%s: rows of %lldx%lld with %d channels do not fit the image",
                           path_.c_str(), static_cast<long long>(rows.width),
                           static_cast<long long>(rows.height), rows.channels);
    const uint8_t* src = static_cast<const uint8_t*>(rows.data);
    const size_t px_in = static_cast<size_t>(channels_) * sample_;
    const size_t stride = rows.stride_bytes != 0 ? rows.stride_bytes : px_in * w_;
    if (drop_alpha_ || stride != px_in * w_) {
        const size_t px_out = drop_alpha_ ? px_in - sample_ : px_in;
        packed_.resize(static_cast<size_t>(rows.height * w_) * px_out);
        pack_pixels(src, stride, rows.height, w_, px_in, px_out, packed_.data());
        src = packed_.data();
    }
    LUCENT_RETURN_IF_ERROR(enc_->rows(src, rows.height));
    written_ += rows.height;
    return Status();
}

Status ImageFileWriter::commit() {
    if (written_ != h_)
        return make_status(StatusCode::kInternal, "%s: %lld of %lld rows written", path_.c_str(),
                           static_cast<long long>(written_), static_cast<long long>(h_));
    LUCENT_RETURN_IF_ERROR(enc_->finish());
    enc_.reset();
    return file_.commit();
}

}  // namespace lucent::cli
