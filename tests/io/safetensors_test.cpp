// Tests for safetensors read/write: round trips of every dtype with metadata;
// a hand-built file (JSON written here) read with the expected values; the
// header we write checked as JSON; fixture arrays agreeing bit for bit across
// npz and safetensors; hostile headers (length beyond the file, overlapping,
// gapped or out-of-range offsets, byte-length mismatch) giving kFormat errors.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/npz.h"
#include "support/fixtures.h"

namespace sagbench::io {
namespace {
namespace fs = std::filesystem;
using sagbench::testing::fixture_path;
using sagbench::testing::make_temp_dir;

void expect_format_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected a kFormat error mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// A hand-built file: length, header text, data bytes.
void write_crafted(const std::string& path, const std::string& header, const std::vector<std::uint8_t>& data,
                   std::uint64_t declared_length) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < 8; ++i) {
    out.put(static_cast<char>(declared_length >> (8 * i)));
  }
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

void write_crafted(const std::string& path, const std::string& header,
                   const std::vector<std::uint8_t>& data) {
  write_crafted(path, header, data, header.size());
}

TEST(Safetensors, RoundTripsEveryDtypeWithMetadata) {
  const std::string path = make_temp_dir("safetensors") + "/all.safetensors";
  TensorDict dict;
  const std::vector<at::ScalarType> dtypes = {at::kBool, at::kByte, at::kChar,     at::kShort, at::kInt,
                                              at::kLong, at::kHalf, at::kBFloat16, at::kFloat, at::kDouble};
  for (std::size_t i = 0; i < dtypes.size(); ++i) {
    at::Tensor base = at::arange(-7, 5 + static_cast<int>(i), at::kLong);
    dict.insert("z" + std::to_string(i), dtypes[i] == at::kBool ? base.gt(0) : base.to(dtypes[i]));
  }
  dict.insert("matrix", at::arange(12, at::kFloat).reshape({3, 4}).t());  // non-contiguous input
  dict.insert("scalar", at::scalar_tensor(3.25, at::kDouble));
  dict.insert("empty", at::zeros({0, 5}, at::kFloat));
  const SafetensorsMetadata metadata = {{"format", "pt"}, {"source", "sagbench test"}};
  write_safetensors(path, dict, metadata);

  SafetensorsMetadata loaded_metadata;
  const TensorDict loaded = read_safetensors(path, &loaded_metadata);
  EXPECT_EQ(loaded_metadata, metadata);
  ASSERT_EQ(loaded.names(), dict.names());
  for (const auto& [name, tensor] : dict.items()) {
    EXPECT_EQ(loaded.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(at::equal(loaded.at(name), tensor)) << name;
  }
}

TEST(Safetensors, WrittenHeaderIsPaddedJson) {
  const std::string path = make_temp_dir("safetensors") + "/header.safetensors";
  TensorDict dict;
  dict.insert("a", at::ones({2, 3}, at::kBFloat16));
  dict.insert("b", at::ones({5}, at::kLong));
  write_safetensors(path, dict);
  std::ifstream in(path, std::ios::binary);
  std::uint8_t length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) {
    length = (length << 8) | length_bytes[i];
  }
  EXPECT_EQ(length % 8, 0u);
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  const auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["a"]["dtype"], "BF16");
  EXPECT_EQ(json["a"]["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(json["a"]["data_offsets"], nlohmann::json({0, 12}));
  EXPECT_EQ(json["b"]["dtype"], "I64");
  EXPECT_EQ(json["b"]["data_offsets"], nlohmann::json({12, 52}));
  EXPECT_FALSE(json.contains("__metadata__"));
  EXPECT_EQ(fs::file_size(path), 8 + length + 52);
}

TEST(Safetensors, ReadsHandBuiltFile) {
  const std::string path = make_temp_dir("safetensors") + "/crafted.safetensors";
  // Two f32 values then one u8, listed out of offset order, plus metadata.
  const float values[2] = {1.5f, -2.0f};
  std::vector<std::uint8_t> data(9);
  std::memcpy(data.data(), values, 8);
  data[8] = 200;
  write_crafted(path,
                R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[8,9]},)"
                R"("__metadata__":{"k":"v"},"f":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}})",
                data);
  SafetensorsMetadata metadata;
  const TensorDict loaded = read_safetensors(path, &metadata);
  EXPECT_EQ(loaded.names(), (std::vector<std::string>{"f", "u"}));
  EXPECT_EQ(metadata.at("k"), "v");
  EXPECT_TRUE(at::equal(loaded.at("f"), at::tensor({1.5f, -2.0f}).reshape({2, 1})));
  EXPECT_EQ(loaded.at("u").item<std::uint8_t>(), 200);
  const SafetensorsHeader header = read_safetensors_header(path);
  ASSERT_EQ(header.tensors.size(), 2u);
  EXPECT_EQ(header.tensors[0].name, "f");
  EXPECT_EQ(header.tensors[1].begin, 8u);
}

