// Configuration of `sagbench train`: one struct bound from configs/train/*.yaml
// (plus `a.b=v` overrides). `kind` picks what is trained: the class-conditional
// diffusion UNet (with a null label for CFG), the noisy classifier of
// classifier guidance (upstream classifier_train.py), or the clean-image
// feature network behind FID/IS/P&R on Fashion-MNIST. Optimiser settings follow
// upstream train_util.py (AdamW, EMA of weights, uniform timestep sampling).
// Tested by tests/training/trainer_test.cpp (binding, validation).
#pragma once

#include <cstdint>
#include <string>

#include "models/unet_config.h"

namespace sagbench::training {

// The small clean-image classifier (fashion_feature_net.h): conv stages with
// GroupNorm + SiLU and stride-2 downsampling, global average pool -> feature
// vector (pool) -> linear logits.
struct FeatureNetConfig {
  int in_channels = 1;
  int width = 32;         // channels of the first stage; doubled per stage
  int stages = 3;         // 32 -> 16 -> 8 -> 4 spatial with 3 stages at 32x32
  int feature_dim = 128;  // penultimate (pool) feature size
  int num_classes = 10;

  template <class V>
  void visit(V& v) {
    v("in_channels", in_channels, "image channels (1 for Fashion-MNIST)");
    v("width", width, "channels of the first stage (doubled at each further stage; multiple of 8)");
    v("stages", stages, "stride-2 stages after the stem");
    v("feature_dim", feature_dim, "penultimate feature size (the FID/P&R features)");
    v("num_classes", num_classes, "output classes");
  }
  void validate() const;
};

struct DiffusionTrainConfig {
  int steps = 1000;                 // diffusion steps T of the training process
  std::string schedule = "linear";  // beta schedule
  double label_dropout = 0.1;       // probability a label is replaced by the null label
  template <class V>
  void visit(V& v) {
    v("steps", steps, "diffusion steps T (--diffusion_steps)");
    v.choice("schedule", schedule, {"linear", "cosine"}, "beta schedule (--noise_schedule)");
    v("label_dropout", label_dropout,
      "probability of replacing a label by the null label num_classes-1 (CFG training)");
  }
};

struct TrainConfig {
  std::string kind = "diffusion";  // diffusion | noisy_classifier | feature_net
  std::string name = "fashion_diffusion";
  std::string output_dir = "runs/train";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int image_size = 32;
  std::int64_t steps = 20000;  // optimiser steps in total (a resumed run continues to it)
  int batch_size = 64;
  double lr = 1e-4;
  double weight_decay = 0.0;
  double ema_rate = 0.9999;
  bool ema_warmup = true;              // decay min(ema_rate, (1 + n) / (10 + n)) at update n
  std::string export_weights = "ema";  // ema | raw
  std::int64_t seed = 0;
  std::int64_t log_every = 100;
  std::int64_t checkpoint_every = 1000;
  int keep_checkpoints = 2;
  bool resume = true;  // continue from the latest checkpoint in the run dir
  std::string device = "auto";
  bool export_fp16 = false;
  int preview_per_class = 0;  // diffusion: samples per class in samples_preview.pgm at the end
  std::string preview_respacing = "ddim50";
  models::UNetConfig unet;
  DiffusionTrainConfig diffusion;
  models::EncoderUNetConfig classifier;
  FeatureNetConfig feature_net;

  template <class V>
  void visit(V& v) {
    v.choice("kind", kind, {"diffusion", "noisy_classifier", "feature_net"}, "what is trained");
    v("name", name, "run name (folder under output_dir)");
    v("output_dir", output_dir, "folder of the run directories");
    v("data_dir", data_dir, "folder with the gzip'd Fashion-MNIST idx files");
    v("image_size", image_size, "model input side: 28x28 images zero-padded to this (32)");
    v("steps", steps, "total optimiser steps");
    v("batch_size", batch_size, "images per step");
    v("lr", lr, "AdamW learning rate");
    v("weight_decay", weight_decay, "AdamW weight decay");
    v("ema_rate", ema_rate, "EMA decay of the exported weights (0: no EMA, the raw weights)");
    v("ema_warmup", ema_warmup,
      "EMA decay min(ema_rate, (1 + n) / (10 + n)) at update n, so the initialisation fades in short runs "
      "(false: ema_rate from the first update; after n updates the EMA still holds ema_rate^n of the "
      "initial weights)");
    v("seed", seed, "seed of data order, initialisation, timesteps, noise and label dropout");
    v("log_every", log_every, "steps between loss lines (stdout and train_log.csv)");
    v("checkpoint_every", checkpoint_every, "steps between checkpoints (and at the end)");
    v("keep_checkpoints", keep_checkpoints, "most recent checkpoints kept in the run dir");
    v("resume", resume, "continue from the latest checkpoint of the run dir");
    v("device", device, "auto (cuda when available), cpu, cuda, cuda:N");
    v.choice("export_weights", export_weights, {"ema", "raw"},
             "weights written at the end: the EMA or the raw optimiser weights");
    v("export_fp16", export_fp16, "write the exported weights as float16");
    v("preview_per_class", preview_per_class,
      "kind diffusion: class-conditional samples per class written to samples_preview.pgm at the end (0: "
      "none)");
    v("preview_respacing", preview_respacing, "timestep respacing of the preview sampler (DDIM, eta 0)");
    v("unet", unet, "kind diffusion: the UNetModel (class_cond, num_classes = 11: label 10 is null)");
    v("diffusion", diffusion, "kind diffusion / noisy_classifier: the training process");
    v("classifier", classifier, "kind noisy_classifier: the EncoderUNetModel");
    v("feature_net", feature_net, "kind feature_net: the clean-image classifier");
  }
  void validate() const;
};

}  // namespace sagbench::training
