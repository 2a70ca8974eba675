// docs/guidance.md lists every key of every registered guidance term (as
// `name.key` in its table), so the documentation cannot fall behind the code:
// a new key or a new registry entry fails here until the table names it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "guidance/guidance.h"

namespace sagbench::guidance {
namespace {

std::string read_docs() {
  const std::filesystem::path root =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  std::ifstream in(root / "docs" / "guidance.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(GuidanceDocs, TableListsEveryRegisteredKey) {
  const std::string docs = read_docs();
  ASSERT_FALSE(docs.empty()) << "docs/guidance.md is missing";
  for (const auto& entry : guidance_registry()) {
    for (const auto& key : entry.schema()) {
      if (key.type_name == "map") {
        continue;  // a nested section (sag.layer); its keys are listed
      }
      const std::string cell = "| `" + std::string(entry.name) + "." + key.key_path + "` |";
      EXPECT_NE(docs.find(cell), std::string::npos) << cell << " is not in docs/guidance.md";
    }
  }
}

}  // namespace
}  // namespace sagbench::guidance
