// Tests for the .npy reader/writer: round trips of every dtype in C and
// Fortran order; hand-built files (header text written here, not by the code
// under test) for versions 1.0/2.0/3.0 and Fortran layout; hostile headers
// and truncated files give kFormat errors naming the source.
#include "io/npy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::io {
namespace {
using sagbench::testing::make_temp_dir;

// A hand-built npy file: preamble for `major`, the dict text, then data.
std::vector<std::uint8_t> craft_npy(int major, const std::string& dict,
                                    const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const int length_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < length_bytes; ++i) {
    out.push_back(static_cast<std::uint8_t>(dict.size() >> (8 * i)));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <typename T>
std::vector<std::uint8_t> as_bytes(const std::vector<T>& values) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(values.data());
  return {p, p + values.size() * sizeof(T)};
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void expect_format_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected a kFormat error mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

NpyHeader parse_bytes(const std::vector<std::uint8_t>& bytes) {
  return parse_npy_header(bytes.data(), bytes.size(), "crafted.npy");
}

// Values that every dtype represents exactly (small integers, alternating sign).
at::Tensor sample_tensor(at::ScalarType dtype, at::IntArrayRef shape) {
  at::Tensor base = at::arange(c10::multiply_integers(shape), at::kLong).reshape(shape);
  if (dtype == at::kBool) {
    return base.remainder(3).eq(1);
  }
  if (dtype == at::kByte) {
    return base.remainder(251).to(dtype);
  }
  return (base.remainder(101) - 50).to(dtype);
}

struct RoundTripCase {
  at::ScalarType dtype;
  bool fortran_order;
};

class NpyRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(NpyRoundTrip, EveryShape) {
  const auto [dtype, fortran_order] = GetParam();
  const std::string dir = make_temp_dir("npy");
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {7}, {3, 5}, {2, 3, 4}, {0, 4}, {2, 1, 3, 2}};
  for (const auto& shape : shapes) {
    const at::Tensor original = sample_tensor(dtype, shape);
    const std::string path = dir + "/a.npy";
    write_npy(path, original, fortran_order);
    const NpyHeader header = read_npy_header(path);
    EXPECT_EQ(header.dtype, dtype);
    EXPECT_EQ(header.shape, shape);
    EXPECT_EQ(header.fortran_order, fortran_order);
    EXPECT_EQ(header.header_bytes % 64, 0u);
    EXPECT_EQ(std::filesystem::file_size(path), header.header_bytes + original.nbytes());
    const at::Tensor loaded = read_npy(path);
    EXPECT_TRUE(loaded.is_contiguous());
    EXPECT_EQ(loaded.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(loaded, original)) << "shape " << original.sizes();
  }
}

INSTANTIATE_TEST_SUITE_P(DtypesAndOrders, NpyRoundTrip,
                         ::testing::Values(RoundTripCase{at::kByte, false}, RoundTripCase{at::kChar, false},
                                           RoundTripCase{at::kShort, false}, RoundTripCase{at::kInt, false},
                                           RoundTripCase{at::kLong, false}, RoundTripCase{at::kHalf, false},
                                           RoundTripCase{at::kFloat, false},
                                           RoundTripCase{at::kDouble, false}, RoundTripCase{at::kBool, false},
                                           RoundTripCase{at::kByte, true}, RoundTripCase{at::kInt, true},
                                           RoundTripCase{at::kLong, true}, RoundTripCase{at::kHalf, true},
                                           RoundTripCase{at::kFloat, true}, RoundTripCase{at::kDouble, true},
                                           RoundTripCase{at::kBool, true}));

TEST(Npy, ReadsHandBuiltFortranArray) {
  // Column-major bytes of [[0, 1, 2], [3, 4, 5]].
  const auto bytes = craft_npy(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }\n",
                               as_bytes(std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}));
  const std::string path = make_temp_dir("npy") + "/fortran.npy";
  write_file(path, bytes);
  const at::Tensor loaded = read_npy(path);
  ASSERT_EQ(loaded.sizes(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(loaded.is_contiguous());
  EXPECT_TRUE(at::equal(loaded, at::arange(6, at::kInt).reshape({2, 3})));
}

TEST(Npy, ParsesVersions2And3AndOldSpellings) {
  const std::string dict = "{\"descr\": \"<f8\", \"shape\": (4, 2), \"fortran_order\": False}";
  for (int major : {2, 3}) {
    const NpyHeader header = parse_bytes(craft_npy(major, dict, {}));
    EXPECT_EQ(header.dtype, at::kDouble);
    EXPECT_EQ(header.shape, (std::vector<std::int64_t>{4, 2}));
    EXPECT_EQ(header.header_bytes, 12u + dict.size());
  }
  // Python 2 long literals and a 0-d shape.
  NpyHeader old =
      parse_bytes(craft_npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3L, 2L), }", {}));
  EXPECT_EQ(old.shape, (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(old.dtype, at::kBool);
  // Byte order is irrelevant for one-byte types, whatever the prefix says.
  NpyHeader bytes =
      parse_bytes(craft_npy(1, "{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }", {}));
  EXPECT_EQ(bytes.dtype, at::kByte);
  NpyHeader scalar = parse_bytes(craft_npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", {}));
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.data_bytes(), 8u);
}

TEST(Npy, NonCanonicalBoolBytesReadAsTrue) {
  const auto bytes = craft_npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                               std::vector<std::uint8_t>{0, 1, 7});
  const std::string path = make_temp_dir("npy") + "/bool.npy";
  write_file(path, bytes);
  const at::Tensor loaded = read_npy(path);
  EXPECT_EQ(loaded.scalar_type(), at::kBool);
  EXPECT_FALSE(loaded[0].item<bool>());
  EXPECT_TRUE(loaded[1].item<bool>());
  EXPECT_TRUE(loaded[2].item<bool>());
}

TEST(Npy, HostileHeadersAreFormatErrors) {
  const std::vector<std::pair<std::string, std::vector<std::uint8_t>>> cases = {
      {"bad magic", {'N', 'O', 'T', 'N', 'P', 'Y', 1, 0, 0, 0}},
      {"version", craft_npy(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", {})},
      {"not a dict", craft_npy(1, "['descr', '<f4']", {})},
      {"unterminated", craft_npy(1, "{'descr': '<f4", {})},
      {"missing key", craft_npy(1, "{'descr': '<f4', 'shape': (1,), }", {})},
      {"extra key", craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", {})},
      {"repeated key",
       craft_npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", {})},
      {"negative dim", craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", {})},
      {"overflow dim",
       craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", {})},
      {"overflow product",
       craft_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", {})},
      {"float dim", craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }", {})},
      {"bare int shape", craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", {})},
      {"structured", craft_npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", {})},
      {"big endian", craft_npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", {})},
      {"unsupported dtype", craft_npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", {})},
      {"order word", craft_npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", {})},
      {"trailing", craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", {})},
  };
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    expect_format_error([&] { parse_bytes(bytes); }, "crafted.npy");
  }
  // Declared header length beyond the buffer, and a buffer shorter than the preamble.
  auto lying = craft_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", {});
  lying[8] = 0xff;
  lying[9] = 0xff;
  expect_format_error([&] { parse_bytes(lying); }, "crafted.npy");
  expect_format_error([&] { parse_bytes({0x93, 'N', 'U'}); }, "crafted.npy");
  auto huge = craft_npy(2, "{}", {});
  huge[11] = 0x7f;  // declares a ~2 GiB dict: refused before reading or allocating
  expect_format_error([&] { parse_bytes(huge); }, "limit");
}

TEST(Npy, TruncatedAndLyingFilesAreFormatErrorsNamingTheFile) {
  const std::string dir = make_temp_dir("npy");
  const std::string good = dir + "/good.npy";
  write_npy(good, sample_tensor(at::kFloat, {16, 16}));
  std::ifstream in(good, std::ios::binary);
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{9}, std::size_t{40}, std::size_t{64}, bytes.size() - 1}) {
    const std::string cut = dir + "/cut" + std::to_string(keep) + ".npy";
    write_file(cut, std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + keep));
    expect_format_error([&] { read_npy(cut); }, cut);
  }
  // A header declaring far more data than the file holds is refused before allocating.
  const std::string lying = dir + "/lying.npy";
  write_file(lying, craft_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000), }",
                              std::vector<std::uint8_t>(64)));
  expect_format_error([&] { read_npy(lying); }, lying);
}

TEST(Npy, Bfloat16IsRefusedOnWrite) {
  const std::string path = make_temp_dir("npy") + "/bf16.npy";
  expect_format_error([&] { write_npy(path, at::zeros({2}, at::kBFloat16)); }, path);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Npy, HeaderTextMatchesNumpyConventions) {
  const auto header = format_npy_header(at::kFloat, {3, 4}, false);
  ASSERT_GE(header.size(), 10u);
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(header[6], 1);
  EXPECT_EQ(header.back(), '\n');
  const std::string text(header.begin() + 10, header.end());
  EXPECT_EQ(text.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 0), 0u) << text;
  const auto one_d = format_npy_header(at::kByte, {5}, true);
  EXPECT_NE(
      std::string(one_d.begin(), one_d.end()).find("'descr': '|u1', 'fortran_order': True, 'shape': (5,)"),
      std::string::npos);
}

}  // namespace
}  // namespace sagbench::io
