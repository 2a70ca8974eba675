// Tests of the torch.save readers (src/io/torch_checkpoint.h): every fixture
// checkpoint against counts/shapes/values read independently with Python's
// zipfile + pickle (noted beside each constant), hand-built zip and legacy
// files for views, shared storages, dtypes and nesting, and damaged or
// hostile files, which must raise kFormat naming the file.
#include "io/torch_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/zip_reader.h"
#include "support/fixtures.h"
#include "torch_test_files.h"

namespace sagbench::io {
namespace {

using ::testing::HasSubstr;
using testing::PickleBuilder;
using testing::TensorDecl;

std::int64_t total_numel(const TensorDict& dict) {
  std::int64_t n = 0;
  for (const auto& item : dict.items()) {
    n += item.second.numel();
  }
  return n;
}

template <typename Load>
void expect_format_error(Load load, const std::string& path, const std::vector<std::string>& fragments) {
  try {
    load(path);
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(path));
    for (const std::string& fragment : fragments) {
      EXPECT_THAT(e.what(), HasSubstr(fragment));
    }
  }
}

// Expected values: len(sd), sum of numel, first/last key shapes, from Python.
struct FixtureCase {
  const char* file;
  std::size_t count;
  std::int64_t numel;
  const char* last_name;
  std::vector<std::int64_t> last_shape;
};

TEST(TorchCheckpoint, FixtureZipCheckpointsLoad) {
  const std::vector<FixtureCase> cases = {
      {"adm_tiny_uncond.pt", 216, 1422278, "out.2.bias", {6}},
      {"adm_tiny_cond.pt", 217, 1550278, "out.2.bias", {6}},
      {"adm_tiny_cond_classifier.pt", 103, 644200, "out.2.c_proj.bias", {1000}},
  };
  for (const FixtureCase& c : cases) {
    const std::string path = sagbench::testing::fixture_path(c.file);
    TensorDict dict = load_torch_zip(path);
    EXPECT_EQ(dict.size(), c.count) << c.file;
    EXPECT_EQ(total_numel(dict), c.numel) << c.file;
    EXPECT_EQ(dict.items().front().first, "time_embed.0.weight");
    EXPECT_EQ(dict.items().front().second.sizes().vec(), (std::vector<std::int64_t>{128, 32}));
    EXPECT_EQ(dict.items().back().first, c.last_name);
    EXPECT_EQ(dict.items().back().second.sizes().vec(), c.last_shape);
    for (const auto& [name, tensor] : dict.items()) {
      EXPECT_EQ(tensor.scalar_type(), at::kFloat) << name;
      EXPECT_TRUE(tensor.is_contiguous()) << name;
    }
    // describe() agrees with load() without reading data.
    const std::vector<TensorInfo> infos = describe_torch_zip(path);
    ASSERT_EQ(infos.size(), dict.size());
    for (std::size_t i = 0; i < infos.size(); ++i) {
      EXPECT_EQ(infos[i].name, dict.items()[i].first);
      EXPECT_EQ(infos[i].shape, dict.items()[i].second.sizes().vec());
    }
  }
}

TEST(TorchCheckpoint, FixtureValuesMatchPython) {
  TensorDict dict = load_torch_zip(sagbench::testing::fixture_path("adm_tiny_cond.pt"));
  EXPECT_EQ(dict.at("label_emb.weight").sizes().vec(), (std::vector<std::int64_t>{1000, 128}));
  // np.frombuffer(zip.read('adm_tiny_cond/data/<key of out.2.bias>'), '<f4'): exact float32 values.
  const std::vector<float> expected = {-0.0435730442404747f,   0.022757936269044876f,  0.026450688019394875f,
                                       -0.007433752994984388f, 0.0017998198745772243f, 0.041085418313741684f};
  const at::Tensor bias = dict.at("out.2.bias");
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(bias[static_cast<std::int64_t>(i)].item<float>(), expected[i]);
  }
}

TEST(TorchCheckpoint, LegacyFidInceptionLoads) {
  const std::string path = sagbench::testing::build_fixture_path("fid_inception_random.pth");
  TensorDict dict = load_torch_legacy(path);
  EXPECT_EQ(dict.size(), 472u);
  EXPECT_EQ(total_numel(dict), 23885392);  // sum of numel by Python's pickle
  EXPECT_EQ(dict.items().front().first, "Conv2d_1a_3x3.conv.weight");
  EXPECT_EQ(dict.at("Conv2d_1a_3x3.conv.weight").sizes().vec(), (std::vector<std::int64_t>{32, 3, 3, 3}));
  EXPECT_EQ(dict.at("fc.weight").sizes().vec(), (std::vector<std::int64_t>{1008, 2048}));
  EXPECT_EQ(dict.items().back().first, "fc.bias");
  EXPECT_EQ(describe_torch_legacy(path).size(), 472u);
  EXPECT_TRUE(dict.at("fc.weight").isfinite().all().item<bool>());
}

