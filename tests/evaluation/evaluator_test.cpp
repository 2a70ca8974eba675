// Tests for evaluation/evaluator.h and feature_set.h with a tiny pixel
// extractor (pixel_extractor.h) so that whole pipelines run in milliseconds:
// streamed extraction in batches equals one whole-set pass, every input kind
// (images, features, statistics) gives the same numbers, the cache is used,
// and bad inputs fail with errors naming the file. Values are compared with
// the metric functions applied directly (tested on their own elsewhere), so
// equality is exact up to float64 summation order (1e-12).
#include "evaluation/evaluator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/npz.h"
#include "pixel_extractor.h"
#include "support/fixtures.h"

namespace sagbench::eval {
namespace {

namespace fs = std::filesystem;

class Evaluator : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::register_pixel_extractor();
    dir_ = sagbench::testing::make_temp_dir("evaluator");
    at::manual_seed(11);
    samples_ = (at::rand({40, 8, 8, 3}) * 200).to(at::kByte);
    reference_ = (at::rand({30, 8, 8, 3}) * 255).to(at::kByte);
    samples_path_ = dir_ + "/samples.npz";
    reference_path_ = dir_ + "/reference.npz";
    write({{"arr_0", samples_}}, samples_path_);
    write({{"arr_0", reference_}}, reference_path_);
    config_.extractor = "test-pixels";
    config_.batch_size = 7;
    config_.is_split_size = 15;
  }
  static void write(const std::vector<std::pair<std::string, at::Tensor>>& arrays, const std::string& path) {
    io::NpzWriter w(path);
    for (const auto& [name, t] : arrays) {
      w.add(name, t);
    }
    w.finish();
  }
  std::string dir_, samples_path_, reference_path_;
  at::Tensor samples_, reference_;
  EvaluatorConfig config_;
};

TEST_F(Evaluator, StreamedPipelineEqualsDirectMetrics) {
  const EvaluationReport r = evaluate(samples_path_, reference_path_, config_);
  testing::PixelExtractor direct("adm");
  const FeatureBatch s = direct.extract(samples_, "s");
  const FeatureBatch f = direct.extract(reference_, "r");
  EXPECT_NEAR(r.inception_score->mean, inception_score_from_logits(s.logits_unbiased, 15).mean, 1e-12);
  EXPECT_EQ(r.inception_score->splits, 3);
  EXPECT_NEAR(r.fid->distance,
              frechet_distance(compute_statistics(s.pool), compute_statistics(f.pool)).distance, 1e-12);
  EXPECT_NEAR(r.sfid->distance,
              frechet_distance(compute_statistics(s.spatial), compute_statistics(f.spatial)).distance, 1e-12);
  const PrecisionRecall pr = precision_recall(f.pool, s.pool);
  EXPECT_EQ(r.precision_recall->precision, pr.precision);
  EXPECT_EQ(r.precision_recall->recall, pr.recall);
  EXPECT_EQ(r.samples.count, 40);
  EXPECT_EQ(r.reference.count, 30);

  const nlohmann::json j = report_json(r, config_);
  for (const char* name : {"inception_score", "fid", "sfid", "precision", "recall"}) {
    EXPECT_TRUE(j["metrics"].contains(name)) << name;
  }
  EXPECT_EQ(j["aliases"]["torch-fidelity"]["fid"], "frechet_inception_distance");
  EXPECT_EQ(j["details"]["precision_recall"]["distance_precision"], "fp32");
  EXPECT_EQ(j["evaluator"]["preprocessing"], "adm");
  EXPECT_EQ(j["evaluator"]["weights_sha256"], "no-weights");
}

