// Format detection and dispatch for tensor files (see tensor_file.h).
// Magic bytes: npy "\x93NUMPY"; ZIP "PK\x03\x04" / "PK\x05\x06" (a torch
// checkpoint has an "<archive>/data.pkl" entry, an npz only ".npy" entries);
// legacy torch: PROTO 2 then the LONG1 magic number; safetensors: a u64
// little-endian header length followed by '{'.
#include "io/tensor_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "io/zip_reader.h"

namespace sagbench::io {
namespace {

constexpr std::size_t kMagicBytes = 16;

bool is_torch_zip(const ZipReader& zip) {
  for (const ZipEntryInfo& entry : zip.entries()) {
    const std::size_t slash = entry.name.find('/');
    if (slash != std::string::npos && entry.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      return true;
    }
  }
  return false;
}

bool is_safetensors(const std::uint8_t* head, std::size_t size, std::uint64_t file_bytes) {
  if (size < 9) {
    return false;
  }
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | head[i];
  }
  return head[8] == '{' && header_bytes >= 2 && header_bytes <= file_bytes - 8;
}

std::string hex_of(const std::uint8_t* bytes, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += fmt::format("{}{:02x}", i == 0 ? "" : " ", bytes[i]);
  }
  return out;
}

std::string stem_of(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace

const char* tensor_file_format_name(TensorFileFormat format) {
  switch (format) {
    case TensorFileFormat::kNpy:
      return "npy array";
    case TensorFileFormat::kNpz:
      return "npz archive";
    case TensorFileFormat::kTorchZip:
      return "torch zip checkpoint (torch.save >= 1.6)";
    case TensorFileFormat::kTorchLegacy:
      return "legacy torch checkpoint (torch.save < 1.6)";
    case TensorFileFormat::kSafetensors:
      return "safetensors";
  }
  return "unknown";
}

const char* dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::ScalarType::Float:
      return "float32";
    case c10::ScalarType::Half:
      return "float16";
    case c10::ScalarType::BFloat16:
      return "bfloat16";
    case c10::ScalarType::Double:
      return "float64";
    case c10::ScalarType::Long:
      return "int64";
    case c10::ScalarType::Int:
      return "int32";
    case c10::ScalarType::Short:
      return "int16";
    case c10::ScalarType::Char:
      return "int8";
    case c10::ScalarType::Byte:
      return "uint8";
    case c10::ScalarType::Bool:
      return "bool";
    default:
      return c10::toString(dtype);
  }
}

TensorFileFormat detect_tensor_file_format(const std::string& path) {
  std::error_code ec;
  SAG_REQUIRE(std::filesystem::is_regular_file(path, ec), kIo, "{}: no such file", path);
  const std::uint64_t file_bytes = std::filesystem::file_size(path, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot stat: {}", path, ec.message());
  std::ifstream in(path, std::ios::binary);
  SAG_REQUIRE(in.good(), kIo, "{}: cannot open: {}", path, std::strerror(errno));
  std::uint8_t head[kMagicBytes] = {};
  in.read(reinterpret_cast<char*>(head), kMagicBytes);
  const std::size_t size = static_cast<std::size_t>(in.gcount());
  SAG_REQUIRE(size > 0, kFormat, "{}: empty file", path);

  if (size >= 6 && std::memcmp(head, "\x93NUMPY", 6) == 0) {
    return TensorFileFormat::kNpy;
  }
  if (size >= 4 && (std::memcmp(head, "PK\x03\x04", 4) == 0 || std::memcmp(head, "PK\x05\x06", 4) == 0)) {
    return is_torch_zip(ZipReader(path)) ? TensorFileFormat::kTorchZip : TensorFileFormat::kNpz;
  }
  if (is_torch_legacy_header(head, size)) {
    return TensorFileFormat::kTorchLegacy;
  }
  if (is_safetensors(head, size, file_bytes)) {
    return TensorFileFormat::kSafetensors;
  }
  SAG_FAIL(kFormat, "{}: not a tensor file (npy, npz, torch checkpoint, safetensors); first bytes: {}", path,
           hex_of(head, size));
}

TensorDict load_tensor_file(const std::string& path) {
  switch (detect_tensor_file_format(path)) {
    case TensorFileFormat::kNpy: {
      TensorDict dict;
      dict.insert(stem_of(path), read_npy(path), path);
      return dict;
    }
    case TensorFileFormat::kNpz:
      return read_npz(path);
    case TensorFileFormat::kTorchZip:
      return load_torch_zip(path);
    case TensorFileFormat::kTorchLegacy:
      return load_torch_legacy(path);
    case TensorFileFormat::kSafetensors:
      return read_safetensors(path);
  }
  SAG_FAIL(kFormat, "{}: unknown tensor file format", path);
}

std::vector<TensorInfo> describe_tensor_file(const std::string& path) {
  switch (detect_tensor_file_format(path)) {
    case TensorFileFormat::kNpy: {
      const NpyHeader header = read_npy_header(path);
      return {TensorInfo{stem_of(path), header.dtype, header.shape}};
    }
    case TensorFileFormat::kNpz: {
      NpzReader reader(path);
      std::vector<TensorInfo> out;
      for (const std::string& name : reader.names()) {
        const NpyHeader& header = reader.header(name);
        out.push_back(TensorInfo{name, header.dtype, header.shape});
      }
      return out;
    }
    case TensorFileFormat::kTorchZip:
      return describe_torch_zip(path);
    case TensorFileFormat::kTorchLegacy:
      return describe_torch_legacy(path);
    case TensorFileFormat::kSafetensors: {
      std::vector<TensorInfo> out;
      for (const SafetensorsEntry& entry : read_safetensors_header(path).tensors) {
        out.push_back(TensorInfo{entry.name, entry.dtype, entry.shape});
      }
      return out;
    }
  }
  SAG_FAIL(kFormat, "{}: unknown tensor file format", path);
}

}  // namespace sagbench::io
