// An experiment YAML (experiments/README.md has the format): `experiment:`
// settings, a `base:` configuration of the producer (the sampler's keys, or
// the test pattern's), an `evaluator:` section, and the configurations to run
// over the base — a `configurations:` list of named override sets and/or
// `sweeps:` that expand one key over values (a guidance-scale sweep). Every
// configuration gets its own run directory <output_dir>/<name>/<configuration>.
// Tested by tests/distributed/experiment_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sagbench::distributed {

struct ExperimentSettings {
  std::string name;
  std::string output_dir = "runs";
  std::int64_t num_samples = 50000;
  std::int64_t shard_size = 1000;
  std::int64_t batch_size = 64;
  std::string producer = "sampler";
  std::string device = "auto";
  std::string backend = "auto";
  double timeout_s = 1800.0;
  bool evaluate = true;
  std::vector<std::string> metrics = {"inception_score", "fid", "sfid", "precision", "recall"};
  std::string reference;

  template <class V>
  void visit(V& v) {
    v("name", name, "experiment name: run directories are <output_dir>/<name>/<configuration>");
    v("output_dir", output_dir,
      "folder of the experiment's run directories (relative to the working directory)");
    v("num_samples", num_samples, "samples per configuration (the paper: 50000)");
    v("shard_size", shard_size, "samples per shard file (the unit of work and of resume)");
    v("batch_size", batch_size, "samples per sampler batch (may change between resumes)");
    v.choice("producer", producer, {"sampler", "test_pattern"},
             "sampler: the diffusion sampler; test_pattern: hashed pixels, to check the machinery without a "
             "model");
    v("device", device, "auto (CUDA device local_rank mod count, else CPU), cpu, cuda or cuda:N");
    v.choice("backend", backend, {"auto", "single", "mpi", "nccl"},
             "collectives: auto (MPI when launched by mpirun/srun, NCCL on GPUs), single, mpi, nccl");
    v("timeout_s", timeout_s, "a collective fails after this long without progress (a rank died)");
    v("evaluate", evaluate, "compute metrics after sampling");
    v("metrics", metrics,
      "metrics: inception_score, fid, sfid, precision, recall (or all), as `sagbench eval`");
    v("reference", reference, "reference batch (npz of images, as the ADM evaluator's) for the metrics");
  }
  void validate() const;
};

// Numbers a paper reports for a configuration, shown beside the measured ones
// by `sagbench report`; unset ones are absent.
struct PublishedMetrics {
  std::optional<double> fid;
  std::optional<double> sfid;
  std::optional<double> inception_score;
  std::optional<double> precision;
  std::optional<double> recall;
  std::string source;  // where the numbers come from (paper table, README)

  template <class V>
  void visit(V& v) {
    v("fid", fid, "published FID");
    v("sfid", sfid, "published sFID");
    v("inception_score", inception_score, "published Inception Score");
    v("precision", precision, "published precision");
    v("recall", recall, "published recall");
    v("source", source, "where the published numbers come from");
  }
  bool empty() const { return !fid && !sfid && !inception_score && !precision && !recall; }
};

// One row of the experiment: `overrides` are `key=value` relative to `base`.
// A row expanded from a sweep also records the sweep (template, key, value),
// which metrics.json carries for the plots of `sagbench report`.
struct ConfigurationSpec {
  std::string name;
  std::vector<std::string> overrides;
  PublishedMetrics published;
  std::string sweep;        // the sweep's name template; empty for listed configurations
  std::string sweep_key;    // the swept key
  std::string sweep_value;  // this row's value of it

  template <class V>
  void visit(V& v) {
    v("name", name, "run directory name of this configuration (one path component)");
    v("overrides", overrides, "key=value overrides of the base configuration");
    v("published", published, "published metrics of this configuration (shown beside the measured ones)");
  }
};

// Expands to one configuration per value: name = name_template with "{}"
// replaced by the value, overrides = [key=value] + `overrides`.
struct SweepSpec {
  std::string name;
  std::string key;
  std::vector<std::string> values;
  std::vector<std::string> overrides;

  template <class V>
  void visit(V& v) {
    v("name", name, "name template of the configurations; {} is replaced by the value");
    v("key", key, "the swept key, relative to base (e.g. guidance.0.scale)");
    v("values", values, "the values of the key, one configuration each");
    v("overrides", overrides, "key=value overrides shared by every configuration of the sweep");
  }
};

struct Experiment {
  std::string path;
  config::Document document;  // the file with command-line overrides applied
  ExperimentSettings settings;
  std::vector<ConfigurationSpec> configurations;  // configurations, then expanded sweeps, in file order

  // The document of one configuration: its overrides applied under `base.`.
  config::Document configuration_document(const ConfigurationSpec& configuration) const;
  // <output_dir>/<name>/<configuration>.
  std::string run_dir(const ConfigurationSpec& configuration) const;
};

// Loads and checks an experiment: unknown top-level keys, duplicate or
// invalid configuration names, and sweeps without values are kConfig errors
// naming the file and line. Without configurations or sweeps the base runs
// alone as configuration "base".
Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace sagbench::distributed