TEST(Safetensors, FixtureArraysAgreeAcrossFormats) {
  const TensorDict original = read_npz(fixture_path("adm_tiny_uncond_forward.npz"));
  const std::string dir = make_temp_dir("safetensors");
  write_safetensors(dir + "/a.safetensors", original);
  write_npz(dir + "/a.npz", original);
  const TensorDict via_safetensors = read_safetensors(dir + "/a.safetensors");
  const TensorDict via_npz = read_npz(dir + "/a.npz");
  ASSERT_EQ(via_safetensors.names(), original.names());
  for (const auto& [name, tensor] : original.items()) {
    EXPECT_TRUE(at::equal(via_safetensors.at(name), tensor)) << name;
    EXPECT_TRUE(at::equal(via_npz.at(name), tensor)) << name;
  }
}

TEST(Safetensors, HostileFilesAreFormatErrors) {
  const std::string dir = make_temp_dir("safetensors_hostile");
  const std::vector<std::uint8_t> eight(8, 1);
  const std::string f32 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  struct Case {
    std::string what;
    std::string header;
    std::vector<std::uint8_t> data;
  };
  const std::vector<Case> cases = {
      {"not json", "{\"a\": [", eight},
      {"not an object", "[1, 2]", eight},
      {"unknown dtype", R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", eight},
      {"negative dim", R"({"a":{"dtype":"U8","shape":[-8],"data_offsets":[0,8]}})", eight},
      {"missing offsets", R"({"a":{"dtype":"U8","shape":[8]}})", eight},
      {"extra field", R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8],"x":1}})", eight},
      {"length mismatch", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight},
      {"reversed offsets", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", eight},
      {"out of range", R"({"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]}})", eight},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
       eight},
      {"gap", R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", eight},
      {"trailing data", R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", eight},
      {"overflowing shape", R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
       eight},
      {"metadata not strings",
       R"({"__metadata__":{"k":1},"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", eight},
      {"truncated data", f32, std::vector<std::uint8_t>(5)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir + "/case.safetensors";
    write_crafted(path, c.header, c.data);
    expect_format_error([&] { read_safetensors(path); }, path);
  }
  // Header length beyond the file, and beyond the 100 MB cap.
  const std::string lying = dir + "/lying.safetensors";
  write_crafted(lying, f32, eight, 1 << 20);
  expect_format_error([&] { read_safetensors(lying); }, lying);
  write_crafted(lying, f32, eight, std::uint64_t{1} << 62);
  expect_format_error([&] { read_safetensors(lying); }, lying);
  const std::string tiny = dir + "/tiny.safetensors";
  std::ofstream(tiny) << "abc";
  expect_format_error([&] { read_safetensors(tiny); }, tiny);
}

TEST(Safetensors, WriterRefusesReservedAndUnsupported) {
  const std::string path = make_temp_dir("safetensors") + "/bad.safetensors";
  TensorDict reserved;
  reserved.insert("__metadata__", at::ones({1}));
  expect_format_error([&] { write_safetensors(path, reserved); }, "__metadata__");
  TensorDict complex;
  complex.insert("c", at::ones({1}, at::kComplexFloat));
  expect_format_error([&] { write_safetensors(path, complex); }, "'c'");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

}  // namespace
}  // namespace sagbench::io
