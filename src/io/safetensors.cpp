// safetensors read/write (see safetensors.h). The JSON header is parsed with
// nlohmann-json without exceptions, its size is capped (100 MB, as the
// reference loader does) and checked against the file size before it is
// read; tensor byte counts are overflow-checked before any allocation.
// Tested by tests/io/safetensors_test.cpp.
#include "io/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/error.h"
#include "io/atomic_file.h"

namespace sagbench::io {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr char kMetadataKey[] = "__metadata__";

struct DtypeName {
  at::ScalarType dtype;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {at::kBool, "BOOL"}, {at::kByte, "U8"},    {at::kChar, "I8"},  {at::kShort, "I16"},
    {at::kInt, "I32"},   {at::kLong, "I64"},   {at::kHalf, "F16"}, {at::kBFloat16, "BF16"},
    {at::kFloat, "F32"}, {at::kDouble, "F64"},
};

at::ScalarType dtype_from_name(const std::string& name, const std::string& path, const std::string& tensor) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) {
      return entry.dtype;
    }
  }
  SAG_FAIL(kFormat, "{}: tensor '{}' has unsupported dtype '{}'", path, tensor, name);
}

bool is_supported(at::ScalarType dtype) {
  return std::any_of(std::begin(kDtypes), std::end(kDtypes),
                     [dtype](const DtypeName& entry) { return entry.dtype == dtype; });
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

void read_at(std::FILE* file, std::uint64_t offset, void* dst, std::uint64_t bytes, const std::string& path) {
  SAG_REQUIRE(fseeko(file, static_cast<off_t>(offset), SEEK_SET) == 0, kIo, "{}: seek failed: {}", path,
              std::strerror(errno));
  SAG_REQUIRE(std::fread(dst, 1, bytes, file) == bytes, kFormat, "{}: truncated: cannot read {} bytes at {}",
              path, bytes, offset);
}

std::uint64_t json_unsigned(const Json& value, const std::string& path, const std::string& tensor,
                            const char* what) {
  SAG_REQUIRE(value.is_number_unsigned(), kFormat, "{}: tensor '{}': {} must be non-negative integers", path,
              tensor, what);
  return value.get<std::uint64_t>();
}

SafetensorsEntry parse_entry(const std::string& name, const Json& value, const std::string& path) {
  SAG_REQUIRE(value.is_object(), kFormat, "{}: tensor '{}' is not a JSON object", path, name);
  for (const auto& [key, unused] : value.items()) {
    SAG_REQUIRE(key == "dtype" || key == "shape" || key == "data_offsets", kFormat,
                "{}: tensor '{}' has unexpected field '{}'", path, name, key);
  }
  SAG_REQUIRE(value.contains("dtype") && value["dtype"].is_string(), kFormat,
              "{}: tensor '{}' lacks a string 'dtype'", path, name);
  SAG_REQUIRE(value.contains("shape") && value["shape"].is_array(), kFormat,
              "{}: tensor '{}' lacks an array 'shape'", path, name);
  SAG_REQUIRE(
      value.contains("data_offsets") && value["data_offsets"].is_array() && value["data_offsets"].size() == 2,
      kFormat, "{}: tensor '{}' lacks 'data_offsets' [begin, end]", path, name);
  SafetensorsEntry entry;
  entry.name = name;
  entry.dtype = dtype_from_name(value["dtype"].get<std::string>(), path, name);
  std::uint64_t bytes = at::elementSize(entry.dtype);
  for (const Json& dim : value["shape"]) {
    const std::uint64_t d = json_unsigned(dim, path, name, "shape dims");
    SAG_REQUIRE(d <= static_cast<std::uint64_t>(INT64_MAX) && !__builtin_mul_overflow(bytes, d, &bytes) &&
                    bytes <= static_cast<std::uint64_t>(INT64_MAX),
                kFormat, "{}: tensor '{}': shape overflows the addressable byte count", path, name);
    entry.shape.push_back(static_cast<std::int64_t>(d));
  }
  entry.begin = json_unsigned(value["data_offsets"][0], path, name, "data_offsets");
  entry.end = json_unsigned(value["data_offsets"][1], path, name, "data_offsets");
  SAG_REQUIRE(entry.begin <= entry.end, kFormat,
              "{}: tensor '{}': data_offsets [{}, {}) end before they begin", path, name, entry.begin,
              entry.end);
  SAG_REQUIRE(entry.end - entry.begin == bytes, kFormat,
              "{}: tensor '{}': data_offsets [{}, {}) hold {} bytes but shape [{}] of {} needs {}", path,
              name, entry.begin, entry.end, entry.end - entry.begin, fmt::join(entry.shape, ", "),
              c10::toString(entry.dtype), bytes);
  return entry;
}

}  // namespace

std::string safetensors_dtype_name(at::ScalarType dtype) {
  for (const auto& entry : kDtypes) {
    if (entry.dtype == dtype) {
      return entry.name;
    }
  }
  SAG_FAIL(kFormat, "dtype {} cannot be stored in safetensors", c10::toString(dtype));
}

namespace {

SafetensorsHeader parse_header(std::FILE* file, const std::string& path, std::uint64_t file_bytes) {
  SAG_REQUIRE(file_bytes >= 8, kFormat, "{}: too short for a safetensors file ({} bytes)", path, file_bytes);
  std::uint8_t length_bytes[8];
  read_at(file, 0, length_bytes, 8, path);
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | length_bytes[i];
  }
  SAG_REQUIRE(header_bytes <= kMaxHeaderBytes && header_bytes <= file_bytes - 8, kFormat,
              "{}: safetensors header length {} exceeds the file ({} bytes) or the {} byte limit", path,
              header_bytes, file_bytes, kMaxHeaderBytes);
  std::string text(header_bytes, '\0');
  read_at(file, 8, text.data(), header_bytes, path);
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  SAG_REQUIRE(!json.is_discarded() && json.is_object(), kFormat,
              "{}: safetensors header is not a JSON object", path);

