// `sagbench ref INPUT --out REF.npz`: a reference batch from an image npz
// (arr_0), an image folder (PNG/JPEG/BMP/WebP, read with OpenCV when built
// with it; all images one size, sorted by name) or a Fashion-MNIST split
// (`fashion-mnist:test`, the bundle's reference, from Debian's
// dataset-fashion-mnist): mu, sigma (pool_3) and mu_s, sigma_s (spatial, when
// the extractor has spatial features), float64 with ddof 1 as ADM's reference
// batches, plus the pool_3 features (precision/recall need them) and the
// extractor's description. Tested by tests/cli/eval_commands_test.cpp.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "cli/eval_options.h"
#include "core/error.h"
#include "evaluation/evaluator.h"
#include "training/fashion_mnist.h"

#ifdef SAGBENCH_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace sagbench::cli {
namespace {

namespace fs = std::filesystem;

struct RefArgs {
  std::string input;
  std::string out;
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  EvaluatorFlags flags;
};

constexpr std::string_view kFashionPrefix = "fashion-mnist:";

// The 28x28 images of one Fashion-MNIST split as (N, 28, 28, 1) uint8; the
// bundle's extractor zero-pads them to 32x32 as the diffusion model was trained.
eval::FeatureSet fashion_features(const std::string& dir, const std::string& split,
                                  eval::FeatureExtractor& extractor, std::int64_t batch_size) {
  SAG_REQUIRE(split == "train" || split == "test", kConfig,
              "fashion-mnist:{}: the split must be 'train' or 'test'", split);
  const at::Tensor images = training::load_fashion_mnist(dir, split).images.unsqueeze(3);
  auto read = [&](std::int64_t start, std::int64_t count) { return images.narrow(0, start, count); };
  eval::FeatureSet set = eval::extract_features(read, images.size(0), extractor, batch_size,
                                                "Fashion-MNIST " + split + " (" + dir + ")");
  set.provenance.source = "fashion-mnist:" + split + " (" + dir + ")";
  return set;
}

#ifdef SAGBENCH_HAVE_OPENCV
std::vector<std::string> list_images(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (entry.is_regular_file() &&
        (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  SAG_REQUIRE(!files.empty(), kIo, "{}: no PNG, JPEG, BMP or WebP images", dir);
  return files;
}

// One image as (H, W, 3) uint8 RGB.
at::Tensor read_rgb(const std::string& path) {
  const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  SAG_REQUIRE(!bgr.empty(), kIo, "{}: cannot read this image", path);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte).clone();
}

eval::FeatureSet folder_features(const std::string& dir, eval::FeatureExtractor& extractor,
                                 std::int64_t batch_size) {
  const std::vector<std::string> files = list_images(dir);
  const at::Tensor first = read_rgb(files.front());
  auto read = [&](std::int64_t start, std::int64_t count) {
    std::vector<at::Tensor> images;
    for (std::int64_t i = start; i < start + count; ++i) {
      at::Tensor image = read_rgb(files[i]);
      SAG_REQUIRE(image.sizes() == first.sizes(), kShape,
                  "{}: {}x{} image, but {} is {}x{}; all must be one size", files[i], image.size(1),
                  image.size(0), files.front(), first.size(1), first.size(0));
      images.push_back(image);
    }
    return at::stack(images);
  };
  eval::FeatureSet set =
      eval::extract_features(read, static_cast<std::int64_t>(files.size()), extractor, batch_size, dir);
  set.provenance.source = dir;
  return set;
}
#endif

void run_ref(const RefArgs& args) {
  SAG_REQUIRE(!fs::exists(args.out), kIo, "{} exists; reference batches are never overwritten", args.out);
  const eval::EvaluatorConfig config = resolve_evaluator_config(args.flags);
  eval::LazyExtractor extractor(config);
  eval::FeatureSet features;
  if (args.input.rfind(kFashionPrefix, 0) == 0) {
    features = fashion_features(args.fashion_dir, args.input.substr(kFashionPrefix.size()), extractor.get(),
                                config.batch_size);
  } else if (fs::is_directory(args.input)) {
#ifdef SAGBENCH_HAVE_OPENCV
    features = folder_features(args.input, extractor.get(), config.batch_size);
#else
    SAG_FAIL(kConfig, "{} is a folder, but this build has no OpenCV to read images; pass an image npz",
             args.input);
#endif
  } else {
    SAG_REQUIRE(fs::exists(args.input), kIo, "{}: no such file or folder", args.input);
    features =
        eval::cached_npz_features(args.input, "arr_0", extractor.get(), config.batch_size, config.cache_dir);
  }
  const eval::GaussianStatistics pool =
      eval::compute_statistics(features.pool, "pool_3 features of " + args.input);
  std::vector<std::pair<std::string, at::Tensor>> arrays = {{"mu", eval::to_tensor(pool.mean)},
                                                            {"sigma", eval::to_tensor(pool.covariance)}};
  if (features.spatial.defined() && features.spatial.numel() > 0) {
    const eval::GaussianStatistics spatial =
        eval::compute_statistics(features.spatial, "spatial features of " + args.input);
    arrays.emplace_back("mu_s", eval::to_tensor(spatial.mean));
    arrays.emplace_back("sigma_s", eval::to_tensor(spatial.covariance));
  }
  eval::FeatureSet kept;
  kept.pool = features.pool;
  kept.count = features.count;
  kept.provenance = features.provenance;
  eval::write_feature_npz(args.out, kept, arrays);
  std::string out = fmt::format("reference batch of {} images of {} ({}) -> {}\n", features.count, args.input,
                                features.provenance.describe_extractor(), args.out);
  if (features.count <= features.pool.size(1)) {
    out += fmt::format(
        "note: {} images for {}-d features: the covariance is singular and FID against it will be "
        "refused; use more than {} images\n",
        features.count, features.pool.size(1), features.pool.size(1));
  }
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void register_ref(CLI::App& app) {
  auto args = std::make_shared<RefArgs>();
  CLI::App* cmd = app.add_subcommand(
      "ref",
      "Reference batch (mu, sigma, mu_s, sigma_s and pool features) from an image npz or image folder");
  cmd->footer(
      "Example: sagbench ref imagenet_val_256.npz --out ref_imagenet256.npz --weights pt_inception.pth");
  cmd->add_option("input", args->input,
                  "image npz (arr_0), folder of images, or fashion-mnist:test / fashion-mnist:train")
      ->required();
  cmd->add_option("--fashion-dir", args->fashion_dir, "folder of the Fashion-MNIST idx files")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "output npz")->required();
  add_evaluator_flags(cmd, args->flags, /*with_distances=*/false);
  cmd->add_option("overrides", args->flags.overrides, "evaluator.key=value overrides");
  cmd->callback([args] { run_ref(*args); });
}

}  // namespace sagbench::cli
