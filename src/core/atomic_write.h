// Whole files that appear complete or not at all: the bytes go to a temporary
// file in the target's directory, are fsync'ed, then renamed over the target
// (or, with Replace::kNever, hard-linked, so an existing file is never
// overwritten even by a concurrent writer), and the directory is fsync'ed.
// On any failure the temporary file is removed. (Streaming writers of large
// tensor files use io/atomic_file.h.) Tested by tests/core/atomic_write_test.cpp.
#pragma once

#include <string>
#include <string_view>

namespace sagbench {

enum class Replace { kAllowed, kNever };

// kIo error naming the file on failure, or when Replace::kNever and it exists.
void write_file_atomic(const std::string& path, std::string_view bytes, Replace replace = Replace::kAllowed);

// Makes a rename or link into `path`'s directory durable (fsync of the
// directory; best effort, as some file systems refuse it).
void sync_parent_directory(const std::string& path);

// Reads a whole file (kIo error naming it when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace sagbench