  SafetensorsHeader header;
  header.data_offset = 8 + header_bytes;
  for (const auto& [key, value] : json.items()) {
    if (key == kMetadataKey) {
      SAG_REQUIRE(value.is_object(), kFormat, "{}: __metadata__ is not a JSON object", path);
      for (const auto& [meta_key, meta_value] : value.items()) {
        SAG_REQUIRE(meta_value.is_string(), kFormat, "{}: __metadata__ value '{}' is not a string", path,
                    meta_key);
        header.metadata[meta_key] = meta_value.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(key, value, path));
  }
  // Data must tile the buffer exactly, as the reference loader requires.
  std::stable_sort(header.tensors.begin(), header.tensors.end(),
                   [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
                     return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
                   });
  const std::uint64_t data_bytes = file_bytes - header.data_offset;
  std::uint64_t expected_begin = 0;
  std::string previous = "(start of data)";
  for (const SafetensorsEntry& entry : header.tensors) {
    SAG_REQUIRE(entry.end <= data_bytes, kFormat,
                "{}: tensor '{}': data_offsets [{}, {}) extend beyond the {}-byte data buffer", path,
                entry.name, entry.begin, entry.end, data_bytes);
    SAG_REQUIRE(entry.begin >= expected_begin, kFormat,
                "{}: tensor '{}' overlaps '{}' (data_offsets [{}, {}))", path, entry.name, previous,
                entry.begin, entry.end);
    SAG_REQUIRE(entry.begin == expected_begin, kFormat,
                "{}: gap of {} bytes before tensor '{}' (data_offsets must be contiguous)", path,
                entry.begin - expected_begin, entry.name);
    expected_begin = entry.end;
    previous = entry.name;
  }
  SAG_REQUIRE(expected_begin == data_bytes, kFormat,
              "{}: tensors cover {} data bytes but the file holds {} (trailing data)", path, expected_begin,
              data_bytes);
  return header;
}

struct OpenFile {
  FilePtr file;
  std::uint64_t bytes = 0;
};

OpenFile open_for_read(const std::string& path) {
  std::error_code ec;
  SAG_REQUIRE(std::filesystem::is_regular_file(path, ec), kIo, "{}: no such file", path);
  OpenFile out;
  out.bytes = std::filesystem::file_size(path, ec);
  SAG_REQUIRE(!ec, kIo, "{}: cannot stat: {}", path, ec.message());
  out.file.reset(std::fopen(path.c_str(), "rb"));
  SAG_REQUIRE(out.file != nullptr, kIo, "{}: cannot open: {}", path, std::strerror(errno));
  return out;
}

}  // namespace

SafetensorsHeader read_safetensors_header(const std::string& path) {
  OpenFile in = open_for_read(path);
  return parse_header(in.file.get(), path, in.bytes);
}

TensorDict read_safetensors(const std::string& path, SafetensorsMetadata* metadata) {
  OpenFile in = open_for_read(path);
  SafetensorsHeader header = parse_header(in.file.get(), path, in.bytes);
  TensorDict out;
  for (const SafetensorsEntry& entry : header.tensors) {
    // Bool bytes other than 0/1 are not valid at::kBool values: read as u8, compare.
    const bool is_bool = entry.dtype == at::kBool;
    at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(is_bool ? at::kByte : entry.dtype));
    read_at(in.file.get(), header.data_offset + entry.begin, tensor.data_ptr(), entry.end - entry.begin,
            path);
    out.insert(entry.name, is_bool ? tensor.ne(0) : tensor, path);
  }
  if (metadata != nullptr) {
    *metadata = std::move(header.metadata);
  }
  return out;
}

void write_safetensors(const std::string& path, const TensorDict& tensors,
                       const SafetensorsMetadata& metadata) {
  Json json = Json::object();
  if (!metadata.empty()) {
    json[kMetadataKey] = metadata;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors.items()) {
    SAG_REQUIRE(name != kMetadataKey, kFormat, "{}: '{}' is reserved and cannot name a tensor", path, name);
    SAG_REQUIRE(is_supported(tensor.scalar_type()), kFormat,
                "{}: tensor '{}' of dtype {} cannot be stored in safetensors", path, name,
                c10::toString(tensor.scalar_type()));
    const std::uint64_t bytes = static_cast<std::uint64_t>(tensor.numel()) * tensor.element_size();
    json[name] = {{"dtype", safetensors_dtype_name(tensor.scalar_type())},
                  {"shape", tensor.sizes().vec()},
                  {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = json.dump();
  } catch (const nlohmann::json::exception& e) {
    SAG_FAIL(kFormat, "{}: tensor names and metadata must be valid UTF-8: {}", path, e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned
  std::uint8_t length_bytes[8];
  for (int i = 0; i < 8; ++i) {
    length_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  }
  AtomicFile file(path);
  file.write(length_bytes, 8);
  file.write(text.data(), text.size());
  for (const auto& item : tensors.items()) {
    const at::Tensor data = item.second.cpu().contiguous();  // one tensor copied at a time, if at all
    file.write(data.data_ptr(), data.nbytes());
  }
  file.commit();
}

}  // namespace sagbench::io
