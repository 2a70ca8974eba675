// Cross-field checks of the training config (see train_config.h): the model
// must take what the dataset gives (1 channel, image_size pixels, 10 classes
// plus the null label), so mistakes fail before any work starts.
#include "training/train_config.h"

#include "core/error.h"

namespace sagbench::training {

void TrainConfig::validate() const {
  SAG_REQUIRE(!name.empty() && name.find('/') == std::string::npos, kConfig,
              "name must be one non-empty path component, got '{}'", name);
  SAG_REQUIRE(image_size >= 28 && (image_size - 28) % 2 == 0, kConfig,
              "image_size must be 28 + an even margin (32 recommended), got {}", image_size);
  SAG_REQUIRE(steps >= 1 && batch_size >= 1, kConfig, "steps and batch_size must be >= 1 (got {}, {})", steps,
              batch_size);
  SAG_REQUIRE(lr > 0 && weight_decay >= 0, kConfig, "lr must be > 0 and weight_decay >= 0 (got {}, {})", lr,
              weight_decay);
  SAG_REQUIRE(ema_rate >= 0 && ema_rate < 1, kConfig, "ema_rate must be in [0, 1), got {}", ema_rate);
  SAG_REQUIRE(log_every >= 1 && checkpoint_every >= 1 && keep_checkpoints >= 1, kConfig,
              "log_every, checkpoint_every and keep_checkpoints must be >= 1");
  SAG_REQUIRE(diffusion.steps >= 2, kConfig, "diffusion.steps must be >= 2, got {}", diffusion.steps);
  SAG_REQUIRE(diffusion.label_dropout >= 0 && diffusion.label_dropout < 1, kConfig,
              "diffusion.label_dropout must be in [0, 1), got {}", diffusion.label_dropout);
  SAG_REQUIRE(preview_per_class >= 0 && preview_per_class <= 100, kConfig,
              "preview_per_class must be in [0, 100], got {}", preview_per_class);
  if (kind == "diffusion") {
    unet.validate();
    SAG_REQUIRE(unet.in_channels == 1 && unet.image_size == image_size, kConfig,
                "unet.in_channels must be 1 and unet.image_size {} (image_size), got {} and {}", image_size,
                unet.in_channels, unet.image_size);
    SAG_REQUIRE(!unet.class_cond || unet.num_classes == 11, kConfig,
                "a class-conditional unet needs num_classes = 11 (10 classes + null label 10), got {}",
                unet.num_classes);
  } else if (kind == "noisy_classifier") {
    classifier.validate();
    SAG_REQUIRE(
        classifier.in_channels == 1 && classifier.image_size == image_size && classifier.out_channels == 10,
        kConfig, "classifier needs in_channels 1, image_size {} and out_channels 10", image_size);
  } else {
    feature_net.validate();
    SAG_REQUIRE(feature_net.in_channels == 1 && feature_net.num_classes == 10, kConfig,
                "feature_net needs in_channels 1 and num_classes 10");
  }
}

}  // namespace sagbench::training