class HandBuilt : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sagbench::testing::make_temp_dir("torchckpt"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

TEST_F(HandBuilt, ViewsOffsetsStridesAndSharedStorage) {
  const at::Tensor storage = at::arange(12, at::kFloat);  // values 0..11
  const std::vector<TensorDecl> tensors = {
      {"full", "FloatStorage", "0", 12, 0, {3, 4}, {4, 1}},
      {"transposed", "FloatStorage", "0", 12, 0, {4, 3}, {1, 4}},
      {"strided", "FloatStorage", "0", 12, 5, {3}, {2}},
      {"expanded", "FloatStorage", "0", 12, 1, {2, 2}, {0, 1}},
      {"tail", "FloatStorage", "0", 12, 10, {2}, {1}},
  };
  const std::string file = path("views.pt");
  testing::write_torch_zip(file, "views", testing::state_dict_pickle(tensors),
                           {{"0", testing::tensor_bytes(storage)}});
  TensorDict dict = load_torch_zip(file);
  ASSERT_EQ(dict.size(), 5u);
  // Element [i][j] of a view is storage[offset + i*stride0 + j*stride1] = that index.
  EXPECT_TRUE(dict.at("full").equal(at::arange(12, at::kFloat).reshape({3, 4})));
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(dict.at("transposed")[i][j].item<float>(), static_cast<float>(i + 4 * j));
    }
  }
  EXPECT_TRUE(dict.at("transposed").is_contiguous());
  EXPECT_EQ(dict.at("strided").sizes().vec(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(dict.at("strided")[2].item<float>(), 9.0f);
  EXPECT_EQ(dict.at("expanded")[1][1].item<float>(), 2.0f);
  EXPECT_EQ(dict.at("tail")[1].item<float>(), 11.0f);
}

TEST_F(HandBuilt, EveryStorageDtype) {
  struct Case {
    const char* type;
    at::ScalarType dtype;
  };
  const std::vector<Case> cases = {{"FloatStorage", at::kFloat},       {"HalfStorage", at::kHalf},
                                   {"BFloat16Storage", at::kBFloat16}, {"DoubleStorage", at::kDouble},
                                   {"LongStorage", at::kLong},         {"IntStorage", at::kInt},
                                   {"ByteStorage", at::kByte},         {"BoolStorage", at::kBool}};
  std::vector<TensorDecl> tensors;
  testing::StorageBytes storages;
  std::vector<at::Tensor> expected;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    at::Tensor values =
        (at::arange(6, at::kDouble) * 3 - 7).remainder(static_cast<double>(2 + i)).to(cases[i].dtype);
    expected.push_back(values);
    const std::string key = std::to_string(i);
    tensors.push_back({std::string("t_") + cases[i].type, cases[i].type, key, 6, 0, {2, 3}, {3, 1}});
    storages.emplace_back(key, testing::tensor_bytes(values));
  }
  const std::string file = path("dtypes.pt");
  testing::write_torch_zip(file, "archive", testing::state_dict_pickle(tensors), storages);
  TensorDict dict = load_torch_zip(file);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const at::Tensor& t = dict.at(tensors[i].name);
    EXPECT_EQ(t.scalar_type(), cases[i].dtype) << cases[i].type;
    EXPECT_TRUE(t.equal(expected[i].reshape({2, 3}))) << cases[i].type;
  }
}

TEST_F(HandBuilt, NestedPlainDictIsFlattenedAndMetadataSkipped) {
  // {"epoch": 3, "state_dict": {"w": tensor, "p": Parameter(tensor)}} with any archive name.
  PickleBuilder p;
  p.proto().empty_dict().mark().str("epoch").integer(3).str("state_dict").empty_dict().mark().str("w");
  testing::add_tensor(p, {"w", "FloatStorage", "k0", 4, 0, {4}, {1}}, false);
  p.str("p").global("torch._utils", "_rebuild_parameter");
  p.mark();
  testing::add_tensor(p, {"p", "FloatStorage", "k0", 4, 2, {2}, {1}}, false);
  p.boolean(true).ordered_dict().tuple().reduce();
  p.setitems().setitems().stop();
  const std::string file = path("nested.pt");
  testing::write_torch_zip(file, "any_name-1", p.bytes(),
                           {{"k0", testing::tensor_bytes(at::arange(4, at::kFloat))}});
  TensorDict dict = load_torch_zip(file);
  EXPECT_EQ(dict.names(), (std::vector<std::string>{"state_dict.w", "state_dict.p"}));
  EXPECT_EQ(dict.at("state_dict.p")[0].item<float>(), 2.0f);
}

