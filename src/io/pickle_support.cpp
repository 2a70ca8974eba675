// Support for the restricted unpickler (see pickle.h): value names and
// descriptions for error messages, the byte inputs (memory, file), and the
// whitelist of globals that torch.save emits. Tested by
// tests/io/pickle_test.cpp and the fuzz targets.
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "io/pickle.h"

namespace sagbench::io::pickle {

std::string printable(const std::string& text, std::size_t max_chars) {
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    out += (c >= 32 && c < 127) ? c : '?';
  }
  if (text.size() > max_chars) {
    out += "...";
  }
  return out;
}

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNone:
      return "None";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
    case ValueKind::kBigInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kString:
      return "str";
    case ValueKind::kBytes:
      return "bytes";
    case ValueKind::kTuple:
      return "tuple";
    case ValueKind::kList:
      return "list";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kDict:
      return "dict";
    case ValueKind::kGlobal:
      return "global";
    case ValueKind::kObject:
      return "object";
    case ValueKind::kPersistent:
      return "persistent id";
  }
  return "value";
}

std::string describe(const Value& value) {
  const char* name = value_kind_name(value.kind);
  switch (value.kind) {
    case ValueKind::kInt:
      return fmt::format("int {}", value.int_value);
    case ValueKind::kString:
    case ValueKind::kGlobal:
    case ValueKind::kObject:
      return fmt::format("{} '{}'", name, printable(value.text));
    case ValueKind::kTuple:
    case ValueKind::kList:
    case ValueKind::kSet:
      return fmt::format("{} of {}", name, value.items.size());
    case ValueKind::kDict:
      return fmt::format("{} of {}", value.ordered ? "OrderedDict" : "dict", value.entries.size());
    default:
      return name;
  }
}

std::size_t MemoryInput::read(void* dst, std::size_t bytes) {
  const std::size_t n = std::min(bytes, size_ - pos_);
  if (n > 0) {
    std::memcpy(dst, data_ + pos_, n);
  }
  pos_ += n;
  return n;
}

FileInput::FileInput(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  SAG_REQUIRE(file_ != nullptr, kIo, "{}: cannot open file: {}", path, std::strerror(errno));
  const bool sized = std::fseek(file_, 0, SEEK_END) == 0;
  const long end = sized ? std::ftell(file_) : -1;
  if (end < 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
    std::fclose(file_);
    SAG_FAIL(kIo, "{}: cannot determine the file size", path);
  }
  size_ = static_cast<std::uint64_t>(end);
}

FileInput::~FileInput() {
  std::fclose(file_);
}

std::size_t FileInput::read(void* dst, std::size_t bytes) {
  const std::size_t n = std::fread(dst, 1, bytes, file_);
  pos_ += n;
  return n;
}

void FileInput::skip(std::uint64_t bytes) {
  SAG_REQUIRE(bytes <= remaining(), kFormat, "{}: truncated file: needs {} more bytes at byte {}, has {}",
              path_, bytes, pos_, remaining());
  SAG_REQUIRE(std::fseek(file_, static_cast<long>(pos_ + bytes), SEEK_SET) == 0, kIo,
              "{}: cannot seek to byte {}", path_, pos_ + bytes);
  pos_ += bytes;
}

const std::vector<std::string>& torch_allowed_globals() {
  static const std::vector<std::string> globals = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch._tensor._rebuild_from_type_v2",
      "torch.Tensor",
      "torch.nn.parameter.Parameter",
      "torch.FloatStorage",
      "torch.HalfStorage",
      "torch.BFloat16Storage",
      "torch.DoubleStorage",
      "torch.LongStorage",
      "torch.IntStorage",
      "torch.ShortStorage",
      "torch.CharStorage",
      "torch.ByteStorage",
      "torch.BoolStorage",
  };
  return globals;
}

}  // namespace sagbench::io::pickle
