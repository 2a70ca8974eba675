// Streams a run's samples into the files the ADM evaluator reads:
// samples_NxHxWxC.npz with arr_0 = uint8 NHWC images (upstream's
// ((x + 1) * 127.5).clamp(0, 255).to(uint8)) and, for labelled runs, arr_1 =
// int64 labels, as image_sample.py's np.savez writes them; on request also
// samples_raw_NxCxHxW.npz with the float32 samples. Batches are appended as
// they come (never all images in memory); each file appears only complete
// (tmp + rename), and existing files are never overwritten.
// Tested by tests/diffusion/sampling_job_test.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "diffusion/sampling_job.h"

namespace sagbench::io {
class NpzWriter;
class NpzArrayWriter;
}  // namespace sagbench::io

namespace sagbench::diffusion {

class SampleFileWriter {
 public:
  // `sample_shape` is (C, H, W). Fails with kIo when a target file exists.
  SampleFileWriter(const std::string& dir, std::int64_t num_samples, at::IntArrayRef sample_shape,
                   bool labels, bool raw);
  ~SampleFileWriter();
  SampleFileWriter(const SampleFileWriter&) = delete;
  SampleFileWriter& operator=(const SampleFileWriter&) = delete;

  // Batches must arrive in index order starting at 0.
  void append(const SampledBatch& batch);
  // Writes arr_1 and renames the files into place (kShape unless all samples came).
  void finish();

  const std::string& path() const { return path_; }
  const std::string& raw_path() const { return raw_path_; }  // empty without raw output

 private:
  std::int64_t num_samples_;
  bool labels_;
  std::int64_t written_ = 0;
  std::string path_;
  std::string raw_path_;
  std::unique_ptr<io::NpzWriter> images_;
  std::unique_ptr<io::NpzArrayWriter> image_rows_;
  std::unique_ptr<io::NpzWriter> raw_;
  std::unique_ptr<io::NpzArrayWriter> raw_rows_;
  std::vector<at::Tensor> label_parts_;
};

// "samples_16x64x64x3.npz" for 16 samples of (C, H, W) = (3, 64, 64).
std::string samples_file_name(std::int64_t num_samples, at::IntArrayRef sample_shape);

}  // namespace sagbench::diffusion
