// Tests of format detection and dispatch (src/io/tensor_file.h): every fixture
// is recognised and loads; describe() agrees with load(); a checkpoint written
// back as npz reads back bit for bit; unrecognised, empty or damaged files are
// errors naming the file.
#include "io/tensor_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/safetensors.h"
#include "support/fixtures.h"
#include "torch_test_files.h"

namespace sagbench::io {
namespace {

using ::testing::HasSubstr;

struct FixtureFormat {
  const char* file;
  TensorFileFormat format;
};

std::string path_of(const FixtureFormat& f) {
  return f.format == TensorFileFormat::kTorchLegacy ? sagbench::testing::build_fixture_path(f.file)
                                                    : sagbench::testing::fixture_path(f.file);
}

const std::vector<FixtureFormat> kFixtures = {
    {"adm_tiny_uncond.pt", TensorFileFormat::kTorchZip},
    {"adm_tiny_cond.pt", TensorFileFormat::kTorchZip},
    {"adm_tiny_cond_classifier.pt", TensorFileFormat::kTorchZip},
    {"fid_inception_random.pth", TensorFileFormat::kTorchLegacy},
    {"adm_tiny_uncond_forward.npz", TensorFileFormat::kNpz},
    {"adm_tiny_cond_ddim10.npz", TensorFileFormat::kNpz},
    {"fid_inception_random_features.npz", TensorFileFormat::kNpz},
    {"metrics_vectors.npz", TensorFileFormat::kNpz},
};

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || !a.sizes().equals(b.sizes())) {
    return false;
  }
  const at::Tensor ca = a.contiguous();
  const at::Tensor cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

void expect_error(const std::string& path, ErrorKind kind, const std::string& fragment) {
  for (int describe = 0; describe < 2; ++describe) {
    try {
      if (describe == 1) {
        describe_tensor_file(path);
      } else {
        load_tensor_file(path);
      }
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(path));
      EXPECT_THAT(e.what(), HasSubstr(fragment));
    }
  }
}

class TensorFile : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sagbench::testing::make_temp_dir("tensorfile"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

TEST_F(TensorFile, EveryFixtureIsDetectedAndDescribeAgreesWithLoad) {
  for (const FixtureFormat& fixture : kFixtures) {
    const std::string file = path_of(fixture);
    EXPECT_EQ(detect_tensor_file_format(file), fixture.format) << file;
    const TensorDict dict = load_tensor_file(file);
    const std::vector<TensorInfo> infos = describe_tensor_file(file);
    ASSERT_EQ(infos.size(), dict.size()) << file;
    ASSERT_FALSE(infos.empty()) << file;
    for (std::size_t i = 0; i < infos.size(); ++i) {
      const auto& [name, tensor] = dict.items()[i];
      EXPECT_EQ(infos[i].name, name) << file;
      EXPECT_EQ(infos[i].dtype, tensor.scalar_type()) << file << " " << name;
      EXPECT_EQ(infos[i].shape, tensor.sizes().vec()) << file << " " << name;
      EXPECT_EQ(infos[i].nbytes(), static_cast<std::int64_t>(tensor.nbytes())) << file << " " << name;
    }
  }
}

TEST_F(TensorFile, NpyIsNamedAfterItsStem) {
  const at::Tensor values = at::arange(12, at::kInt).reshape({3, 4});
  write_npy(path("weights.npy"), values);
  EXPECT_EQ(detect_tensor_file_format(path("weights.npy")), TensorFileFormat::kNpy);
  const TensorDict dict = load_tensor_file(path("weights.npy"));
  ASSERT_EQ(dict.names(), std::vector<std::string>{"weights"});
  EXPECT_TRUE(same_bytes(dict.at("weights"), values));
  const std::vector<TensorInfo> infos = describe_tensor_file(path("weights.npy"));
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].dtype, at::kInt);
  EXPECT_EQ(infos[0].shape, (std::vector<std::int64_t>{3, 4}));
}

TEST_F(TensorFile, CheckpointRoundTripsThroughNpzAndSafetensorsBitForBit) {
  const TensorDict original = load_tensor_file(sagbench::testing::fixture_path("adm_tiny_uncond.pt"));
  write_npz(path("adm.npz"), original);
  write_safetensors(path("adm.safetensors"), original);
  EXPECT_EQ(detect_tensor_file_format(path("adm.npz")), TensorFileFormat::kNpz);
  EXPECT_EQ(detect_tensor_file_format(path("adm.safetensors")), TensorFileFormat::kSafetensors);
  for (const std::string& file : {path("adm.npz"), path("adm.safetensors")}) {
    const TensorDict back = load_tensor_file(file);
    ASSERT_EQ(back.names(), original.names()) << file;
    for (const auto& [name, tensor] : original.items()) {
      EXPECT_TRUE(same_bytes(back.at(name), tensor)) << file << " " << name;
    }
    const std::vector<TensorInfo> infos = describe_tensor_file(file);
    ASSERT_EQ(infos.size(), original.size());
    EXPECT_EQ(infos.front().shape, original.items().front().second.sizes().vec());
  }
}

TEST_F(TensorFile, LegacyAndZipCheckpointsAreToldApartFromOtherPickles) {
  testing::PickleBuilder plain;
  plain.proto().empty_dict().stop();
  testing::write_bytes(path("plain.pkl"), plain.bytes());
  expect_error(path("plain.pkl"), ErrorKind::kFormat, "not a tensor file");
  // A zip holding something else than .npy arrays and no data.pkl.
  {
    ZipWriter zip(path("other.zip"));
    zip.add_entry("readme.txt", "hi", 2);
    zip.finish();
  }
  expect_error(path("other.zip"), ErrorKind::kFormat, "readme.txt");
}

TEST_F(TensorFile, BadFilesAreErrorsNamingTheFile) {
  testing::write_bytes(path("empty.bin"), "");
  expect_error(path("empty.bin"), ErrorKind::kFormat, "empty file");
  testing::write_bytes(path("text.pt"), "hello, world");
  expect_error(path("text.pt"), ErrorKind::kFormat, "first bytes: 68 65 6c 6c");
  expect_error(path("absent.pt"), ErrorKind::kIo, "no such file");
  // Damaged copies of every checkpoint fixture: truncated to half.
  for (const FixtureFormat& fixture : kFixtures) {
    if (fixture.format == TensorFileFormat::kTorchLegacy) {
      continue;  // 95 MB; covered by torch_checkpoint_test's hand-built legacy files
    }
    const std::string bytes = testing::read_bytes(path_of(fixture));
    const std::string damaged = path(std::string("half_") + fixture.file);
    testing::write_bytes(damaged, bytes.substr(0, bytes.size() / 2));
    expect_error(damaged, ErrorKind::kFormat, "");
  }
}

TEST(DtypeName, NumpySpelling) {
  EXPECT_STREQ(dtype_name(at::kFloat), "float32");
  EXPECT_STREQ(dtype_name(at::kHalf), "float16");
  EXPECT_STREQ(dtype_name(at::kBFloat16), "bfloat16");
  EXPECT_STREQ(dtype_name(at::kByte), "uint8");
  EXPECT_STREQ(dtype_name(at::kBool), "bool");
  EXPECT_STREQ(dtype_name(at::kLong), "int64");
}

}  // namespace
}  // namespace sagbench::io