TEST_F(HandBuilt, LegacyWithViewMetadata) {
  // The legacy pid's sixth item (view_key, offset, size) selects part of a root storage.
  PickleBuilder p;
  p.proto().empty_dict().mark().str("a");
  testing::add_tensor(p, {"a", "FloatStorage", "r", 8, 1, {2}, {1}}, true);
  p.str("b").global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", "FloatStorage").str("r").str("cpu").integer(8);
  p.mark().str("v").integer(4).integer(3).tuple().tuple().op('Q');
  p.integer(1).int_tuple({2}).int_tuple({1}).boolean(false).ordered_dict().tuple().reduce();
  p.setitems().stop();
  const std::string file = path("legacy_views.pth");
  testing::write_bytes(file, testing::legacy_file_bytes(
                                 p.bytes(), {{"r", testing::tensor_bytes(at::arange(8, at::kFloat))}}, {8}));
  TensorDict dict = load_torch_legacy(file);
  EXPECT_TRUE(dict.at("a").equal(at::tensor({1.0f, 2.0f})));
  EXPECT_TRUE(dict.at("b").equal(at::tensor({5.0f, 6.0f})));  // root offset 4 + tensor offset 1
}

TEST_F(HandBuilt, HostileTensorGeometry) {
  const std::string bytes = testing::tensor_bytes(at::arange(6, at::kFloat));
  struct Case {
    TensorDecl tensor;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{"past_end", "FloatStorage", "0", 6, 4, {3}, {1}}, "reaches past"},
      {{"stride_past", "FloatStorage", "0", 6, 0, {2, 3}, {3, 2}}, "reaches past"},
      {{"negative_size", "FloatStorage", "0", 6, 0, {-2, 3}, {3, 1}}, "size -2"},
      {{"negative_stride", "FloatStorage", "0", 6, 5, {2}, {-1}}, "stride -1"},
      {{"negative_offset", "FloatStorage", "0", 6, -1, {1}, {1}}, "starts at element -1"},
      {{"offset_out", "FloatStorage", "0", 6, 7, {0}, {1}}, "starts at element 7"},
      {{"too_many", "FloatStorage", "0", 6, 0, {1000000, 1000000}, {0, 0}}, "more elements"},
      {{"rank_mismatch", "FloatStorage", "0", 6, 0, {6}, {1, 1}}, "1 sizes but 2 strides"},
      {{"huge_storage", "FloatStorage", "0", std::int64_t{1} << 61, 0, {1}, {1}}, "declares"},
      {{"entry_size", "FloatStorage", "0", 7, 0, {6}, {1}}, "holds 24 bytes"},
      {{"complex", "ComplexFloatStorage", "0", 3, 0, {3}, {1}}, "torch.ComplexFloatStorage"},
  };
  for (const Case& c : cases) {
    const std::string file = path(c.tensor.name + ".pt");
    testing::write_torch_zip(file, "a", testing::state_dict_pickle({c.tensor}), {{"0", bytes}});
    expect_format_error(load_torch_zip, file, {c.fragment});
    expect_format_error(describe_torch_zip, file, {c.fragment});
  }
}

TEST_F(HandBuilt, StridedCopiesAreBounded) {
  // 16 MB of storage viewed transposed 20 times would copy 320 MB; the reader
  // allows twice the storage plus 64 MB of copies, then stops.
  const std::int64_t n = 2048;
  std::vector<TensorDecl> views;
  for (int i = 0; i < 20; ++i) {
    views.push_back({"t" + std::to_string(i), "FloatStorage", "0", n * n, 0, {n, n}, {1, n}});
  }
  const std::string file = path("transposes.pt");
  testing::write_torch_zip(file, "a", testing::state_dict_pickle(views),
                           {{"0", testing::tensor_bytes(at::zeros({n, n}, at::kFloat))}});
  expect_format_error(load_torch_zip, file, {"bytes of copies", "'t6'"});
}

