// Tests for core/atomic_write.h: content written whole, replacing allowed or
// refused, no temporary file left behind after success or failure, and clear
// kIo errors naming the path.
#include "core/atomic_write.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "support/fixtures.h"

namespace sagbench {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

template <class Fn>
std::string io_error(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

TEST(AtomicWrite, WritesBinaryContentAndLeavesNoTemporaryFile) {
  const fs::path dir = sagbench::testing::make_temp_dir("atomic_write");
  std::string bytes(1 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  }
  const std::string path = (dir / "data.bin").string();
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"data.bin"});
  write_file_atomic(path, "");  // replacing is allowed by default, also with an empty file
  EXPECT_EQ(fs::file_size(path), 0u);
  EXPECT_EQ(entries(dir), std::vector<std::string>{"data.bin"});
}

TEST(AtomicWrite, ReplaceNeverRefusesAnExistingFileAndKeepsIt) {
  const fs::path dir = sagbench::testing::make_temp_dir("atomic_never");
  const std::string path = (dir / "metrics.json").string();
  write_file_atomic(path, "first", Replace::kNever);
  EXPECT_THAT(io_error([&] { write_file_atomic(path, "second", Replace::kNever); }),
              HasSubstr("refusing to overwrite existing file '" + path + "'"));
  EXPECT_EQ(read_file(path), "first");
  EXPECT_EQ(entries(dir), std::vector<std::string>{"metrics.json"});
}

TEST(AtomicWrite, FailuresNameThePathAndLeaveNothing) {
  const fs::path dir = sagbench::testing::make_temp_dir("atomic_fail");
  const std::string missing_dir = (dir / "no" / "such" / "dir" / "x.txt").string();
  EXPECT_THAT(io_error([&] { write_file_atomic(missing_dir, "x"); }), HasSubstr(missing_dir));
  fs::create_directories(dir / "target_is_dir");
  const std::string onto_dir = (dir / "target_is_dir").string();
  EXPECT_THAT(io_error([&] { write_file_atomic(onto_dir, "x"); }), HasSubstr(onto_dir));
  EXPECT_EQ(entries(dir), std::vector<std::string>{"target_is_dir"});
  EXPECT_TRUE(fs::is_empty(dir / "target_is_dir"));
}

TEST(AtomicWrite, ReadFileErrors) {
  const fs::path dir = sagbench::testing::make_temp_dir("atomic_read");
  EXPECT_THAT(io_error([&] { read_file((dir / "absent").string()); }), HasSubstr("no such file"));
  EXPECT_THAT(io_error([&] { read_file(dir.string()); }), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace sagbench