TEST_F(Evaluator, FeatureAndStatisticsFilesGiveTheSameNumbers) {
  const EvaluationReport from_images = evaluate(samples_path_, reference_path_, config_);
  LazyExtractor extractor(config_);
  const std::string samples_features = dir_ + "/samples_features.npz";
  write_feature_npz(samples_features, extract_npz_features(samples_path_, "arr_0", extractor.get(), 5));
  const FeatureSet ref = extract_npz_features(reference_path_, "arr_0", extractor.get(), 64);
  const std::string reference_stats = dir_ + "/reference_stats.npz";
  write({{"mu", to_tensor(compute_statistics(ref.pool).mean)},
         {"sigma", to_tensor(compute_statistics(ref.pool).covariance)},
         {"mu_s", to_tensor(compute_statistics(ref.spatial).mean)},
         {"sigma_s", to_tensor(compute_statistics(ref.spatial).covariance)}},
        reference_stats);

  MetricSelection no_pr;
  no_pr.precision_recall = false;
  const EvaluationReport from_files = evaluate(samples_features, reference_stats, config_, no_pr);
  EXPECT_NEAR(from_files.fid->distance, from_images.fid->distance, 1e-12);
  EXPECT_NEAR(from_files.sfid->distance, from_images.sfid->distance, 1e-12);
  EXPECT_NEAR(from_files.inception_score->mean, from_images.inception_score->mean, 1e-12);
  EXPECT_EQ(from_files.reference.pool_statistics_source, "mu, sigma in file");

  // Precision/recall cannot be had from statistics alone.
  try {
    evaluate(samples_features, reference_stats, config_);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("reference_stats.npz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("statistics-only"), std::string::npos) << e.what();
  }
}

TEST_F(Evaluator, CacheIsKeyedAndReused) {
  config_.cache_dir = dir_ + "/cache";
  const EvaluationReport first = evaluate(samples_path_, reference_path_, config_);
  EXPECT_EQ(std::distance(fs::directory_iterator(config_.cache_dir), fs::directory_iterator{}), 2);
  const std::int64_t seen = testing::pixel_images_seen();
  const EvaluationReport second = evaluate(samples_path_, reference_path_, config_);
  EXPECT_EQ(testing::pixel_images_seen(), seen);  // nothing extracted again
  EXPECT_EQ(second.fid->distance, first.fid->distance);
  EXPECT_EQ(second.samples.features->source_sha256.size(), 64u);

  // Another preprocessing mode is another cache entry.
  config_.mode = "pytorch-fid";
  evaluate(samples_path_, reference_path_, config_);
  EXPECT_EQ(std::distance(fs::directory_iterator(config_.cache_dir), fs::directory_iterator{}), 4);
}

TEST_F(Evaluator, FeaturesOfAnotherModeAreRefused) {
  LazyExtractor extractor(config_);
  const std::string features = dir_ + "/f.npz";
  write_feature_npz(features, extract_npz_features(samples_path_, "arr_0", extractor.get(), 64));
  config_.mode = "pytorch-fid";
  EXPECT_THROW(evaluate(features, reference_path_, config_), Error);
}

// An extractor with its own fixed preprocessing (not an Inception `mode`) is
// matched by name: the mode setting does not apply to it.
TEST_F(Evaluator, FeaturesOfAnExtractorWithItsOwnPreprocessingMatchByName) {
  testing::PixelExtractor fixed("zero-pad-32");
  const std::string features = dir_ + "/fixed.npz";
  write_feature_npz(features, extract_npz_features(samples_path_, "arr_0", fixed, 64));
  const std::string reference = dir_ + "/fixed_reference.npz";
  write_feature_npz(reference, extract_npz_features(reference_path_, "arr_0", fixed, 64));
  config_.mode = "adm";
  // metrics.json names the network's preprocessing, not the unused mode.
  EXPECT_EQ(report_json(evaluate(features, reference, config_), config_)["evaluator"]["preprocessing"],
            "zero-pad-32");
  config_.extractor = "another-net";
  try {
    evaluate(features, reference, config_);
    ADD_FAILURE() << "features of another extractor were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("made by 'test-pixels'"), std::string::npos) << e.what();
  }
}

TEST_F(Evaluator, BadImageArraysAreErrorsNamingTheFile) {
  const std::string floats = dir_ + "/floats.npz";
  write({{"arr_0", at::zeros({4, 8, 8, 3})}}, floats);
  const std::string gray = dir_ + "/gray.npz";
  write({{"arr_0", at::zeros({4, 8, 8, 1}, at::kByte)}}, gray);
  for (const std::string& path : {floats, gray}) {
    try {
      evaluate(path, reference_path_, config_);
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ":arr_0"), std::string::npos) << e.what();
    }
  }
  const std::string no_images = dir_ + "/labels.npz";
  write({{"arr_1", at::zeros({4}, at::kLong)}}, no_images);
  EXPECT_THROW(evaluate(no_images, reference_path_, config_), Error);
}

TEST_F(Evaluator, TooFewSamplesForTheFeatureDimensionIsAnError) {
  const std::string few = dir_ + "/few.npz";
  write({{"arr_0", samples_.slice(0, 0, 4)}}, few);  // 4 vectors, 4 dims
  MetricSelection fid_only = parse_metric_selection({"fid"});
  try {
    evaluate(few, reference_path_, config_, fid_only);
    FAIL() << "no error";
  } catch (const Error& e) {
    // Refused before any image is run through the network.
    EXPECT_NE(std::string(e.what()).find("4 images for 4-dimensional pool_3 features"), std::string::npos)
        << e.what();
  }
  // Statistics of a feature file are checked by the Frechet distance itself.
  LazyExtractor extractor(config_);
  write_feature_npz(dir_ + "/few_features.npz", extract_npz_features(few, "arr_0", extractor.get(), 64));
  try {
    evaluate(dir_ + "/few_features.npz", reference_path_, config_, fid_only);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 feature vectors for 4 dimensions"), std::string::npos)
        << e.what();
  }
}

TEST(MetricSelection, NamesAndAliases) {
  const MetricSelection m = parse_metric_selection({"fid", "recall"});
  EXPECT_TRUE(m.fid && m.precision_recall);
  EXPECT_FALSE(m.sfid || m.inception_score);
  EXPECT_TRUE(parse_metric_selection({"frechet_inception_distance"}).fid);
  EXPECT_THROW(parse_metric_selection({"kid"}), Error);
  EXPECT_THROW(parse_metric_selection({}), Error);
}

}  // namespace
}  // namespace sagbench::eval
