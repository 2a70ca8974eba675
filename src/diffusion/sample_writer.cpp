// Streaming sample files: samples_NxHxWxC.npz (arr_0 uint8 NHWC, arr_1 labels,
// as image_sample.py's np.savez) and samples_raw_*.npz, tmp + rename.
// Tested by tests/diffusion/sampling_job_test.cpp.
#include "diffusion/sample_writer.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/error.h"
#include "io/npz.h"

namespace sagbench::diffusion {

std::string samples_file_name(std::int64_t num_samples, at::IntArrayRef sample_shape) {
  SAG_CHECK(sample_shape.size() == 3, "sample shape must be (C, H, W)");
  return fmt::format("samples_{}x{}x{}x{}.npz", num_samples, sample_shape[1], sample_shape[2],
                     sample_shape[0]);
}

SampleFileWriter::SampleFileWriter(const std::string& dir, std::int64_t num_samples,
                                   at::IntArrayRef sample_shape, bool labels, bool raw)
    : num_samples_(num_samples), labels_(labels) {
  SAG_REQUIRE(num_samples >= 1, kConfig, "num_samples must be >= 1 (got {})", num_samples);
  const std::filesystem::path folder(dir);
  path_ = (folder / samples_file_name(num_samples, sample_shape)).string();
  SAG_REQUIRE(!std::filesystem::exists(path_), kIo, "{} exists; sample files are never overwritten", path_);
  images_ = std::make_unique<io::NpzWriter>(path_);
  image_rows_ = std::make_unique<io::NpzArrayWriter>(images_->begin_array(
      "arr_0", at::kByte, {num_samples, sample_shape[1], sample_shape[2], sample_shape[0]}));
  if (raw) {
    raw_path_ = (folder / fmt::format("samples_raw_{}x{}x{}x{}.npz", num_samples, sample_shape[0],
                                      sample_shape[1], sample_shape[2]))
                    .string();
    SAG_REQUIRE(!std::filesystem::exists(raw_path_), kIo, "{} exists; sample files are never overwritten",
                raw_path_);
    raw_ = std::make_unique<io::NpzWriter>(raw_path_);
    raw_rows_ = std::make_unique<io::NpzArrayWriter>(raw_->begin_array(
        "arr_0", at::kFloat, {num_samples, sample_shape[0], sample_shape[1], sample_shape[2]}));
  }
}

SampleFileWriter::~SampleFileWriter() = default;

void SampleFileWriter::append(const SampledBatch& batch) {
  SAG_CHECK(batch.first_index == written_, "batch starts at {}, expected {}", batch.first_index, written_);
  SAG_CHECK(batch.labels.defined() == labels_, "labels present: {}, expected {}", batch.labels.defined(),
            labels_);
  image_rows_->append(to_uint8_nhwc(batch.samples));
  if (raw_rows_) {
    raw_rows_->append(batch.samples.to(at::kFloat).contiguous());
  }
  if (labels_) {
    label_parts_.push_back(batch.labels.to(at::kLong));
  }
  written_ += batch.samples.size(0);
}

void SampleFileWriter::finish() {
  SAG_REQUIRE(written_ == num_samples_, kShape, "{} of {} samples were written to {}", written_, num_samples_,
              path_);
  image_rows_->finish();
  if (labels_) {
    images_->add("arr_1", at::cat(label_parts_));
  }
  images_->finish();
  if (raw_) {
    raw_rows_->finish();
    raw_->finish();
  }
}

}  // namespace sagbench::diffusion
