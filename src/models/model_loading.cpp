// Model construction and checkpoint loading (see model_loading.h).
#include "models/model_loading.h"

#include "io/state_dict.h"
#include "io/tensor_file.h"

namespace sagbench::models {

void load_checkpoint(torch::nn::Module& model, const std::string& path) {
  const io::TensorDict tensors = io::load_tensor_file(path);
  io::LoadOptions options;
  options.convert_dtype = true;  // float32 weights into a float16 / bfloat16 torso
  torch::NoGradGuard no_grad;
  io::load_state_dict(model, tensors, path, options);
}

std::shared_ptr<UNetModel> build_unet(const UNetConfig& config, at::Device device) {
  auto model = std::make_shared<UNetModel>(config, device);
  if (!config.checkpoint.empty()) {
    load_checkpoint(*model, config.checkpoint);
  }
  return model;
}

std::shared_ptr<EncoderUNetModel> build_classifier(const EncoderUNetConfig& config, at::Device device) {
  auto model = std::make_shared<EncoderUNetModel>(config, device);
  if (!config.checkpoint.empty()) {
    load_checkpoint(*model, config.checkpoint);
  }
  return model;
}

}  // namespace sagbench::models