TEST_F(HandBuilt, HostileArchives) {
  const std::string bytes = testing::tensor_bytes(at::arange(6, at::kFloat));
  const std::vector<TensorDecl> ok = {{"w", "FloatStorage", "0", 6, 0, {6}, {1}}};
  // Storage entry missing.
  testing::write_torch_zip(path("missing.pt"), "a", testing::state_dict_pickle(ok), {});
  expect_format_error(load_torch_zip, path("missing.pt"), {"no entry 'a/data/0'"});
  // A plain zip without data.pkl.
  io::ZipWriter(path("nopkl.pt")).finish();
  expect_format_error(load_torch_zip, path("nopkl.pt"), {"data.pkl"});
  // The pickled object is a list, not a dict.
  PickleBuilder list;
  list.proto().empty_list().stop();
  testing::write_torch_zip(path("list.pt"), "a", list.bytes(), {});
  expect_format_error(load_torch_zip, path("list.pt"), {"not a dict of tensors"});
  // A malicious global inside data.pkl.
  PickleBuilder evil;
  evil.proto().global("os", "system").mark().str("echo pwned").tuple().reduce().stop();
  testing::write_torch_zip(path("evil.pt"), "a", evil.bytes(), {});
  expect_format_error(load_torch_zip, path("evil.pt"), {"os.system", "not allowed"});
  // A non-tensor object as a value.
  PickleBuilder obj;
  obj.proto().empty_dict().str("x").global("torch", "FloatStorage").empty_tuple().reduce().setitem().stop();
  testing::write_torch_zip(path("obj.pt"), "a", obj.bytes(), {});
  expect_format_error(load_torch_zip, path("obj.pt"), {"'x' is built by 'torch.FloatStorage'"});
}

TEST_F(HandBuilt, DamagedFixtureCopies) {
  const std::string original = testing::read_bytes(sagbench::testing::fixture_path("adm_tiny_uncond.pt"));
  // Truncated at a few points, and with the central directory's signature overwritten.
  for (std::size_t keep : {std::size_t{0}, std::size_t{100}, original.size() / 2, original.size() - 1}) {
    const std::string file = path("truncated_" + std::to_string(keep) + ".pt");
    testing::write_bytes(file, original.substr(0, keep));
    expect_format_error(load_torch_zip, file, {});
  }
  std::string bad_directory = original;
  const std::size_t central = bad_directory.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  bad_directory[central + 2] = 'X';
  testing::write_bytes(path("bad_directory.pt"), bad_directory);
  expect_format_error(load_torch_zip, path("bad_directory.pt"), {});
}

TEST_F(HandBuilt, HostileLegacyFiles) {
  const at::Tensor values = at::arange(6, at::kFloat);
  const std::string object = testing::state_dict_pickle({{"w", "FloatStorage", "s", 6, 0, {6}, {1}}}, true);
  const testing::StorageBytes storages = {{"s", testing::tensor_bytes(values)}};
  const std::string good = testing::legacy_file_bytes(object, storages, {6});
  testing::write_bytes(path("good.pth"), good);
  EXPECT_TRUE(load_torch_legacy(path("good.pth")).at("w").equal(values));
  // Every truncation fails (the last 24 bytes are storage data: "truncated").
  for (std::size_t keep = 0; keep < good.size(); ++keep) {
    testing::write_bytes(path("cut.pth"), good.substr(0, keep));
    expect_format_error(load_torch_legacy, path("cut.pth"), {});
  }
  testing::write_bytes(path("cut.pth"), good.substr(0, good.size() - 1));
  expect_format_error(load_torch_legacy, path("cut.pth"), {"truncated", "storage 's'"});
  // Wrong magic number.
  std::string bad_magic = good;
  bad_magic[5] = '\x00';
  testing::write_bytes(path("magic.pth"), bad_magic);
  expect_format_error(load_torch_legacy, path("magic.pth"), {"bad magic number"});
  // Element count in the file disagrees with the pickle.
  testing::write_bytes(path("count.pth"), testing::legacy_file_bytes(object, storages, {5}));
  expect_format_error(load_torch_legacy, path("count.pth"), {"holds 5 elements"});
  // A huge element count is checked before any allocation.
  const std::string huge_object =
      testing::state_dict_pickle({{"w", "FloatStorage", "s", std::int64_t{1} << 40, 0, {6}, {1}}}, true);
  testing::write_bytes(path("huge.pth"),
                       testing::legacy_file_bytes(huge_object, storages, {std::int64_t{1} << 40}));
  expect_format_error(load_torch_legacy, path("huge.pth"), {"needs 4398046511104 bytes"});
  // Keys naming a storage no tensor declares, or missing the declared one.
  testing::write_bytes(path("keys.pth"),
                       testing::legacy_file_bytes(object, {{"zz", storages[0].second}}, {6}));
  expect_format_error(load_torch_legacy, path("keys.pth"), {"'zz'"});
  testing::write_bytes(path("nokeys.pth"), testing::legacy_file_bytes(object, {}, {}));
  expect_format_error(load_torch_legacy, path("nokeys.pth"), {"storage 's' has no data"});
}

}  // namespace
}  // namespace sagbench::io
