// Tests for config/document.h: sources (file:line:column) on every value,
// includes (relative paths, lists, nested maps, deep merge, cycles, missing
// files), YAML syntax errors, duplicate keys and `a.b=v` overrides.
#include "config/document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench::config {
namespace {
namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// The message of the kConfig error thrown by fn (fails the test otherwise).
template <class Fn>
std::string config_error(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

std::string scalar_at(const Document& doc, const std::string& key_path) {
  const Node* node = doc.find(key_path);
  EXPECT_NE(node, nullptr) << key_path;
  if (node == nullptr) {
    return "";
  }
  EXPECT_EQ(node->kind, NodeKind::kScalar) << key_path;
  return node->scalar;
}

TEST(Document, ValuesKeepFileLineAndColumn) {
  Document doc = parse_document("a:\n  b: 3\n  c: [x, y]\n", "t.yaml");
  const Node* b = doc.find("a.b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->scalar, "3");
  EXPECT_EQ(b->source.describe(), "t.yaml:2:6");
  EXPECT_EQ(b->key_source.describe(), "t.yaml:2:3");
  EXPECT_EQ(scalar_at(doc, "a.c.1"), "y");
  EXPECT_EQ(doc.find("a.c.2"), nullptr);
  EXPECT_EQ(doc.find("a.b.c"), nullptr);
  EXPECT_FALSE(doc.has("z"));
}

TEST(Document, EmptyTextIsAnEmptyMap) {
  Document doc = parse_document("", "empty.yaml");
  EXPECT_EQ(doc.root().kind, NodeKind::kMap);
  EXPECT_TRUE(doc.root().keys.empty());
}

TEST(Document, RejectsNonMapRootSyntaxErrorsAndDuplicateKeys) {
  EXPECT_THAT(config_error([] { parse_document("- 1\n- 2\n", "list.yaml"); }),
              AllOf(HasSubstr("list.yaml"), HasSubstr("must be a map")));
  EXPECT_THAT(config_error([] { parse_document("a: 1\nb: [1, 2\n", "bad.yaml"); }),
              AllOf(HasSubstr("bad.yaml:"), HasSubstr("YAML syntax error")));
  EXPECT_THAT(config_error([] { parse_document("a: 1\nb: 2\na: 3\n", "dup.yaml"); }),
              AllOf(HasSubstr("dup.yaml:3:1"), HasSubstr("duplicate key 'a'"), HasSubstr("dup.yaml:1:1")));
}

TEST(Document, MissingFileIsAConfigError) {
  EXPECT_THAT(config_error([] { load_document("/nonexistent/sagbench.yaml"); }),
              HasSubstr("/nonexistent/sagbench.yaml"));
}

TEST(Document, IncludeDeepMergesWithIncludingFileWinning) {
  const fs::path dir = sagbench::testing::make_temp_dir("config_include");
  write_text(dir / "presets" / "base.yaml",
             "model:\n  image_size: 64\n  channel_mult: [1, 2, 3]\n  blur: {sigma: 1.0, kernel_size: 9}\n"
             "name: base\n");
  write_text(dir / "run.yaml",
             "include: presets/base.yaml\nmodel:\n  channel_mult: [1, 2]\n  blur: {sigma: 3.0}\n");
  Document doc = load_document((dir / "run.yaml").string());
  EXPECT_EQ(scalar_at(doc, "name"), "base");
  EXPECT_EQ(scalar_at(doc, "model.image_size"), "64");
  EXPECT_EQ(scalar_at(doc, "model.blur.sigma"), "3.0");
  EXPECT_EQ(scalar_at(doc, "model.blur.kernel_size"), "9");
  const Node* mult = doc.find("model.channel_mult");  // lists are replaced, not merged
  ASSERT_NE(mult, nullptr);
  EXPECT_EQ(mult->items.size(), 2u);
  EXPECT_FALSE(doc.has("include"));
  ASSERT_EQ(doc.files().size(), 2u);
  EXPECT_EQ(doc.files()[0], (dir / "run.yaml").string());
  // Sources point at the file that wrote each value.
  EXPECT_THAT(doc.find("model.image_size")->source.describe(), HasSubstr("base.yaml:2:"));
  EXPECT_THAT(doc.find("model.blur.sigma")->source.describe(), HasSubstr("run.yaml:4:"));
}

TEST(Document, IncludeListAppliesInOrderAndNestsRelativeToEachFile) {
  const fs::path dir = sagbench::testing::make_temp_dir("config_include_list");
  write_text(dir / "a" / "first.yaml", "include: ../common/shared.yaml\nx: first\ny: first\n");
  write_text(dir / "common" / "shared.yaml", "z: shared\nx: shared\n");
  write_text(dir / "b" / "second.yaml", "y: second\n");
  write_text(dir / "top.yaml", "include: [a/first.yaml, b/second.yaml]\n");
  Document doc = load_document((dir / "top.yaml").string());
  EXPECT_EQ(scalar_at(doc, "x"), "first");
  EXPECT_EQ(scalar_at(doc, "y"), "second");
  EXPECT_EQ(scalar_at(doc, "z"), "shared");
  EXPECT_EQ(doc.files().size(), 4u);
}

TEST(Document, IncludeInsideANestedMap) {
  const fs::path dir = sagbench::testing::make_temp_dir("config_include_nested");
  write_text(dir / "model.yaml", "image_size: 32\nnum_channels: 128\n");
  write_text(dir / "run.yaml", "model:\n  include: model.yaml\n  num_channels: 64\n");
  Document doc = load_document((dir / "run.yaml").string());
  EXPECT_EQ(scalar_at(doc, "model.image_size"), "32");
  EXPECT_EQ(scalar_at(doc, "model.num_channels"), "64");
}

TEST(Document, IncludeCycleAndMissingIncludeAreErrors) {
  const fs::path dir = sagbench::testing::make_temp_dir("config_include_cycle");
  write_text(dir / "a.yaml", "include: b.yaml\n");
  write_text(dir / "b.yaml", "x: 1\ninclude: a.yaml\n");
  EXPECT_THAT(config_error([&] { load_document((dir / "a.yaml").string()); }),
              AllOf(HasSubstr("include cycle"), HasSubstr("b.yaml:2:1")));
  write_text(dir / "c.yaml", "\ninclude: missing.yaml\n");
  EXPECT_THAT(config_error([&] { load_document((dir / "c.yaml").string()); }),
              AllOf(HasSubstr("c.yaml:2:10"), HasSubstr("missing.yaml")));
  write_text(dir / "d.yaml", "include: {x: 1}\n");
  EXPECT_THAT(config_error([&] { load_document((dir / "d.yaml").string()); }),
              HasSubstr("'include' must be a file name"));
}

TEST(Document, OverridesSetNestedKeysListsAndCreateMaps) {
  Document doc =
      parse_document("model:\n  image_size: 64\n  mult: [1, 2]\n  stages: [{s: 1}, {s: 2}]\n", "t.yaml",
                     {"model.image_size=128", "model.mult=[4, 5, 6]", "new.deep.key=hello",
                      "model.stages.1.s=9", "model.name=", "model.mult2=1,2,2"});
  EXPECT_EQ(scalar_at(doc, "model.image_size"), "128");
  EXPECT_EQ(doc.find("model.mult")->items.size(), 3u);
  EXPECT_EQ(scalar_at(doc, "model.mult.2"), "6");
  EXPECT_EQ(scalar_at(doc, "new.deep.key"), "hello");
  EXPECT_EQ(scalar_at(doc, "model.stages.1.s"), "9");
  EXPECT_EQ(scalar_at(doc, "model.stages.0.s"), "1");
  EXPECT_EQ(scalar_at(doc, "model.name"), "");
  EXPECT_EQ(scalar_at(doc, "model.mult2"), "1,2,2");
  EXPECT_EQ(doc.find("model.image_size")->source.describe(), "override 'model.image_size=128'");
  EXPECT_EQ(doc.find("new.deep")->key_source.describe(), "override 'new.deep.key=hello'");
  EXPECT_EQ(doc.overrides().size(), 6u);
}

TEST(Document, MalformedOverridesAreErrors) {
  EXPECT_THAT(config_error([] { parse_document("a: 1\n", "t.yaml", {"a"}); }),
              HasSubstr("expected key.path=value"));
  EXPECT_THAT(config_error([] { parse_document("a: 1\n", "t.yaml", {"=3"}); }),
              HasSubstr("expected key.path=value"));
  EXPECT_THAT(config_error([] { parse_document("a: 1\n", "t.yaml", {"a..b=3"}); }),
              HasSubstr("empty segment"));
  EXPECT_THAT(config_error([] { parse_document("a: 1\n", "t.yaml", {"a.b=3"}); }),
              AllOf(HasSubstr("'a' is a scalar"), HasSubstr("t.yaml:1:4")));
  EXPECT_THAT(config_error([] { parse_document("a: [1]\n", "t.yaml", {"a.3=3"}); }),
              HasSubstr("not an index"));
  EXPECT_THAT(config_error([] { parse_document("a: 1\n", "t.yaml", {"a=[1, 2"}); }),
              HasSubstr("not valid YAML"));
}

TEST(Document, SplitKeyPath) {
  EXPECT_EQ(split_key_path("a.b.0"), (std::vector<std::string>{"a", "b", "0"}));
  EXPECT_TRUE(split_key_path("").empty());
}

}  // namespace
}  // namespace sagbench::config
