// Any supported tensor file by its content, not its extension: .npy, .npz,
// torch zip checkpoints, legacy torch checkpoints and safetensors are told
// apart by their magic bytes (and, for ZIP archives, by their entries).
// `sagbench info` lists files through describe_tensor_file().
// Tested by tests/io/tensor_file_test.cpp and tests/cli/info_test.cpp.
#pragma once

#include <string>
#include <vector>

#include "io/tensor_dict.h"
#include "io/tensor_info.h"

namespace sagbench::io {

enum class TensorFileFormat { kNpy, kNpz, kTorchZip, kTorchLegacy, kSafetensors };

// A human name: "npy array", "torch zip checkpoint (torch.save >= 1.6)", ...
const char* tensor_file_format_name(TensorFileFormat format);
// numpy-style dtype names: float32, float16, bfloat16, int64, uint8, bool, ...
const char* dtype_name(c10::ScalarType dtype);

// kIo for a missing/unreadable file; kFormat naming the file and its first
// bytes when no format matches.
TensorFileFormat detect_tensor_file_format(const std::string& path);

// Every tensor, in file order. A .npy file yields one tensor named after the
// file's stem ("x.npy" -> "x").
TensorDict load_tensor_file(const std::string& path);

// Names, dtypes and shapes, reading only headers where the format allows
// (npy, npz, safetensors, torch zip); a legacy checkpoint is walked without
// reading its tensor data. The same checks as loading apply.
std::vector<TensorInfo> describe_tensor_file(const std::string& path);

}  // namespace sagbench::io
