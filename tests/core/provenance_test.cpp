// Tests for core/provenance.h and core/build_info.h: the record holds every
// documented section with values that can be checked independently (argv as
// set, the LibTorch version macro, the rank/world size, the intra-op thread
// count), registered sections, a well-formed UTC date, and a git SHA that is
// 40 hex digits when the build tree was a git checkout.
#include "core/provenance.h"

#include <ATen/Parallel.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include "core/build_info.h"
#include "core/log.h"

namespace sagbench {
namespace {
using ::testing::MatchesRegex;

TEST(Provenance, RecordHasEverySection) {
  const char* argv[] = {"sagbench", "sample", "model.image_size=64"};
  set_command_line(3, argv);
  logging::set_rank(1, 4);
  const nlohmann::json record = collect_provenance();
  logging::set_rank(0, 1);
  EXPECT_EQ(record["argv"], (nlohmann::json{"sagbench", "sample", "model.image_size=64"}));
  EXPECT_EQ(record["build"]["libtorch"], TORCH_VERSION);
  EXPECT_EQ(record["build"]["cxx_standard"].get<int64_t>(), static_cast<int64_t>(__cplusplus));
  EXPECT_FALSE(record["build"]["compiler"].get<std::string>().empty());
  EXPECT_FALSE(record["build"]["libtorch_config"].get<std::string>().empty());
  EXPECT_EQ(record["world"], (nlohmann::json{{"rank", 1}, {"size", 4}}));
  EXPECT_EQ(record["threads"]["intra_op"].get<int>(), at::get_num_threads());
  // Resolved paths of mapped BLAS/LAPACK libraries (none where LibTorch links MKL statically).
  ASSERT_TRUE(record["math_libraries"].is_array());
  for (const nlohmann::json& library : record["math_libraries"]) {
    EXPECT_EQ(library.get<std::string>().front(), '/') << library;
  }
  EXPECT_FALSE(record["host"]["hostname"].get<std::string>().empty());
  EXPECT_THAT(record["date_utc"].get<std::string>(),
              MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z"));
  for (const char* flag :
       {"allow_tf32_cublas", "allow_tf32_cudnn", "cudnn_benchmark", "deterministic_algorithms"}) {
    EXPECT_TRUE(record["precision"][flag].is_boolean()) << flag;
  }
  const nlohmann::json& cuda = record["cuda"];
  EXPECT_TRUE(cuda["available"].is_boolean());
  EXPECT_TRUE(cuda["gpus"].is_array());
  if (!cuda["available"].get<bool>()) {
    EXPECT_EQ(cuda["device_count"], 0);
  }
}

TEST(Provenance, GitShaAndVersionLine) {
  const std::string sha = git_sha();
  if (sha != "unknown") {
    EXPECT_THAT(sha, MatchesRegex("[0-9a-f]{40}"));
    EXPECT_THAT(version_line(), ::testing::HasSubstr(sha.substr(0, 12)));
  }
  const nlohmann::json record = collect_provenance();
  EXPECT_EQ(record["git"]["sha"], sha);
  EXPECT_EQ(record["sagbench_version"], version());
  EXPECT_THAT(version(), MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

TEST(Provenance, RegisteredSectionsAreCollectedEachTime) {
  int calls = 0;
  register_provenance_source("test_section", [&calls] { return nlohmann::json{{"calls", ++calls}}; });
  EXPECT_EQ(collect_provenance()["test_section"]["calls"], 1);
  EXPECT_EQ(collect_provenance()["test_section"]["calls"], 2);
  register_provenance_source("test_section", [] { return nlohmann::json("replaced"); });
  EXPECT_EQ(collect_provenance()["test_section"], "replaced");
}

}  // namespace
}  // namespace sagbench
