// Native readers for torch.save checkpoints, no Python and no TorchScript:
//  - the zip container of torch >= 1.6 (`<archive>/data.pkl` plus one entry
//    `<archive>/data/<key>` per storage, any archive name), as written for the
//    public ADM / IDDPM checkpoints;
//  - the legacy format (magic-number pickle, protocol pickle, sys_info pickle,
//    the object pickle, the storage-key pickle, then per storage an int64
//    element count and its raw bytes), as pytorch-fid's Inception weights.
// Follows torch/serialization.py (_load, _legacy_load) and torch/_utils.py
// (_rebuild_tensor_v2). Tested by tests/io/torch_checkpoint_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/tensor_dict.h"
#include "io/tensor_info.h"

namespace sagbench::io {

// The pickled object must be a dict or OrderedDict. Nested dicts (and lists)
// are flattened with '.' ({"state_dict": {"w": t}} -> "state_dict.w"); leaves
// that are not tensors (numbers, strings, None: epoch counters and the like)
// are skipped; any other object is a kFormat error. Tensors come back
// contiguous, in pickle order; views with offsets/strides are materialised and
// tensors with identical contiguous views of one storage share its memory.
// Every storage size, offset and stride is checked against the file: a
// violation is a kFormat error naming the file and the tensor.
TensorDict load_torch_zip(const std::string& path);
TensorDict load_torch_legacy(const std::string& path);

// Names, dtypes and shapes, with the same checks, without reading tensor data.
std::vector<TensorInfo> describe_torch_zip(const std::string& path);
std::vector<TensorInfo> describe_torch_legacy(const std::string& path);

// True when `bytes` start like a legacy torch.save file (PROTO 2 and the
// LONG1 magic number 0x1950a86a20f9469cfc6c); needs 14 bytes.
bool is_torch_legacy_header(const std::uint8_t* bytes, std::size_t size);

}  // namespace sagbench::io
