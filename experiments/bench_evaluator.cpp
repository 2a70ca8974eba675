// Evaluator benchmarks (Google Benchmark): FID-Inception feature extraction
// (256x256 uint8 input, adm preprocessing: resize included) in img/s per batch
// size on the CPU and, when present, CUDA; the Frechet distance of 2048-d
// statistics; precision/recall of 10k reference vs N sample 2048-d features
// with the achieved distance GFLOP/s. Each benchmark checks its result before
// timing (counters named check_*). Weights: $SAGBENCH_INCEPTION_WEIGHTS, else
// the random-weight fixture unpacked in the build tree (speed is the same).
// Run: build/experiments/bench_evaluator --benchmark_out=results/bench/x.json
//      --benchmark_out_format=json  (SAGBENCH_BENCH_MACHINE names the machine)
#include <benchmark/benchmark.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/build_info.h"
#include "core/provenance.h"
#include "evaluation/frechet.h"
#include "evaluation/inception_extractor.h"
#include "evaluation/precision_recall.h"
#include "evaluation/statistics.h"
#include "io/tensor_file.h"

namespace {

using namespace sagbench::eval;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

InceptionExtractor& extractor_on(const std::string& device) {
  static std::map<std::string, std::unique_ptr<InceptionExtractor>> extractors;
  auto& slot = extractors[device];
  if (!slot) {
    InceptionExtractorOptions options;
    options.weights_path = env_or("SAGBENCH_INCEPTION_WEIGHTS", SAGBENCH_BENCH_DEFAULT_WEIGHTS);
    options.device = device;
    slot = std::make_unique<InceptionExtractor>(options);
  }
  return *slot;
}

void sync(const std::string& device) {
  if (device != "cpu") {
    torch::cuda::synchronize();
  }
}

void BM_InceptionFeatures(benchmark::State& state, const std::string& device) {
  InceptionExtractor& extractor = extractor_on(device);
  const std::int64_t batch = state.range(0);
  at::manual_seed(0);
  const at::Tensor images = at::randint(0, 256, {batch, 256, 256, 3}, at::kByte);
  // Check: the first image's features do not depend on the batch it is in.
  const FeatureBatch whole = extractor.extract(images, "bench");
  const FeatureBatch single = extractor.extract(images.slice(0, 0, 1), "bench");
  state.counters["check_batch_invariance_max_abs"] =
      (whole.pool.slice(0, 0, 1) - single.pool).abs().max().item<double>();
  for (auto _ : state) {
    const FeatureBatch out = extractor.extract(images, "bench");
    benchmark::DoNotOptimize(out.pool.data_ptr<float>());
    sync(device);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["img_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

GaussianStatistics random_statistics(std::int64_t dim, std::int64_t samples, int seed) {
  at::manual_seed(seed);
  return compute_statistics(at::randn({samples, dim}) * at::rand({1, dim}) + at::rand({1, dim}), "bench");
}

void BM_FrechetDistance(benchmark::State& state) {
  const std::int64_t dim = state.range(0);
  const GaussianStatistics a = random_statistics(dim, dim + 500, 1);
  const GaussianStatistics b = random_statistics(dim, dim + 500, 2);
  // Check: the distance of a set of statistics to itself is 0 up to rounding.
  state.counters["check_self_distance"] = frechet_distance(a, a).distance;
  for (auto _ : state) {
    benchmark::DoNotOptimize(frechet_distance(a, b).distance);
  }
}

void BM_Statistics(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  at::manual_seed(3);
  const at::Tensor features = at::rand({rows, 2048});
  for (auto _ : state) {
    benchmark::DoNotOptimize(compute_statistics(features, "bench").covariance.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void BM_PrecisionRecall(benchmark::State& state, const std::string& device, DistancePrecision precision) {
  const std::int64_t n_ref = state.range(0);
  const std::int64_t n_sample = state.range(1);
  const std::int64_t dim = 2048;
  at::manual_seed(4);
  PrecisionRecallOptions options;
  options.device = parse_device(device);
  options.precision = precision;
  const at::Tensor ref = at::rand({n_ref, dim}).to(options.device);
  const at::Tensor smp = (at::rand({n_sample, dim}) * 1.05).to(options.device);
  // Check: a set against itself has precision = recall = 1.
  const PrecisionRecall self = precision_recall(ref.slice(0, 0, 500), ref.slice(0, 0, 500), options);
  state.counters["check_self_precision"] = self.precision;
  state.counters["check_self_recall"] = self.recall;
  for (auto _ : state) {
    const PrecisionRecall pr = precision_recall(ref, smp, options);
    benchmark::DoNotOptimize(pr.precision);
    sync(device);
  }
  // Distance products: radii of both sets (N^2 each) and the cross block, 2 flops per multiply-add.
  const double flops = 2.0 * dim *
                       (static_cast<double>(n_ref) * n_ref + static_cast<double>(n_sample) * n_sample +
                        static_cast<double>(n_ref) * n_sample);
  state.counters["distance_GFLOP_per_s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  std::vector<std::string> devices = {"cpu"};
  if (torch::cuda::is_available()) {
    devices.push_back("cuda");
  }
  for (const std::string& device : devices) {
    const bool gpu = device != "cpu";
    auto* features = benchmark::RegisterBenchmark(("InceptionFeatures256/" + device).c_str(),
                                                  BM_InceptionFeatures, device);
    for (std::int64_t batch :
         gpu ? std::vector<std::int64_t>{64, 250, 500} : std::vector<std::int64_t>{1, 8}) {
      features->Arg(batch);
    }
    features->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(gpu ? 2.0 : 0.5);
    // Distance blocks: 10k x 50k on a GPU (the paper's setting); on a CPU
    // 10k x 1k in fp32 (~0.5 TFLOP) and a smaller fp16 case.
    for (DistancePrecision p : {DistancePrecision::kFp32, DistancePrecision::kFp16}) {
      std::vector<std::int64_t> sizes = {10000, 50000};
      if (!gpu) {
        sizes = p == DistancePrecision::kFp32 ? std::vector<std::int64_t>{10000, 1000}
                                              : std::vector<std::int64_t>{2000, 1000};
      }
      auto* pr = benchmark::RegisterBenchmark(
          ("PrecisionRecall/" + device + "/" + distance_precision_name(p)).c_str(), BM_PrecisionRecall,
          device, p);
      pr->Args(sizes)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
    }
  }
  benchmark::RegisterBenchmark("FrechetDistance", BM_FrechetDistance)
      ->Arg(2048)
      ->Unit(benchmark::kSecond)
      ->Iterations(1);
  benchmark::RegisterBenchmark("Statistics2048", BM_Statistics)
      ->Arg(10000)
      ->Unit(benchmark::kSecond)
      ->Iterations(1);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("machine", env_or("SAGBENCH_BENCH_MACHINE", "unspecified"));
  benchmark::AddCustomContext("sagbench", sagbench::version_line());
  benchmark::AddCustomContext("libtorch", sagbench::libtorch_version());
  benchmark::AddCustomContext("cuda_available", torch::cuda::is_available() ? "yes" : "no");
  benchmark::AddCustomContext("network_precision", "fp32, TF32 off");
  benchmark::AddCustomContext("weights",
                              env_or("SAGBENCH_INCEPTION_WEIGHTS", SAGBENCH_BENCH_DEFAULT_WEIGHTS));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
