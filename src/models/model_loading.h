// Building the ADM networks from their configs and loading upstream
// checkpoints (.pt state dicts as torch.save writes them, e.g.
// 256x256_diffusion.pt, legacy .pth) or safetensors (the bundle's exports,
// converted checkpoints) strictly by name: a file that does not fit the
// preset is refused with the full list of missing, unexpected and mismatched
// tensors. The fp16/bf16 torso receives the float32 weights converted, as
// upstream's load-then-convert_to_fp16 does. Tested by tests/models/unet_test.cpp
// and encoder_unet_test.cpp.
#pragma once

#include <memory>
#include <string>

#include "models/encoder_unet.h"
#include "models/unet.h"

namespace sagbench::models {

// Loads any tensor file io::load_tensor_file reads (torch zip or legacy
// checkpoint, safetensors) into the model (kIo/kFormat for unreadable files,
// kShape listing every mismatch).
void load_checkpoint(torch::nn::Module& model, const std::string& path);

// The model on `device`, with config.checkpoint loaded when it is set
// (random initialisation otherwise), in eval mode.
std::shared_ptr<UNetModel> build_unet(const UNetConfig& config, at::Device device = at::kCPU);
std::shared_ptr<EncoderUNetModel> build_classifier(const EncoderUNetConfig& config,
                                                   at::Device device = at::kCPU);

}  // namespace sagbench::models
